"""Pilot tests of Browse inside the real app: open a file, move, jump, detail, sort, undo."""

from __future__ import annotations

import json
import re
from pathlib import Path

from studio.tui.app import StudioApp
from studio.tui.panes.browse import BrowsePane
from studio.tui.screens.column_summary import ColumnSummaryScreen
from studio.tui.screens.row_detail import RowDetailScreen
from studio.tui.widgets.frame_table import FrameTable
from tests.tui.test_browse_helpers import ROWS, table_lines, write_rows


async def _open(pilot) -> FrameTable:  # noqa: ANN001
    app = pilot.app
    await app.workers.wait_for_complete()
    await pilot.pause()
    table = app.query_one("#browse-table", FrameTable)
    table.focus()
    await pilot.pause()
    return table


async def test_open_scroll_page_and_jump(tmp_path: Path) -> None:
    path = write_rows(tmp_path / "data.jsonl")
    app = StudioApp([str(path)])
    async with app.run_test(size=(80, 24)) as pilot:
        table = await _open(pilot)
        assert table.row_count == ROWS
        lines = table_lines(table)
        assert "text str" in lines[0] and "n i64" in lines[0]
        assert "_id" not in lines[0]
        assert "row 0 text" in lines[1]
        assert lines[1].lstrip().startswith("1 ")

        await pilot.press("down", "j", "j", "k")
        assert table.cursor_row == 2
        await pilot.press("pagedown")
        page = table.page_rows - 1
        assert table.cursor_row == 2 + page
        assert f"row {2 + page} text" in "".join(table_lines(table))
        await pilot.press("pageup")
        assert table.cursor_row == 2

        await pilot.press("G")
        await pilot.pause()
        assert table.cursor_row == ROWS - 1
        lines = table_lines(table)
        assert f"{ROWS:,}" in lines[-1] and f"row {ROWS - 1} text" in lines[-1]
        await pilot.press("g")
        assert table.cursor_row == 0
        assert "row 0 text" in table_lines(table)[1]

        await pilot.press("colon", *"1234", "enter")
        await pilot.pause()
        assert table.cursor_row == 1233
        assert table.cursor_id == 1233
        assert any("row 1233 text" in line and "1,234" in line for line in table_lines(table))
        status = app.query_one("#browse-status").render()
        assert "row 1,234 of 5,000" in str(status)

        await pilot.press("right", "l")
        assert table.current_column == "messages"
        await pilot.press("h")
        assert table.current_column == "n"


async def test_row_detail_shows_chat_as_turns(tmp_path: Path) -> None:
    path = write_rows(tmp_path / "data.jsonl")
    app = StudioApp([str(path)])
    async with app.run_test(size=(80, 24)) as pilot:
        await _open(pilot)
        await pilot.press("j", "j", "j", "enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, RowDetailScreen)
        assert screen.row_id == 3
        turns = screen.query(".detail-turn")
        assert len(turns) == 3
        texts = [str(t.render()) for t in turns]
        assert texts[0].startswith("system") and "Answer briefly." in texts[0]
        assert texts[1].startswith("user") and "What is 3 plus one?" in texts[1]
        assert texts[2].startswith("assistant") and "It is 4." in texts[2]
        title = str(screen.query_one("#detail-title").render())
        assert "data.jsonl:4" in title
        await pilot.press("j", "pagedown", "k")
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, RowDetailScreen)


async def test_sort_then_undo(tmp_path: Path) -> None:
    path = write_rows(tmp_path / "data.jsonl")
    app = StudioApp([str(path)])
    async with app.run_test(size=(80, 24)) as pilot:
        table = await _open(pilot)
        await pilot.press("l")
        assert table.current_column == "n"
        await pilot.press("S")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.workspace is not None and len(app.workspace.steps) == 1
        assert table.current_row()["n"] == ROWS - 1
        await pilot.press("s")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert table.current_row()["n"] == 0
        assert table.row_at(1)["n"] == 1 and table.row_at(1)["text"] != "row 1 text"
        await pilot.press("ctrl+z")
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("ctrl+z")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert len(app.workspace.steps) == 0
        assert "row 1 text" in table_lines(table)[2]


