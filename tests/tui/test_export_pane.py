"""The Export pane, driven by the keyboard at 80x24: map, preview, write, confirm overwrite."""

from __future__ import annotations

import json
from pathlib import Path

from textual.widgets import Input, Select, Static, TabbedContent

from studio.tui.app import StudioApp
from studio.tui.panes.export import ConfirmOverwrite, ExportPane
from tests.tui.settle import settle


async def _settle(app: StudioApp, pilot) -> None:  # noqa: ANN001
    """Let the pane's debounced preview refresh (0.3 s after an edit) start, then finish."""
    await pilot.pause(0.4)
    await settle(app, pilot)


ROWS = [
    {"instruction": f"task {i}", "input": "", "output": f"answer {i}" if i != 3 else ""}
    for i in range(6)
]


def _source(tmp_path: Path) -> Path:
    path = tmp_path / "src.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in ROWS) + "\n")
    return path


async def _open_export(app: StudioApp, pilot) -> ExportPane:  # noqa: ANN001
    await app.workers.wait_for_complete()
    await pilot.pause()
    app.query_one(TabbedContent).active = "tab-export"
    await pilot.pause()
    pane = app.query_one(ExportPane)
    await app.workers.wait_for_complete()
    await pilot.pause(0.4)
    await app.workers.wait_for_complete()
    await pilot.pause()
    return pane


async def test_export_pane_writes_openai_with_skip_and_confirms_overwrite(tmp_path: Path) -> None:
    src = _source(tmp_path)
    out = tmp_path / "chat.jsonl"
    app = StudioApp([str(src)])
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await _open_export(app, pilot)
        # choose the OpenAI format with the keyboard
        app.query_one("#export-format", Select).focus()
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("down", "down", "down", "enter")
        await _settle(app, pilot)
        assert app.query_one("#export-format", Select).value == "openai"
        assert app.query_one("#field-user", Input).value == "instruction+input"
        assert app.query_one("#field-assistant", Input).value == "output"
        # a constant system prompt, typed into the field
        app.query_one("#field-system", Input).focus()
        await pilot.press(*'"Be brief."')
        await _settle(app, pilot)
        preview = str(app.query_one("#export-preview", Static).render())
        first = (
            '{"messages":[{"role":"system","content":"Be brief."},'
            '{"role":"user","content":"task 0"},{"role":"assistant","content":"answer 0"}]}'
        )
        assert preview.splitlines()[0] == first
        validation = str(app.query_one("#export-validation", Static).render())
        assert "1 of 6 rows invalid" in validation and "src.jsonl:4" in validation
        # blocked first: nothing written, an error notification
        output = app.query_one("#export-output", Input)
        output.value = str(out)
        await pilot.press("ctrl+o")
        await _settle(app, pilot)
        assert not out.exists()
        assert any("invalid" in n.message for n in app._notifications)
        # skip invalid rows, then write
        app.query_one("#export-invalid", Select).value = "skip"
        await _settle(app, pilot)
        await pilot.press("ctrl+o")
        await _settle(app, pilot)
        lines = out.read_text().splitlines()
        assert lines[0] == first and len(lines) == 5
        assert (tmp_path / "chat.jsonl.recipe.json").exists()
        assert (tmp_path / "chat.jsonl.card.md").exists()
        messages = [n.message for n in app._notifications]
        assert any("chat.jsonl: 5 rows" in m and "chat.jsonl.card.md" in m for m in messages)
        assert pane.last_result is not None and pane.last_result.skipped == 1
        # writing again asks first; "n" keeps the file, "y" replaces it
        out.write_text("old\n")
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmOverwrite)
        await pilot.press("n")
        await _settle(app, pilot)
        assert out.read_text() == "old\n"
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmOverwrite)
        await pilot.press("y")
        await _settle(app, pilot)
        assert out.read_text().splitlines()[0] == first


async def test_export_pane_plain_format_column_map(tmp_path: Path) -> None:
    src = _source(tmp_path)
    app = StudioApp([str(src)])
    async with app.run_test(size=(80, 24)) as pilot:
        await _open_export(app, pilot)
        columns = app.query_one("#field-__map__", Input)
        columns.focus()
        await pilot.press(*"q=instruction,a=output")
        await _settle(app, pilot)
        preview = str(app.query_one("#export-preview", Static).render())
        assert preview.splitlines()[0] == '{"q":"task 0","a":"answer 0"}'
        out = Path(app.query_one("#export-output", Input).value)
        assert out == tmp_path / "src.jsonl.jsonl"
        await pilot.press("ctrl+o")
        await _settle(app, pilot)
        assert [json.loads(x) for x in out.read_text().splitlines()][1] == {
            "q": "task 1",
            "a": "answer 1",
        }


async def test_export_pane_token_limit_from_tokens_columns(tmp_path: Path) -> None:
    src = tmp_path / "tok.jsonl"
    rows = [{"text": f"t{i}", "label": "a", "tokens_text": i} for i in range(8)]
    src.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    app = StudioApp([str(src)])
    async with app.run_test(size=(80, 24)) as pilot:
        await _open_export(app, pilot)
        app.query_one("#export-max-tokens", Input).focus()
        await pilot.press("5")
        await _settle(app, pilot)
        validation = str(app.query_one("#export-validation", Static).render())
        assert "2 of 8 rows invalid (2 over 5 tokens)" in validation
        assert "tok.jsonl:7" in validation and "tok.jsonl:8" in validation


async def test_export_pane_cancel_writes_nothing(tmp_path: Path) -> None:
    src = _source(tmp_path)
    app = StudioApp([str(src)])
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await _open_export(app, pilot)
        out = tmp_path / "never.jsonl"
        app.query_one("#export-output", Input).value = str(out)
        options = pane._options(force=False)
        # cancel in the same tick as the start (what Escape does), so the test is deterministic
        pane._start_export(options)
        pane.action_cancel()
        await _settle(app, pilot)
        assert not out.exists()
        assert sorted(p.name for p in tmp_path.iterdir()) == ["src.jsonl"]
        assert any("cancelled" in n.message for n in app._notifications), [
            n.message for n in app._notifications
        ]
        assert not app.query_one("#export-progress").has_class("-running")
