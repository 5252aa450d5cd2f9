"""Pilot tests: the Approach panel offers the matching action and opens its screen; a few-shot
pack and transfer stages written from the TUI replay headless to the same files and rows."""

from __future__ import annotations

import json
from pathlib import Path

from textual.widgets import Button, Input, Select, Static, TextArea

from studio.cli import main
from studio.tui.app import StudioApp
from studio.tui.screens.fewshot import FewShotScreen
from studio.tui.screens.transfer import TransferScreen
from tests.transfer_fixtures import sentence as _sentence
from tests.tui.settle import settle


def sentence(seed: int) -> str:
    return _sentence(seed, n=10, vocabulary=11)


def _data(tmp_path: Path) -> Path:
    path = tmp_path / "small.jsonl"
    rows = [{"text": sentence(i), "label": ["red", "green", "blue"][i % 3]} for i in range(45)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _plain(widget: Static) -> str:
    from rich.console import Console

    console = Console(width=200, record=True)
    console.print(widget.content)
    return console.export_text()


async def test_approach_offers_fewshot_and_a_pack_written_from_the_tui_replays(
    tmp_path: Path,
) -> None:
    data = _data(tmp_path)
    folder = tmp_path / "pack"
    app = StudioApp([str(data)])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        app.query_one("#tabs").active = "tab-approach"
        await settle(app, pilot)
        pane = app.query_one("#pane-approach")
        button = pane.query_one("#approach-action", Button)
        assert str(button.label).startswith("Write a few-shot pack")
        button.focus()
        await pilot.press("enter")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, FewShotScreen)
        assert screen.query_one("#fewshot-label", Select).value == "label"
        screen.query_one("#fewshot-k", Input).value = "2"
        screen.query_one("#fewshot-eval", Input).value = "6"
        screen.query_one("#fewshot-seed", Input).value = "11"
        screen.query_one(
            "#fewshot-template", TextArea
        ).text = "Colours: {labels}\n{exemplars}\n\nText: {input}\nColour:"
        screen.query_one("#fewshot-folder", Input).value = str(folder)
        await pilot.press("ctrl+r")
        await settle(app, pilot)
        preview = _plain(screen.query_one("#fewshot-preview", Static))
        assert "6 exemplars · 6 evaluation rows" in preview
        assert "Colours: blue, green, red" in preview and "of 4,096" in preview
        await pilot.press("ctrl+o")
        await settle(app, pilot)
        assert (folder / "PROMPT.md").exists()
        await pilot.press("escape")
        await settle(app, pilot)
        assert not isinstance(app.screen, FewShotScreen)
    exemplars = [json.loads(x) for x in (folder / "exemplars.jsonl").read_text().splitlines()]
    evaluation = [json.loads(x) for x in (folder / "eval.jsonl").read_text().splitlines()]
    assert {e["label"] for e in exemplars} == {"red", "green", "blue"}
    assert not {e["source"] for e in exemplars} & {e["source"] for e in evaluation}
    # headless: the recipe rewrites the same files, and the same flags give the same pack
    again = tmp_path / "again"
    assert (
        main(
            [
                "fewshot",
                str(data),
                "--recipe",
                str(folder / "fewshot.recipe.json"),
                "-o",
                str(again),
            ]
        )
        == 0
    )
    template = tmp_path / "t.txt"
    template.write_text("Colours: {labels}\n{exemplars}\n\nText: {input}\nColour:")
    flags = tmp_path / "flags"
    args = ["fewshot", str(data), "-k", "2", "--per-label", "label", "--diverse", "--eval", "6"]
    assert main([*args, "--seed", "11", "--template", str(template), "-o", str(flags)]) == 0
    for name in ("PROMPT.md", "exemplars.jsonl", "eval.jsonl"):
        assert (again / name).read_text() == (folder / name).read_text()
        assert (flags / name).read_text() == (folder / name).read_text()


async def test_marked_rows_become_the_exemplars(tmp_path: Path) -> None:
    data = _data(tmp_path)
    app = StudioApp([str(data)])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        table = app.query_one("#pane-browse").table
        table.marked.update({4, 9})
        app.action_open_fewshot()
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, FewShotScreen)
        assert screen.query_one("#fewshot-mode", Select).value == "marked"
        screen.query_one("#fewshot-label", Select).value = ""
        await pilot.press("ctrl+r")
        await settle(app, pilot)
        assert screen.pack is not None
        assert screen.pack.exemplars["_id"].to_list() == [4, 9]
        assert not {4, 9} & set(screen.pack.eval["_id"].to_list())


