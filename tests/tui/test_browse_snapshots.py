"""Snapshots of Browse and the row detail at 80x24 (pytest-textual-snapshot).

Update only after reading the report: `pytest tests/tui/test_browse_snapshots.py
--snapshot-update`, then look at the SVGs under tests/tui/__snapshots__/.
"""

from __future__ import annotations

from pathlib import Path

from tests.tui.test_browse_helpers import BrowseApp, write_rows


async def _settle(pilot) -> None:  # noqa: ANN001
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


class TestBrowseSnapshots:
    def test_browse_table(self, snap_compare, tmp_path: Path) -> None:  # noqa: ANN001
        """Header, gutter, cursor, a mark, and hostile cells shown as escapes."""
        app = BrowseApp(write_rows(tmp_path / "data.jsonl", rows=200))

        async def run_before(pilot) -> None:  # noqa: ANN001
            await _settle(pilot)
            await pilot.press("space", "j", "j", "l")
            await _settle(pilot)

        assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)

    def test_browse_search_highlight(self, snap_compare, tmp_path: Path) -> None:  # noqa: ANN001
        app = BrowseApp(write_rows(tmp_path / "data.jsonl", rows=200))

        async def run_before(pilot) -> None:  # noqa: ANN001
            await _settle(pilot)
            await pilot.press("slash", *"row 1", "enter")
            await _settle(pilot)

        assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)

    def test_row_detail_chat(self, snap_compare, tmp_path: Path) -> None:  # noqa: ANN001
        app = BrowseApp(write_rows(tmp_path / "data.jsonl", rows=200))

        async def run_before(pilot) -> None:  # noqa: ANN001
            await _settle(pilot)
            await pilot.press("j", "j", "j", "enter")
            await _settle(pilot)

        assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)

    def test_row_detail_hostile(self, snap_compare, tmp_path: Path) -> None:  # noqa: ANN001
        app = BrowseApp(write_rows(tmp_path / "data.jsonl", rows=200))

        async def run_before(pilot) -> None:  # noqa: ANN001
            await _settle(pilot)
            await pilot.press("colon", *"13", "enter", "enter")
            await _settle(pilot)

        assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)
