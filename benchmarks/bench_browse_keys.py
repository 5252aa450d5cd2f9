"""First paint and key-to-repaint of Browse, headless (App.run_test at 200x50), on a big file.

    python -m benchmarks.bench_browse_keys [PATH] [--runs 3] [--presses 10] [--browse-only]

PATH defaults to benchmarks/data/plain_1000000.parquet. By default the whole StudioApp runs
(all nine tabs); `--browse-only` runs the Browse pane alone. Never run by pytest.

What is measured, and how:
- first paint: from constructing the app to the end of the first screen refresh that drew
  table lines holding data (wall seconds, and CPU seconds of the UI thread and of the whole
  process). Imports are done before the clock starts; `process_first_paint_s` adds them: it
  counts from the process start (`BENCH_T0`, set by bench_foundation before it spawns the
  probe; else from this module's first line) and adds the imports to the first paint.
- key to repaint (PgDn, `G`, `g`): from posting the key to the end of the first screen refresh
  that drew table lines afterwards, i.e. the key's repaint with the new window on screen;
  wall milliseconds and UI-thread CPU milliseconds (what the key costs on an idle machine).
  Pilot's `pause()` is NOT part of it: it waits until the whole process is idle (it compares
  process CPU time, all threads, with wall time), so it would time background workers too.
"""

from __future__ import annotations

import os
import time

_MODULE_T0 = time.time()

import argparse  # noqa: E402
import asyncio  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from textual import work  # noqa: E402
from textual.app import App, ComposeResult  # noqa: E402
from textual.screen import Screen  # noqa: E402

from studio.engine.io import load_dataset  # noqa: E402
from studio.engine.workspace import Workspace  # noqa: E402
from studio.tui.app import StudioApp  # noqa: E402
from studio.tui.panes.browse import BrowsePane  # noqa: E402
from studio.tui.widgets.frame_table import FrameTable  # noqa: E402

_IMPORTED = time.time()
DEFAULT_PATH = Path(__file__).parent / "data" / "plain_1000000.parquet"
KEYS = ("pagedown", "G", "g")

# the table drew a line with data since the last screen refresh
_DREW = [False]
# (wall, UI-thread CPU, process CPU) at the end of each screen refresh that drew table lines
PAINTED: list[tuple[float, float, float]] = []


def watch_table(cls: type) -> None:
    """Note when a table of this class draws a data line (below its header)."""
    render_line = cls.render_line

    def timed_render_line(self, y: int):  # noqa: ANN001, ANN202
        strip = render_line(self, y)
        if y >= 1 and self.row_count:
            _DREW[0] = True
        return strip

    cls.render_line = timed_render_line


watch_table(FrameTable)

_compositor_refresh = Screen._compositor_refresh


def _timed_compositor_refresh(self: Screen) -> None:
    _compositor_refresh(self)
    if _DREW[0]:
        PAINTED.append((time.perf_counter(), time.thread_time(), time.process_time()))
        _DREW[0] = False


Screen._compositor_refresh = _timed_compositor_refresh  # type: ignore[method-assign]


class BrowseOnly(App[None]):
    """The Browse pane alone over a workspace opened in a worker."""

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


async def measure(path: str, presses: int = 10, full_app: bool = True) -> dict[str, float]:
    """One run: first paint, then `presses` rounds of PgDn, G, g."""
    t0 = float(os.environ.get("BENCH_T0", _MODULE_T0))
    PAINTED.clear()
    _DREW[0] = False
    start_wall = time.perf_counter()
    start_cpu, start_proc = time.thread_time(), time.process_time()
    app = StudioApp([path]) if full_app else BrowseOnly(path)
    wall: dict[str, list[float]] = {k: [] for k in KEYS}
    cpu: dict[str, list[float]] = {k: [] for k in KEYS}
    async with app.run_test(size=(200, 50)) as pilot:
        while not PAINTED:
            await asyncio.sleep(0.002)
        paint_wall, paint_cpu, paint_proc = PAINTED[0]
        out = {
            "first_paint_s": paint_wall - start_wall,
            "first_paint_ui_cpu_s": paint_cpu - start_cpu,
            "first_paint_process_cpu_s": paint_proc - start_proc,
            # with Python's start and the imports (done once per process, before any run)
            "process_first_paint_s": (_IMPORTED - t0) + (paint_wall - start_wall),
        }
        table = app.query_one(FrameTable)
        table.focus()
        await pilot.pause()
        for _ in range(presses):
            for key in KEYS:
                await pilot.pause()
                PAINTED.clear()
                _DREW[0] = False
                t, c = time.perf_counter(), time.thread_time()
                await pilot.press(key)
                await pilot.pause()
                if PAINTED:
                    wall[key].append(PAINTED[0][0] - t)
                    cpu[key].append(PAINTED[0][1] - c)
        out["rows"] = table.row_count
    for key, name in zip(KEYS, ("pgdn", "G", "g"), strict=True):
        out[f"{name}_ms"] = statistics.median(wall[key]) * 1000
        out[f"{name}_cpu_ms"] = statistics.median(cpu[key]) * 1000
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("path", nargs="?", default=str(DEFAULT_PATH))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--presses", type=int, default=10)
    parser.add_argument("--browse-only", action="store_true", help="the Browse pane alone")
    parser.add_argument("--json", action="store_true", help="one JSON line per run")
    args = parser.parse_args()
    results = []
    for _ in range(args.runs):
        result = asyncio.run(measure(args.path, args.presses, not args.browse_only))
        results.append(result)
        print(json.dumps(result) if args.json else _line(result), flush=True)
    if args.runs > 1 and not args.json:
        medians = {k: statistics.median(r[k] for r in results) for k in results[0]}
        print("median:", _line(medians))


def _line(result: dict[str, float]) -> str:
    return ", ".join(
        f"{k} {v:,.3f}" if k.endswith("_s") else f"{k} {v:,.1f}" for k, v in result.items()
    )


if __name__ == "__main__":
    main()
