"""Pilot tests of the hand edits in Browse: tag rows, edit a cell (multi-line), find and
replace with a preview; each is a step and undoes."""

from __future__ import annotations

import json
from pathlib import Path

from textual.widgets import DataTable, Input, Static, TextArea

from studio.engine.steps.edit import EditCell, Replace, TagRows
from studio.tui.app import StudioApp
from studio.tui.screens.edit import EditCellScreen, ReplaceScreen, TagScreen
from studio.tui.widgets.frame_table import FrameTable


def write_data(path: Path) -> Path:
    rows = [{"text": f"call 555-{1000 + i} now", "n": i} for i in range(5)]
    rows[2]["text"] = "no number"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


async def settle(pilot) -> None:  # noqa: ANN001
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def open_table(pilot) -> FrameTable:  # noqa: ANN001
    await settle(pilot)
    table = pilot.app.query_one("#browse-table", FrameTable)
    table.focus()
    await pilot.pause()
    return table


async def test_tag_marked_rows_then_undo(tmp_path: Path) -> None:
    app = StudioApp([str(write_data(tmp_path / "d.jsonl"))])
    async with app.run_test(size=(80, 24)) as pilot:
        table = await open_table(pilot)
        await pilot.press("space", "space")  # mark rows 1 and 2
        await pilot.press("t")
        await pilot.pause()
        assert isinstance(app.screen, TagScreen)
        tag = app.screen.query_one(Input)
        tag.value = ""
        await pilot.press(*"bad", "enter")
        await settle(pilot)
        assert app.workspace.steps == [TagRows(ids=(0, 1), tag="bad")]
        frame = app.workspace.frame.collect()
        assert frame["tag"].to_list() == ["bad", "bad", None, None, None]
        assert "tag" in table.all_columns
        # no marks: the current row
        table.marked.clear()
        table.move_to_row(4)
        await pilot.press("t")
        await pilot.pause()
        await pilot.press("enter")  # default label "review"
        await settle(pilot)
        assert app.workspace.frame.collect()["tag"].to_list()[4] == "review"
        await pilot.press("ctrl+z")
        await settle(pilot)
        await pilot.press("ctrl+z")
        await settle(pilot)
        assert "tag" not in app.workspace.frame.collect_schema().names()


async def test_edit_cell_multiline_then_undo(tmp_path: Path) -> None:
    app = StudioApp([str(write_data(tmp_path / "d.jsonl"))])
    async with app.run_test(size=(80, 24)) as pilot:
        table = await open_table(pilot)
        table.move_to_row(1)
        await pilot.press("e")
        await pilot.pause()
        assert isinstance(app.screen, EditCellScreen)
        editor = app.screen.query_one(TextArea)
        assert editor.text == "call 555-1001 now"
        editor.text = "first line\nsecond line"
        await pilot.press("ctrl+s")
        await settle(pilot)
        step = EditCell(id=1, column="text", old="call 555-1001 now", new="first line\nsecond line")
        assert app.workspace.steps == [step]
        assert app.workspace.frame.collect()["text"].to_list()[1] == "first line\nsecond line"
        # Escape leaves the cell alone
        await pilot.press("e")
        await pilot.pause()
        await pilot.press("escape")
        await settle(pilot)
        assert len(app.workspace.steps) == 1
        await pilot.press("ctrl+z")
        await settle(pilot)
        assert app.workspace.frame.collect()["text"].to_list()[1] == "call 555-1001 now"


async def test_find_replace_previews_then_applies(tmp_path: Path) -> None:
    app = StudioApp([str(write_data(tmp_path / "d.jsonl"))])
    async with app.run_test(size=(80, 24)) as pilot:
        await open_table(pilot)
        await pilot.press("r")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ReplaceScreen)
        screen.query_one("#replace-find", Input).value = r"(\d{3})-(\d{4})"
        screen.query_one("#replace-with", Input).value = r"\2/\1"
        screen.query_one("#replace-regex").toggle()
        await pilot.press("ctrl+s")  # first press only previews
        await settle(pilot)
        assert app.screen is screen and not app.workspace.steps
        status = str(screen.query_one("#replace-status", Static).render())
        assert "4 rows would change" in status
        preview = screen.query_one(DataTable)
        assert preview.row_count == 4
        assert str(preview.get_row_at(0)[2]) == "call 1000/555 now"
        await pilot.press("ctrl+s")
        await settle(pilot)
        step = Replace(column="text", find=r"(\d{3})-(\d{4})", replace=r"\2/\1", regex=True)
        assert app.workspace.steps == [step]
        texts = app.workspace.frame.collect()["text"].to_list()
        assert texts[0] == "call 1000/555 now" and texts[2] == "no number"
        await pilot.press("ctrl+z")
        await settle(pilot)
        assert app.workspace.frame.collect()["text"].to_list()[0] == "call 555-1000 now"


async def test_bad_regex_is_shown_in_the_dialog(tmp_path: Path) -> None:
    app = StudioApp([str(write_data(tmp_path / "d.jsonl"))])
    async with app.run_test(size=(80, 24)) as pilot:
        await open_table(pilot)
        await pilot.press("r")
        await pilot.pause()
        screen = app.screen
        screen.query_one("#replace-find", Input).value = "("
        screen.query_one("#replace-regex").toggle()
        screen.query_one("#replace-find", Input).focus()
        await pilot.press("enter")
        await settle(pilot)
        assert "Not a valid regular expression" in str(
            screen.query_one("#replace-status", Static).render()
        )
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, ReplaceScreen) and not app.workspace.steps
