"""Several sources in the TUI: open them, add one, the Sources view, the Mixture screen; what
the TUI applies replays headless (`studio run`) to the same rows."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from textual.widgets import DataTable, Input, Select

from studio.cli import main
from studio.engine.steps.filter import LengthFilter
from studio.engine.steps.mix import DedupAcross, MixTasks
from studio.tui.app import StudioApp
from studio.tui.messages import StepRequested
from studio.tui.screens.mixture import MixtureScreen
from studio.tui.screens.picker import PickerScreen
from studio.tui.screens.prompt import PathPrompt
from studio.tui.screens.sources import SourcesScreen
from tests.tui.settle import settle


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    qa = write_jsonl(
        tmp_path / "qa.jsonl",
        [{"question": f"question number {i}", "answer": f"answer {i}"} for i in range(60)],
    )
    summ = write_jsonl(
        tmp_path / "summ.jsonl",
        [{"instruction": f"summarise {i}", "input": "doc", "output": "s"} for i in range(12)]
        + [{"instruction": "question number 3", "input": "", "output": "answer 3"}],
    )
    return qa, summ


def footer_label(screen, key: str) -> str:  # noqa: ANN001
    return next(k.description for k in screen.query("FooterKey") if k.key == key)


def table_rows(table: DataTable) -> list[list[str]]:
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def test_add_source_and_preview_mixture(files, tmp_path: Path) -> None:  # noqa: ANN001
    qa, summ = files
    app = StudioApp([str(qa)])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert app.sources is None
        # a step before adding the source becomes the first source's own recipe
        app.post_message(StepRequested(LengthFilter(column="question", min_len=18)))
        await settle(app, pilot)
        assert app.workspace.rows == 50
        # add a source through the palette action: picker, then the task-name prompt
        app.action_add_source()
        await pilot.pause()
        assert isinstance(app.screen, PickerScreen)
        app.screen.dismiss(str(summ))
        await pilot.pause()
        assert isinstance(app.screen, PathPrompt)
        app.screen.query_one(Input).value = "summarize"
        await pilot.press("enter")
        await settle(app, pilot)
        combined = app.sources
        assert combined is not None
        assert [s.task for s in combined.report.sources] == ["qa", "summarize"]
        assert app.workspace.rows == 63
        assert combined.specs[0].steps == (LengthFilter(column="question", min_len=18),)

        # the Sources view lists both with rows, shape and mapping
        await pilot.press("f7")
        await settle(app, pilot)
        assert isinstance(app.screen, SourcesScreen)
        rows = table_rows(app.screen.query_one(DataTable))
        assert rows[0][0] == "qa" and rows[0][2] == "50"
        assert "instruction←question" in rows[0][6]
        assert rows[0][4] == "1 step"
        assert rows[1][0] == "summarize" and rows[1][2] == "13"

        # the mixture screen from the Sources view: preview before applying
        await pilot.press("m")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, MixtureScreen)
        screen.query_one("#mix-rule", Select).value = "temperature"
        screen.query_one("#mix-temperature", Input).value = "2"
        screen.query_one("#mix-repeat", Input).value = "3"
        screen.query_one("#mix-total", Input).value = "60"
        await settle(app, pilot)
        preview = screen.preview
        assert preview is not None and preview.rows_out == 60
        by = {t.task: t for t in preview.tasks}
        z = 50**0.5 + 13**0.5
        assert abs(by["summarize"].rows_out - 60 * 13**0.5 / z) <= 1
        assert preview.estimated
        shown = table_rows(screen.query_one("#mix-table", DataTable))
        assert [r[0] for r in shown] == ["qa", "summarize"]
        assert shown[1][2].startswith(str(by["summarize"].rows_out))
        await pilot.press("ctrl+g")
        await settle(app, pilot)
        ws = app.workspace
        assert isinstance(ws.steps[-1], MixTasks)
        counts = dict(ws.frame.group_by("task").len().collect().iter_rows())
        assert counts == {t: by[t].rows_out for t in by}
        tui_rows = ws.frame.collect()
        recipe = tmp_path / "mix.recipe.json"
        ws.recipe().save(recipe)
        # undo takes it back
        await pilot.press("ctrl+z")
        await settle(app, pilot)
        assert app.workspace.rows == 63

    out = tmp_path / "replayed.parquet"
    assert main(["run", str(recipe), "-o", str(out)]) == 0
    assert pl.read_parquet(out).equals(tui_rows.drop("_id"))


async def test_open_several_from_command_line_and_drop_leaks(files, tmp_path: Path) -> None:  # noqa: ANN001
    qa, summ = files
    app = StudioApp([f"{qa}:task=qa", f"{summ}:task=sum"])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert app.sources is not None
        assert app.workspace.rows == 73
        app.action_open_mixture()
        await settle(app, pilot)
        assert isinstance(app.screen, MixtureScreen)
        await pilot.press("ctrl+l")  # exact duplicates across tasks: the planted row
        await settle(app, pilot)
        ws = app.workspace
        assert isinstance(ws.steps[-1], DedupAcross)
        assert ws.rows == 72
        removed = ws.removed()
        assert "in task qa" in removed["reason"][0]
        # rename a task and re-map: the steps replay on the rebuilt workspace
        app.set_source(1, task="summaries")
        await settle(app, pilot)
        assert set(app.workspace.frame.collect()["task"].unique()) == {"qa", "summaries"}
        assert app.workspace.rows == 72
        tui_rows = app.workspace.frame.collect()
        recipe = tmp_path / "r.recipe.json"
        app.workspace.recipe().save(recipe)
    out = tmp_path / "o.parquet"
    assert main(["run", str(recipe), "-o", str(out)]) == 0
    assert pl.read_parquet(out).equals(tui_rows.drop("_id"))


def test_several_paths_open_as_sources(tmp_path: Path) -> None:
    from studio.engine.errors import StudioError
    from studio.tui.app import run_app, source_specs

    assert source_specs(["a.jsonl"]) is None
    specs = source_specs(["a.jsonl:task=qa"])
    assert specs is not None and specs[0].task == "qa"
    specs = source_specs(["a.jsonl", "b.parquet"])
    assert specs is not None and [s.task_name for s in specs] == ["a", "b"]
    existing = write_jsonl(tmp_path / "a.jsonl", [{"text": "x"}])
    with pytest.raises(StudioError, match="missing.jsonl"):
        run_app([str(existing), str(tmp_path / "missing.jsonl:task=t")])


async def test_recipe_of_sources_reopens_in_the_app(files, tmp_path: Path) -> None:  # noqa: ANN001
    from studio.engine.recipe import Recipe
    from studio.engine.sources import SourceSpec, combine

    qa, summ = files
    combined = combine([SourceSpec(str(qa), "qa"), SourceSpec(str(summ), "sum")])
    step = MixTasks(rule="counts", counts=(("qa", 5), ("sum", 20)), max_repeat=2, seed=4)
    recipe = Recipe(steps=[step], source=combined.dataset.recipe_source())
    app = StudioApp([], recipe=recipe)
    app.paths = [str(qa), str(summ)]
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert app.sources is not None
        assert [s.task for s in app.sources.report.sources] == ["qa", "sum"]
        counts = dict(app.workspace.frame.group_by("task").len().collect().iter_rows())
        assert counts == {"qa": 5, "sum": 20}


async def test_renaming_a_task_carries_into_the_steps_naming_it(files, tmp_path: Path) -> None:  # noqa: ANN001
    from studio.engine.steps.filter import SqlFilter, ValuesFilter

    qa, summ = files
    app = StudioApp([f"{qa}:task=qa", f"{summ}:task=sum"])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        for step in (
            DedupAcross(),
            SqlFilter(where="task = 'sum' OR length(output) > 0"),
            ValuesFilter(column="task", values=("qa", "sum")),
            MixTasks(rule="counts", counts=(("qa", 7), ("sum", 20)), max_repeat=2, seed=3),
        ):
            app.post_message(StepRequested(step))
            await settle(app, pilot)
        assert dict(app.workspace.frame.group_by("task").len().collect().iter_rows()) == {
            "qa": 7,
            "sum": 20,
        }
        # rename `sum` with the Sources view's `t`
        await pilot.press("f7")
        await settle(app, pilot)
        assert isinstance(app.screen, SourcesScreen)
        await pilot.press("down", "t")
        await pilot.pause()
        assert isinstance(app.screen, PathPrompt)
        app.screen.query_one(Input).value = "summaries"
        await pilot.press("enter")
        await settle(app, pilot)
        notes = [n.message for n in app._notifications]
        assert not [m for m in notes if "no longer applies" in m], notes
        # SQL text is not rewritten: the user is told
        assert any(m.startswith("Step 2 (") and "names 'sum' in its SQL" in m for m in notes)
        ws = app.workspace
        assert ws.steps[2] == ValuesFilter(column="task", values=("qa", "summaries"))
        assert ws.steps[3].counts == (("qa", 7), ("summaries", 20))
        counts = dict(ws.frame.group_by("task").len().collect().iter_rows())
        assert counts == {"qa": 7, "summaries": 20}
        tui_rows = ws.frame.collect()
        recipe = tmp_path / "renamed.recipe.json"
        ws.recipe().save(recipe)
    saved = json.loads(recipe.read_text())
    assert [s["task"] for s in saved["source"]["sources"]] == ["qa", "summaries"]
    out = tmp_path / "renamed.parquet"
    assert main(["run", str(recipe), "-o", str(out)]) == 0
    assert pl.read_parquet(out).equals(tui_rows.drop("_id"))


async def test_sources_footer_keys_fit_80_columns(files) -> None:  # noqa: ANN001
    """Every footer key of the Sources view is whole at 80x24, clear of the palette key."""
    qa, summ = files
    app = StudioApp([f"{qa}:task=qa", f"{summ}:task=sum"])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("f7")
        await settle(app, pilot)
        assert isinstance(app.screen, SourcesScreen)
        keys = list(app.screen.query("FooterKey"))
        palette = next(k for k in keys if k.key == "ctrl+p")
        shown = [k for k in keys if k is not palette]
        assert {k.description for k in shown} >= {"Recipe", "Remove", "Add", "Task", "Mapping"}
        assert all(k.region.right <= palette.region.x for k in shown), [
            (k.description, k.region) for k in shown
        ]
        hint = str(app.screen.query_one("#sources-hint").content)
        assert "Esc closes" in hint and "s common shape" in hint


async def test_mixture_inputs_follow_the_rule(files) -> None:  # noqa: ANN001
    """Inputs a rule does not read are disabled and left out of its step; the filled-in weights
    restart as row counts under the counts rule (not shares read as counts)."""
    qa, summ = files
    app = StudioApp([f"{qa}:task=qa", f"{summ}:task=sum"])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        app.action_open_mixture()
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, MixtureScreen)

        def disabled() -> set[str]:
            return {w.id for w in screen.query(Input) if w.disabled}

        assert disabled() == {"mix-weights", "mix-temperature"}
        assert screen.query_one("#mix-weights", Input).value == "qa=0.5,sum=0.5"
        screen.query_one("#mix-cap", Input).value = "20"
        await settle(app, pilot)
        assert [t.rows_out for t in screen.preview.tasks] == [20, 13]
        screen.query_one("#mix-rule", Select).value = "counts"
        await settle(app, pilot)
        assert disabled() == {"mix-cap", "mix-temperature", "mix-total"}
        assert screen.query_one("#mix-weights", Input).value == "qa=60,sum=13"
        assert [t.rows_out for t in screen.preview.tasks] == [60, 13]
        step = screen.current_step()
        assert step.cap == 0 and step.counts == (("qa", 60), ("sum", 13))
        screen.query_one("#mix-rule", Select).value = "percent"
        await settle(app, pilot)
        assert disabled() == {"mix-cap", "mix-temperature"}
        assert screen.query_one("#mix-weights", Input).value == "qa=0.5,sum=0.5"
        # typed weights are kept when the rule changes
        screen.query_one("#mix-weights", Input).value = "qa=30,sum=10"
        screen.query_one("#mix-rule", Select).value = "counts"
        await settle(app, pilot)
        assert screen.query_one("#mix-weights", Input).value == "qa=30,sum=10"
        assert "not used" not in str(screen.query_one("#mix-summary").content)
        assert "tokens, ≈" in str(screen.query_one("#mix-summary").content)


def test_preview_lines_show_empty_fields(tmp_path: Path) -> None:
    from studio.engine.sources import SourceSpec, combine
    from studio.tui.screens.sources import preview_lines

    odd = write_jsonl(tmp_path / "odd.jsonl", [{"src": "some text"}])
    combined = combine([SourceSpec(str(odd), "odd")], shape="alpaca")
    lines = preview_lines(combined, "odd")
    assert "  output: (empty)" in lines and not any("None" in line for line in lines)


async def test_combined_notice_tells_ignored_columns_from_mismatches(tmp_path: Path) -> None:
    qa = write_jsonl(tmp_path / "qa.jsonl", [{"question": "q", "answer": "a", "label": "x"}] * 3)
    odd = write_jsonl(tmp_path / "odd.jsonl", [{"src": "some text"}] * 2)
    app = StudioApp([f"{qa}:task=qa", f"{odd}:task=odd"])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        notes = [n.message for n in app._notifications]
        assert "2 sources, 5 rows as alpaca; 1 mismatch, 1 column ignored (F7 lists them)" in notes


async def test_mapping_column_uses_a_wide_screen(files) -> None:  # noqa: ANN001
    qa, summ = files
    full = "instruction←instruction, input←input, output←output"
    for size, shown in (((80, 24), full[:39] + "…"), ((200, 50), full)):
        app = StudioApp([f"{qa}:task=qa", f"{summ}:task=sum"])
        async with app.run_test(size=size) as pilot:
            await settle(app, pilot)
            await pilot.press("f7")
            await settle(app, pilot)
            rows = table_rows(app.screen.query_one(DataTable))
            assert rows[1][6] == shown


async def test_add_source_picker_starts_beside_the_data_and_goes_back(files) -> None:  # noqa: ANN001
    qa, _ = files
    app = StudioApp([str(qa)])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        app.action_add_source()
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, PickerScreen)
        assert screen.folder == qa.parent.resolve()
        assert str(screen.query_one("#picker-title").content).startswith("Add a source · ")
        assert footer_label(screen, "escape") == "Back"
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, PickerScreen) and app.is_running


async def test_open_picker_with_nothing_open_says_quit(tmp_path: Path) -> None:
    app = StudioApp([], start_folder=tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, PickerScreen)
        assert footer_label(screen, "escape") == "Quit"


async def test_mixture_with_an_unknown_tokenizer_keeps_the_preview(files, tmp_path: Path) -> None:  # noqa: ANN001
    qa, summ = files
    app = StudioApp([f"{qa}:task=qa", f"{summ}:task=sum"])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        app.action_open_mixture()
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, MixtureScreen)
        field = screen.query_one("#mix-tokenizer", Input)
        field.value = str(tmp_path / "no-such-tokenizer")
        field.focus()
        await pilot.press("enter")
        await settle(app, pilot)
        assert any("no-such-tokenizer" in n.message for n in app._notifications)
        summary = str(screen.query_one("#mix-summary").content)
        assert "Counting tasks" not in summary
        assert "total: 73 → 73 rows" in summary and "tokens not counted" in summary
        assert len(table_rows(screen.query_one("#mix-table", DataTable))) == 2
        # cleared, the estimate is counted again
        field.value = ""
        await pilot.press("enter")
        await settle(app, pilot)
        assert "tokens not counted" not in str(screen.query_one("#mix-summary").content)
