"""Snapshots of the shell at 80x24 with fixed small data (accept only after viewing the report:
`pytest tests/tui/test_app_snapshots.py --snapshot-update`, then read snapshot_report.html)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from textual.worker import WorkerCancelled

from studio.engine.steps.rows import DropColumns, DropRows
from studio.tui.app import StudioApp
from studio.tui.messages import StepRequested

ROWS = [
    {"instruction": f"Write a short poem about {topic}.", "output": f"A poem about {topic}."}
    for topic in ("rain", "bread", "stairs", "clocks", "salt", "moss")
]


@pytest.fixture
def data(tmp_path: Path) -> Path:
    lines = [json.dumps(r) for r in ROWS]
    lines.insert(3, '{"instruction": "broken line", "output": ')
    path = tmp_path / "poems.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


async def ready(pilot) -> None:  # noqa: ANN001
    app = pilot.app
    for _ in range(3):
        # panes restart exclusive workers on every change; a cancelled stale run is fine
        for _ in range(20):
            try:
                await app.workers.wait_for_complete()
                break
            except WorkerCancelled:
                await pilot.pause()
        await pilot.pause()
    app.clear_notifications()
    await pilot.pause()


async def with_steps(pilot) -> None:  # noqa: ANN001
    await ready(pilot)
    pilot.app.post_message(StepRequested(DropRows(ids=(1, 4), reason="near duplicate")))
    await ready(pilot)
    pilot.app.post_message(StepRequested(DropColumns(columns=("output",))))
    await ready(pilot)


class TestShellSnapshots:
    def test_main_screen(self, snap_compare, data: Path) -> None:  # noqa: ANN001
        assert snap_compare(StudioApp([str(data)]), run_before=with_steps)

    def test_help(self, snap_compare, data: Path) -> None:  # noqa: ANN001
        assert snap_compare(StudioApp([str(data)]), press=["question_mark"], run_before=ready)

    def test_steps_view(self, snap_compare, data: Path) -> None:  # noqa: ANN001
        assert snap_compare(StudioApp([str(data)]), press=["f2"], run_before=with_steps)

    def test_problems_view(self, snap_compare, data: Path) -> None:  # noqa: ANN001
        assert snap_compare(StudioApp([str(data)]), press=["f3"], run_before=ready)

    def test_removed_view(self, snap_compare, data: Path) -> None:  # noqa: ANN001
        async def before(pilot) -> None:  # noqa: ANN001
            from textual.widgets import DataTable

            from studio.tui.screens.removed import RemovedScreen

            await with_steps(pilot)
            await pilot.press("f4")
            # the view lists its rows from a worker; under load it may start after a first
            # wait, so wait for the rows themselves (bounded)
            for _ in range(100):
                await ready(pilot)
                screen = pilot.app.screen
                if isinstance(screen, RemovedScreen) and screen.query_one(DataTable).row_count > 0:
                    break

        assert snap_compare(StudioApp([str(data)]), run_before=before)