async def test_transfer_screen_previews_and_writes_stages_that_replay(tmp_path: Path) -> None:
    data = _data(tmp_path)
    source = tmp_path / "src.jsonl"
    rows = [{"question": sentence(500 + i), "answer": "ok"} for i in range(20)]
    rows += [{"question": sentence(i), "answer": "copy"} for i in range(45)]  # every target row
    source.write_text("".join(json.dumps(r) + "\n" for r in rows))
    folder = tmp_path / "stages"
    app = StudioApp([str(data)])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        app.action_open_transfer()
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, TransferScreen)
        screen.query_one("#transfer-sources", Input).value = f"{source}:task=qa"
        screen.query_one("#transfer-seed", Input).value = "2"
        screen.query_one("#transfer-folder", Input).value = str(folder)
        await pilot.press("ctrl+r")
        await settle(app, pilot)
        summary = _plain(screen.query_one("#transfer-summary", Static))
        assert "label overlap" in summary and "leak:" in summary
        plan = screen.plan
        assert plan is not None
        held = plan.summaries[1].splits["validation"] + plan.summaries[1].splits["test"]
        assert plan.leaks.height == held > 0
        await pilot.press("ctrl+o")
        await settle(app, pilot)
        assert (folder / "summary.json").exists()
    stage1 = (folder / "stage1" / "train.jsonl").read_text().splitlines()
    assert len(stage1) == 65 - held
    again = tmp_path / "again"
    code = main(
        [
            "transfer",
            "--recipe",
            str(folder / "transfer.recipe.json"),
            "--target",
            str(data),
            "-o",
            str(again),
        ]
    )
    assert code == 0
    flags = tmp_path / "flags"
    code = main(
        [
            "transfer",
            "--source",
            f"{source}:task=qa",
            "--target",
            str(data),
            "--seed",
            "2",
            "-o",
            str(flags),
        ]
    )
    assert code == 0
    for name in (
        "stage1/train.jsonl",
        "stage2/train.jsonl",
        "stage2/validation.jsonl",
        "stage2/test.jsonl",
        "leaks.jsonl",
    ):
        assert (again / name).read_text() == (folder / name).read_text()
        assert (flags / name).read_text() == (folder / name).read_text()


async def test_approach_offers_the_mixture_for_several_tasks(tmp_path: Path) -> None:
    path = tmp_path / "tasks.jsonl"
    rows = [
        {"text": sentence(i), "label": ["a", "b"][i % 2], "task": ["qa", "sum", "cls"][i % 3]}
        for i in range(300)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    app = StudioApp([str(path)])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        app.query_one("#tabs").active = "tab-approach"
        await settle(app, pilot)
        button = app.query_one("#pane-approach").query_one("#approach-action", Button)
        assert str(button.label).startswith("Prepare a 3-task mixture")
        button.press()
        await settle(app, pilot)
        from studio.tui.screens.mixture import MixtureScreen

        assert isinstance(app.screen, MixtureScreen)


async def test_a_failed_preview_says_so_in_the_status_line(tmp_path: Path) -> None:
    data = _data(tmp_path)
    app = StudioApp([str(data)])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        app.push_screen(FewShotScreen())
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, FewShotScreen)
        screen.query_one("#fewshot-label", Select).value = ""
        screen.query_one("#fewshot-eval", Input).value = "100"
        await pilot.press("ctrl+r")
        await settle(app, pilot)
        notes = [n.message for n in app._notifications]
        assert any("the 45 evaluation rows take all 45 rows" in m for m in notes), notes
        status = str(screen.query_one("#fewshot-status", Static).content)
        assert status == "few-shot preview: failed (see the message)"
        # a good preview clears it
        screen.query_one("#fewshot-eval", Input).value = "5"
        await pilot.press("ctrl+r")
        await settle(app, pilot)
        assert str(screen.query_one("#fewshot-status", Static).content) == ""