async def test_mark_and_drop_rows(tmp_path: Path) -> None:
    path = write_rows(tmp_path / "data.jsonl")
    app = StudioApp([str(path)])
    async with app.run_test(size=(80, 24)) as pilot:
        table = await _open(pilot)
        await pilot.press("space", "space", "j", "space")
        assert table.marked == {0, 1, 3}
        lines = table_lines(table)
        assert lines[1].startswith("●") and lines[2].startswith("●")
        assert not lines[3].startswith("●") and lines[4].startswith("●")
        assert "3 marked" in str(app.query_one("#browse-status").render())
        await pilot.press("D")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.workspace is not None
        assert app.workspace.rows == ROWS - 3
        assert table.row_count == ROWS - 3
        assert table.marked == set()
        assert sorted(app.workspace.removed()["_id"].to_list()) == [0, 1, 3]
        assert "row 2 text" in table_lines(table)[1]
        await pilot.press("ctrl+z")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert table.row_count == ROWS


async def test_keep_marked_and_invert(tmp_path: Path) -> None:
    path = write_rows(tmp_path / "data.jsonl")
    app = StudioApp([str(path)])
    async with app.run_test(size=(80, 24)) as pilot:
        table = await _open(pilot)
        await pilot.press("space")
        await pilot.press("exclamation_mark")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert len(table.marked) == ROWS - 1 and 0 not in table.marked
        await pilot.press("exclamation_mark")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert table.marked == {0}
        await pilot.press("K")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert table.row_count == 1
        assert "row 0 text" in table_lines(table)[1]


async def test_search_next_previous_and_mark_matches(tmp_path: Path) -> None:
    path = write_rows(tmp_path / "data.jsonl")
    app = StudioApp([str(path)])
    async with app.run_test(size=(80, 24)) as pilot:
        table = await _open(pilot)
        pane = app.query_one(BrowsePane)
        await pilot.press("slash", *"ROW 42", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        # "row 42 text" and "row 420 text" ... "row 4299 text": case-insensitive, literal
        assert pane.match_rows[:3] == [42, 420, 421]
        assert len(pane.match_rows) == 1 + 10 + 100
        assert table.cursor_row == 42
        assert table.highlight is not None
        # the match is highlighted in the drawn cell
        strip = table.render_line(table.cursor_row - round(table.scroll_y) + 1)
        match_style = table._style("frame-table--match")
        highlighted = "".join(
            s.text for s in strip if s.style and s.style.bgcolor == match_style.bgcolor
        )
        assert "row 42" in highlighted
        await pilot.press("n")
        assert table.cursor_row == 420
        await pilot.press("n")
        assert table.cursor_row == 421
        await pilot.press("N", "N")
        assert table.cursor_row == 42
        await pilot.press("N")  # wraps to the last match
        assert table.cursor_row == 4299
        await pilot.press("asterisk")
        assert len(table.marked) == 111
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, RowDetailScreen)
        assert app.screen.highlight is not None
        await pilot.press("q")
        await pilot.pause()
        await pilot.press("slash", *"re:^row 1\\d text$", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert pane.query_regex
        # rows 10..15 hold hostile text instead of "row N text"
        assert pane.match_rows == [16, 17, 18, 19]


async def test_open_rows_view_and_escape(tmp_path: Path) -> None:
    path = write_rows(tmp_path / "data.jsonl")
    app = StudioApp([str(path)])
    async with app.run_test(size=(80, 24)) as pilot:
        table = await _open(pilot)
        pane = app.query_one(BrowsePane)
        pane.open_rows([5, 7, 4000], "three rows")
        await pilot.pause()
        assert table.row_count == 3
        assert [table.id_at(i) for i in range(3)] == [5, 7, 4000]
        assert "three rows" in str(app.query_one("#browse-view").render())
        await pilot.press("escape")
        await pilot.pause()
        assert table.row_count == ROWS and table.view_ids is None


async def test_copy_cell_and_row(tmp_path: Path) -> None:
    path = write_rows(tmp_path / "data.jsonl")
    app = StudioApp([str(path)])
    async with app.run_test(size=(80, 24)) as pilot:
        await _open(pilot)
        await pilot.press("j", "y")
        assert app.clipboard == "row 1 text"
        await pilot.press("Y")
        row = json.loads(app.clipboard)
        assert row["text"] == "row 1 text" and row["messages"][1]["role"] == "user"


async def test_hide_and_show_columns(tmp_path: Path) -> None:
    path = write_rows(tmp_path / "data.jsonl")
    app = StudioApp([str(path)])
    async with app.run_test(size=(80, 24)) as pilot:
        table = await _open(pilot)
        await pilot.press("minus")
        assert table.columns == ["n", "messages"]
        assert "text str" not in table_lines(table)[0]
        await pilot.press("plus")
        assert table.columns == ["text", "n", "messages"]


async def test_column_summary(tmp_path: Path) -> None:
    path = write_rows(tmp_path / "data.jsonl")
    app = StudioApp([str(path)])
    async with app.run_test(size=(80, 24)) as pilot:
        await _open(pilot)
        await pilot.press("l", "c")
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ColumnSummaryScreen)
        assert screen.summaries is not None
        (summary,) = screen.summaries
        assert summary.name == "n" and summary.distinct == ROWS
        assert summary.minimum == 0 and summary.maximum == ROWS - 1
        body = str(screen.query_one("#summary-body").render())
        assert "distinct  5,000" in body
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, ColumnSummaryScreen)


