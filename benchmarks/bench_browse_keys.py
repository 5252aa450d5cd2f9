"""Browse key-to-repaint and first paint, headless (App.run_test), on a big Parquet file.

    python benchmarks/bench_browse_keys.py PATH [--runs 3]

Prints first paint (process-internal: app start to the first data line drawn), the median
time of PgDn, G and g from key press to repainted screen (wall clock, and UI-thread CPU time,
which is what the key costs on an idle machine), and peak RSS. By default the Browse pane runs
alone (`--app` runs the whole StudioApp). Never run by pytest.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from textual import work  # noqa: E402
from textual.app import App, ComposeResult  # noqa: E402
from textual.screen import Screen  # noqa: E402

from studio.engine.io import load_dataset  # noqa: E402
from studio.engine.workspace import Workspace  # noqa: E402
from studio.tui.app import StudioApp  # noqa: E402
from studio.tui.panes.browse import BrowsePane  # noqa: E402
from studio.tui.widgets.frame_table import FrameTable  # noqa: E402

FIRST_PAINT: list[float] = []
_render_line = FrameTable.render_line


def _timed_render_line(self: FrameTable, y: int):  # noqa: ANN202
    strip = _render_line(self, y)
    _DREW[0] = True
    if y >= 1 and not FIRST_PAINT and self.row_count:
        FIRST_PAINT.append(time.perf_counter())
    return strip


FrameTable.render_line = _timed_render_line  # type: ignore[method-assign]

# key-to-repaint: from posting the key to the end of the first screen refresh that drew
# table lines (excludes the Pilot's wait for CPU idle, which on a loaded box dominates)
PAINTED: list[tuple[float, float]] = []
_DREW = [False]
_compositor_refresh = Screen._compositor_refresh


def _timed_compositor_refresh(self: Screen) -> None:
    _compositor_refresh(self)
    if _DREW[0]:
        PAINTED.append((time.perf_counter(), time.thread_time()))
        _DREW[0] = False


Screen._compositor_refresh = _timed_compositor_refresh  # type: ignore[method-assign]


class BrowseOnly(App[None]):
    """The Browse pane alone over a workspace opened in a worker (what this file measures,
    without the other panes' start-up work)."""

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path

    def compose(self) -> ComposeResult:
        yield BrowsePane(None, id="pane-browse")

    def on_mount(self) -> None:
        self.load()

    @work(thread=True)
    def load(self) -> None:
        workspace = Workspace(load_dataset(self.path))
        self.call_from_thread(self._show_workspace, workspace)

    def _show_workspace(self, workspace: Workspace) -> None:
        pane = self.query_one(BrowsePane)
        pane.workspace = workspace
        pane.workspace_changed()


async def run(path: str, presses: int, full_app: bool) -> dict[str, object]:
    FIRST_PAINT.clear()
    start = time.perf_counter()
    app = StudioApp([path]) if full_app else BrowseOnly(path)
    times: dict[str, list[float]] = {"pagedown": [], "G": [], "g": []}
    cpu: dict[str, list[float]] = {"pagedown": [], "G": [], "g": []}
    async with app.run_test(size=(200, 50)) as pilot:
        while not FIRST_PAINT:
            await asyncio.sleep(0.005)
        first = FIRST_PAINT[0] - start
        table = app.query_one(FrameTable)
        table.focus()
        await pilot.pause()
        for _ in range(presses):
            for key in ("pagedown", "G", "g"):
                await pilot.pause()
                PAINTED.clear()
                _DREW[0] = False
                t, c = time.perf_counter(), time.thread_time()
                await pilot.press(key)
                await pilot.pause()
                if PAINTED:
                    times[key].append(PAINTED[0][0] - t)
                    cpu[key].append(PAINTED[0][1] - c)
        rows = table.row_count
    return {
        "rows": rows,
        "first_paint_s": round(first, 3),
        **{f"{k}_ms_median": round(statistics.median(v) * 1000, 1) for k, v in times.items()},
        # UI-thread CPU time for the same span: what the key costs on an idle machine
        **{f"{k}_cpu_ms_median": round(statistics.median(v) * 1000, 1) for k, v in cpu.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("path")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--presses", type=int, default=10)
    parser.add_argument("--app", action="store_true", help="measure the whole StudioApp")
    args = parser.parse_args()
    results = [asyncio.run(run(args.path, args.presses, args.app)) for _ in range(args.runs)]
    for r in results:
        print(r)
    print(
        "median first paint:",
        statistics.median(r["first_paint_s"] for r in results),  # type: ignore[misc]
        "s; peak RSS:",
        round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "MB",
    )


if __name__ == "__main__":
    main()
