"""Filter and selection benchmarks on the 1M-row instruction dataset (benchmarks/datagen.py).

    python benchmarks/bench_filter.py [--rows 1000000] [--runs 3] [--cluster-rows 100000]
                                      [--cluster-1m] [--skip-sql] [--skip-tui] [--skip-cluster]

Medians of `--runs` runs (after one warm-up) of:
- a SQL filter applied as a step (`apply_step`, which also records the removed rows) on the
  Parquet file, against the same query in DuckDB and in bare polars SQL;
- the same filter applied in the TUI (App.run_test, Filter pane WHERE bar) until the Browse
  table has repainted with the new row count;
- a Browse search in the TUI, from the submitted query to the repaint with the cursor on the
  first (highlighted) match: a common word, and a phrase that first occurs at row 500,001;
- facet counts of the label column (on the loaded frame, as the pane computes them);
- clustering (cluster summary) and a diverse sample of 100k rows (and 1M with --cluster-1m),
  each in a fresh `studio sample --diverse` process for peak RSS (at 1M only the process).
Every figure has wall and CPU seconds (all threads; children's for processes): on a shared
machine the CPU seconds are the steadier figure. Never run by pytest.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import polars as pl  # noqa: E402

from benchmarks.datagen import ensure_dataset  # noqa: E402
from benchmarks.harness import (  # noqa: E402
    python,
    self_peak_rss_mb,
)
from studio.engine.io import load_dataset  # noqa: E402
from studio.engine.recipe import apply_step  # noqa: E402
from studio.engine.steps.filter import SqlFilter, facet_counts  # noqa: E402
from studio.engine.steps.select import DiverseSample, cluster_summary  # noqa: E402

SEARCH_COMMON = "gusate"
SEARCH_RARE = "arqude cadiza dateze"  # first occurs in row 500,001 of the 1M-row file


@dataclass
class CpuTiming:
    name: str
    seconds: list[float]
    cpu: list[float]
    peak_rss_mb: float | None = None

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    def line(self) -> str:
        rss = f", peak RSS {self.peak_rss_mb:,.0f} MB" if self.peak_rss_mb is not None else ""
        runs = ", ".join(f"{s:.3f}" for s in self.seconds)
        return (
            f"{self.name}: median {self.median:.3f} s wall, "
            f"{statistics.median(self.cpu):.3f} s CPU over {len(self.seconds)} runs ({runs}){rss}"
        )


def time_cpu(name: str, fn: Callable[[], object], runs: int, warmup: int = 1) -> CpuTiming:
    for _ in range(warmup):
        fn()
    seconds, cpu = [], []
    for _ in range(runs):
        start, cpu_start = time.perf_counter(), time.process_time()
        fn()
        seconds.append(time.perf_counter() - start)
        cpu.append(time.process_time() - cpu_start)
    return CpuTiming(name, seconds, cpu)


def time_process(name: str, argv: list[str], runs: int) -> CpuTiming:
    """Whole processes: wall, user + system CPU of the child, and its peak RSS."""
    seconds, cpu, peak = [], [], 0.0
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds.append(time.perf_counter() - start)
        err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        if proc.stderr is not None:
            proc.stderr.close()
        if status != 0:
            raise RuntimeError(f"{name} failed: {err.strip()[-500:]}")
        cpu.append(usage.ru_utime + usage.ru_stime)
        peak = max(peak, usage.ru_maxrss / 1024)
    return CpuTiming(name, seconds, cpu, peak)


WHERE = "length(output) > 420 AND label = 'billing' AND regexp_like(instruction, '^(Write|Draft)')"


def bench_sql(path: Path, runs: int) -> list[CpuTiming]:
    import duckdb

    dataset = load_dataset(path)
    step = SqlFilter(where=WHERE)
    out, result = apply_step(dataset.frame, step)
    print(f"filter keeps {result.rows_out:,} of {result.rows_in:,} rows")
    ours = time_cpu(
        "studio filter.sql step (parquet)", lambda: apply_step(dataset.frame, step), runs
    )
    bare = time_cpu(
        "bare polars SQL (parquet)",
        lambda: pl.scan_parquet(path).sql("SELECT * FROM self WHERE " + WHERE).collect(),
        runs,
    )
    con = duckdb.connect()
    query = f"SELECT * FROM read_parquet('{path}') WHERE " + WHERE.replace(
        "regexp_like", "regexp_matches"
    )
    duck_rows = con.sql(query).pl().height
    assert duck_rows == out.height, (duck_rows, out.height)
    duck = time_cpu("duckdb SQL to a polars frame (parquet)", lambda: con.sql(query).pl(), runs)
    frame = dataset.frame.collect()
    in_memory = time_cpu(
        "studio filter.sql step (in memory, as in the TUI)",
        lambda: apply_step(frame.lazy(), step),
        runs,
    )
    con.register("mem", frame.to_arrow())
    mem_query = "SELECT * FROM mem WHERE " + WHERE.replace("regexp_like", "regexp_matches")
    duck_mem = time_cpu("duckdb SQL (in memory arrow)", lambda: con.sql(mem_query).pl(), runs)
    facets = time_cpu(
        "facet counts of label (in memory)", lambda: facet_counts(frame.lazy(), "label"), runs
    )
    facets_scan = time_cpu(
        "facet counts of label (parquet scan)", lambda: facet_counts(dataset.frame, "label"), runs
    )
    return [ours, bare, duck, in_memory, duck_mem, facets, facets_scan]


async def _wait(
    condition, what: str, timeout: float = float(os.environ.get("BENCH_TIMEOUT", "300"))
) -> None:  # noqa: ANN001
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            raise TimeoutError(f"the TUI did not get there in time: {what}")
        await asyncio.sleep(0.002)


async def _tui_filter(path: Path, runs: int) -> CpuTiming:
    """From Enter in the WHERE bar to the first screen refresh after Browse has the new rows
    (the Pilot's wait-for-idle is not used: on a loaded box it dominates)."""
    from textual.screen import Screen

    from studio.tui.app import StudioApp
    from studio.tui.panes.filter import FilterPane
    from studio.tui.widgets.frame_table import FrameTable

    painted: list[float] = []
    original = Screen._compositor_refresh

    def timed(self: Screen) -> None:
        original(self)
        painted.append(time.perf_counter())

    Screen._compositor_refresh = timed  # type: ignore[method-assign]
    app = StudioApp([str(path)])
    seconds, cpu = [], []
    try:
        async with app.run_test(size=(120, 40)):
            await _wait(lambda: app.workspace is not None, "open")
            table = app.query_one("#browse-table", FrameTable)
            pane = app.query_one(FilterPane)
            total = app.workspace.rows
            await _wait(lambda: table.row_count == total, "table rows")
            # the app reads a Parquet source into memory after the first paint (when it fits)
            await _wait(lambda: app.workspace.in_memory, "rows held in memory")
            await app.show_tab("filter")  # the Filter pane is built when first shown
            await asyncio.sleep(1.0)  # let the panes' first counts finish
            for _ in range(runs + 1):
                start, cpu_start = time.perf_counter(), time.process_time()
                assert pane.apply_where(WHERE)
                app.show_tab("browse")  # as the user pressing 1: Browse repaints when shown
                await _wait(lambda: table.row_count != total, "filtered")
                changed = time.perf_counter()
                await _wait(lambda at=changed: bool(painted) and painted[-1] > at, "painted")
                seconds.append(painted[-1] - start)
                cpu.append(time.process_time() - cpu_start)
                app.action_undo()
                await _wait(lambda: table.row_count == total, "undone")
                await app.show_tab("filter")
    finally:
        Screen._compositor_refresh = original  # type: ignore[method-assign]
    return CpuTiming("TUI: WHERE applied and table repainted", seconds[1:], cpu[1:])


async def _tui_search(path: Path, runs: int) -> list[CpuTiming]:
    """From a submitted Browse search to the first repaint with the cursor on the first match
    (the match highlighted in the table)."""
    from textual.screen import Screen

    from studio.tui.app import StudioApp
    from studio.tui.panes.browse import BrowsePane
    from studio.tui.widgets.frame_table import FrameTable

    painted: list[float] = []
    original = Screen._compositor_refresh

    def timed(self: Screen) -> None:
        original(self)
        painted.append(time.perf_counter())

    Screen._compositor_refresh = timed  # type: ignore[method-assign]
    app = StudioApp([str(path)])
    out = []
    try:
        async with app.run_test(size=(120, 40)):
            await _wait(lambda: app.workspace is not None, "open")
            table = app.query_one("#browse-table", FrameTable)
            pane = app.query_one(BrowsePane)
            total = app.workspace.rows
            await _wait(lambda: table.row_count == total, "table rows")
            await _wait(lambda: app.workspace.in_memory, "rows held in memory")
            await asyncio.sleep(1.0)
            for name, query in (("common word", SEARCH_COMMON), ("rare phrase", SEARCH_RARE)):
                seconds, cpu = [], []
                for _ in range(runs + 1):
                    table.move_to_row(0)
                    pane.clear_search()
                    await _wait(lambda: table.cursor_row == 0, "cursor home")
                    await asyncio.sleep(0.05)
                    start, cpu_start = time.perf_counter(), time.process_time()
                    pane.run_search(query, False)
                    await _wait(lambda: table.cursor_row != 0, f"first match of {query}")
                    moved = time.perf_counter()
                    await _wait(lambda at=moved: bool(painted) and painted[-1] > at, "painted")
                    seconds.append(painted[-1] - start)
                    cpu.append(time.process_time() - cpu_start)
                    row = table.cursor_row
                    await _wait(lambda: not pane._searching, "search finished")
                print(f"search {query!r}: first match at row {row + 1:,}", flush=True)
                out.append(
                    CpuTiming(
                        f"TUI: search ({name}) to first highlighted match", seconds[1:], cpu[1:]
                    )
                )
    finally:
        Screen._compositor_refresh = original  # type: ignore[method-assign]
    return out


def bench_cluster(path: Path, rows: int, runs: int, in_process: bool = True) -> list[CpuTiming]:
    sub = Path(tempfile.mkdtemp()) / f"cluster_{rows}.parquet"
    pl.scan_parquet(path).head(rows).sink_parquet(sub)
    out_timings = []
    if in_process:
        dataset = load_dataset(sub)
        out_timings.append(
            time_cpu(
                f"cluster summary k=16 of {rows:,} rows",
                lambda: cluster_summary(dataset.frame, "output", k=16, seed=0),
                runs,
                warmup=0,
            )
        )
        sizes = sorted(c.size for c in cluster_summary(dataset.frame, "output", k=16, seed=0))
        print(f"cluster sizes ({rows:,} rows): {sizes}", flush=True)
        step = DiverseSample(column="output", k=16, n=10_000, seed=0)
        out_timings.append(
            time_cpu(
                f"diverse sample 10k of {rows:,} rows (step)",
                lambda: apply_step(dataset.frame, step),
                runs,
                warmup=0,
            )
        )
    out = sub.with_name(f"out_{rows}.parquet")
    out_timings.append(
        time_process(
            f"studio sample -n 10000 --diverse 16 ({rows:,} rows, whole process)",
            [
                python(),
                "-m",
                "studio",
                "sample",
                str(sub),
                "-n",
                "10000",
                "--diverse",
                "16",
                "--column",
                "output",
                "-o",
                str(out),
                "--force",
            ],
            runs,
        )
    )
    sample = pl.read_parquet(out)
    print(
        f"sample of {rows:,}: {sample.height:,} rows over {sample['cluster'].n_unique()} clusters",
        flush=True,
    )
    return out_timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cluster-rows", type=int, default=100_000)
    parser.add_argument("--cluster-1m", action="store_true")
    parser.add_argument("--skip-sql", action="store_true")
    parser.add_argument("--skip-tui", action="store_true")
    parser.add_argument("--skip-cluster", action="store_true")
    parser.add_argument(
        "--cluster-in-process",
        action="store_true",
        help="also time cluster_summary and the step in this process (100k rows only)",
    )
    args = parser.parse_args()
    path = ensure_dataset(args.rows, "parquet")
    print(f"data: {path} ({args.rows:,} rows), load average {os.getloadavg()}", flush=True)
    if not args.skip_sql:
        results = bench_sql(path, args.runs)
        for t in results:
            print(t.line(), flush=True)
        for ours, peer in ((0, 2), (3, 4), (0, 1)):
            a, b = results[ours], results[peer]
            print(
                f"ratio {a.name} / {b.name} = {a.median / b.median:.2f} wall, "
                f"{statistics.median(a.cpu) / statistics.median(b.cpu):.2f} CPU",
                flush=True,
            )
    if not args.skip_tui:
        print(asyncio.run(_tui_filter(path, args.runs)).line(), flush=True)
        for t in asyncio.run(_tui_search(path, args.runs)):
            print(t.line(), flush=True)
        print(f"peak RSS of this process so far: {self_peak_rss_mb():,.0f} MB", flush=True)
    if not args.skip_cluster:
        sizes = [args.cluster_rows] + ([args.rows] if args.cluster_1m else [])
        for rows in sizes:
            in_process = args.cluster_in_process and rows <= 200_000
            for t in bench_cluster(path, rows, args.runs, in_process=in_process):
                print(t.line(), flush=True)
    print(f"load average at the end {os.getloadavg()}", flush=True)


if __name__ == "__main__":
    main()