async def test_markup_and_escape_sequences_are_shown_literally(tmp_path: Path) -> None:
    path = write_rows(tmp_path / "data.jsonl")
    app = StudioApp([str(path)])
    async with app.run_test(size=(80, 24)) as pilot:
        table = await _open(pilot)
        strips = [table.render_line(y) for y in range(table.page_rows)]
        text = "\n".join(strip.text for strip in strips)
        assert "[bold]x[/bold]" in text
        assert "[link=http://x]y[/link]" in text
        assert "␛[31mred␛[0m" in text
        assert "bell␇here" in text
        assert "osc␛]52;c;aGk=␇end" in text
        assert "c1\\x9b31mcsi" in text
        for strip in strips:
            for segment in strip:
                assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", segment.text)
                assert segment.style is None or segment.style.link is None
        # the same rows in the row detail
        await pilot.press("colon", *"13", "enter", "enter")
        await pilot.pause()
        assert isinstance(app.screen, RowDetailScreen)
        values = [str(w.render()) for w in app.screen.query(".detail-value")]
        assert "␛[31mred␛[0m" in values[0]
        assert not any("\x1b" in v for v in values)
        await pilot.press("escape", "colon", *"11", "enter", "enter")
        await pilot.pause()
        values = [str(w.render()) for w in app.screen.query(".detail-value")]
        assert values[0] == "[bold]x[/bold]"


async def test_click_moves_the_cursor(tmp_path: Path) -> None:
    path = write_rows(tmp_path / "data.jsonl")
    app = StudioApp([str(path)])
    async with app.run_test(size=(80, 24)) as pilot:
        table = await _open(pilot)
        x = table._gutter + table._offsets[1] + 1
        await pilot.click(FrameTable, offset=(x, 3))
        assert table.cursor_row == 2 and table.current_column == "n"
        await pilot.click(FrameTable, offset=(x, 3), times=2)
        await pilot.pause()
        assert isinstance(app.screen, RowDetailScreen)
