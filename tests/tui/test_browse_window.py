"""The table only ever fetches the visible window, and its caches stay bounded."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from studio.tui.widgets.frame_table import BLOCK, MAX_BLOCKS, MAX_LINES, FrameTable
from tests.tui.test_browse_helpers import BrowseApp, table_lines

ROWS = 100_000


class CountingFrame:
    """Stands in for the table's LazyFrame and records every slice it is asked for."""

    def __init__(self, frame: pl.LazyFrame) -> None:
        self.frame = frame
        self.slices: list[tuple[int, int]] = []

    def slice(self, offset: int, length: int) -> pl.LazyFrame:
        self.slices.append((offset, length))
        return self.frame.slice(offset, length)

    def __getattr__(self, name: str):  # noqa: ANN204
        return getattr(self.frame, name)


async def test_scrolling_100k_rows_fetches_only_windows(tmp_path: Path) -> None:
    path = tmp_path / "big.parquet"
    pl.DataFrame(
        {"text": [f"line {i}" for i in range(ROWS)], "n": list(range(ROWS))}
    ).write_parquet(path)
    app = BrowseApp(path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        table = app.query_one(FrameTable)
        counting = CountingFrame(table._frame)  # type: ignore[arg-type]
        table._frame = counting  # type: ignore[assignment]
        table._blocks.clear()
        table._lines.clear()
        table.focus()
        visited = 0
        for row in range(0, ROWS, 997):
            table.move_to_row(row)
            lines = table_lines(table)
            assert any(f"│line {row} " in line for line in lines), (row, lines)
            visited += 1
            blocks, rendered = table.cache_sizes
            assert blocks <= MAX_BLOCKS and rendered <= MAX_LINES
            assert table.rows_held <= MAX_BLOCKS * BLOCK < ROWS
        await pilot.press("G")
        assert f"line {ROWS - 1}" in table_lines(table)[-1]
        await pilot.press("pageup", "pageup", "g")
        assert "line 0" in table_lines(table)[1]
        await app.workers.wait_for_complete()
        assert all(length <= BLOCK for _, length in counting.slices)
        # each visit reads its window's block and prefetches its neighbours, nothing more
        assert len(counting.slices) <= (visited + 4) * 4


async def test_many_columns_scroll_sideways_to_the_cursor(tmp_path: Path) -> None:
    path = tmp_path / "wide.parquet"
    pl.DataFrame({f"col{i}": [f"v{i}-{r}" for r in range(50)] for i in range(30)}).write_parquet(
        path
    )
    app = BrowseApp(path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        table = app.query_one(FrameTable)
        table.focus()
        await pilot.press(*["l"] * 20)
        assert table.current_column == "col20"
        header = table_lines(table)[0]
        assert "col20" in header and "col0 " not in header
        assert table.scroll_x in table._offsets  # scrolled to a column start
        await pilot.press(*["h"] * 20)
        assert table.scroll_x == 0 and "col0 str" in table_lines(table)[0]


async def test_an_empty_frame_is_calm(tmp_path: Path) -> None:
    path = tmp_path / "empty.parquet"
    pl.DataFrame(
        {"text": pl.Series([], dtype=pl.String), "n": pl.Series([], dtype=pl.Int64)}
    ).write_parquet(path)
    app = BrowseApp(path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        table = app.query_one(FrameTable)
        table.focus()
        await pilot.press("j", "G", "g", "pagedown", "enter", "space", "y", "Y", "l", "h")
        await pilot.pause()
        assert table.row_count == 0 and table.cursor_id is None and table.current_row() == {}
        lines = table_lines(table)
        assert "text str" in lines[0] and lines[1].strip() == ""
        assert "no rows" in str(app.query_one("#browse-status").render())
