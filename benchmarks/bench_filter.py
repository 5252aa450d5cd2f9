"""Filter and selection benchmarks on the 1M-row instruction dataset (benchmarks/datagen.py).

    python benchmarks/bench_filter.py [--rows 1000000] [--runs 3] [--cluster-rows 100000]
                                      [--cluster-1m]

Medians of `--runs` runs (after one warm-up) of:
- a SQL filter applied as a step (`apply_step`, which also records the removed rows) on the
  Parquet file, against the same query in DuckDB and in bare polars SQL;
- the same filter applied in the TUI (App.run_test, Filter pane WHERE bar) until the Browse
  table has repainted with the new row count;
- facet counts of the label column (on the loaded frame, as the pane computes them);
- clustering (cluster summary) and a diverse sample of 100k rows (and 1M with --cluster-1m),
  each in a fresh `studio sample --diverse` process for peak RSS.
Never run by pytest.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import polars as pl  # noqa: E402

from benchmarks.datagen import ensure_dataset  # noqa: E402
from benchmarks.harness import (  # noqa: E402
    Timing,
    python,
    ratio,
    self_peak_rss_mb,
    time_call,
    time_command,
)
from studio.engine.io import load_dataset  # noqa: E402
from studio.engine.recipe import apply_step  # noqa: E402
from studio.engine.steps.filter import SqlFilter, facet_counts  # noqa: E402
from studio.engine.steps.select import DiverseSample, cluster_summary  # noqa: E402

WHERE = "length(output) > 420 AND label = 'billing' AND regexp_like(instruction, '^(Write|Draft)')"


def bench_sql(path: Path, runs: int) -> list[Timing]:
    import duckdb

    dataset = load_dataset(path)
    step = SqlFilter(where=WHERE)
    out, result = apply_step(dataset.frame, step)
    print(f"filter keeps {result.rows_out:,} of {result.rows_in:,} rows")
    ours = time_call(
        "studio filter.sql step (parquet)", lambda: apply_step(dataset.frame, step), runs
    )
    bare = time_call(
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
    duck = time_call("duckdb SQL to a polars frame (parquet)", lambda: con.sql(query).pl(), runs)
    frame = dataset.frame.collect()
    in_memory = time_call(
        "studio filter.sql step (in memory, as in the TUI)",
        lambda: apply_step(frame.lazy(), step),
        runs,
    )
    con.register("mem", frame.to_arrow())
    mem_query = "SELECT * FROM mem WHERE " + WHERE.replace("regexp_like", "regexp_matches")
    duck_mem = time_call("duckdb SQL (in memory arrow)", lambda: con.sql(mem_query).pl(), runs)
    facets = time_call(
        "facet counts of label (in memory)", lambda: facet_counts(frame.lazy(), "label"), runs
    )
    facets_scan = time_call(
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


async def _tui_filter(path: Path, runs: int) -> Timing:
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
    seconds = []
    try:
        async with app.run_test(size=(120, 40)):
            await _wait(lambda: app.workspace is not None, "open")
            table = app.query_one("#browse-table", FrameTable)
            pane = app.query_one(FilterPane)
            total = app.workspace.rows
            await _wait(lambda: table.row_count == total, "table rows")
            for _ in range(runs + 1):
                start = time.perf_counter()
                assert pane.apply_where(WHERE)
                await _wait(lambda: table.row_count != total, "filtered")
                changed = time.perf_counter()
                await _wait(lambda at=changed: bool(painted) and painted[-1] > at, "painted")
                seconds.append(painted[-1] - start)
                app.action_undo()
                await _wait(lambda: table.row_count == total, "undone")
    finally:
        Screen._compositor_refresh = original  # type: ignore[method-assign]
    return Timing("TUI: WHERE applied and table repainted", seconds[1:])


def bench_cluster(path: Path, rows: int, runs: int) -> list[Timing]:
    sub = Path(tempfile.mkdtemp()) / f"cluster_{rows}.parquet"
    pl.scan_parquet(path).head(rows).sink_parquet(sub)
    dataset = load_dataset(sub)
    summary = time_call(
        f"cluster summary k=16 of {rows:,} rows",
        lambda: cluster_summary(dataset.frame, "output", k=16, seed=0),
        runs,
        warmup=0,
    )
    sizes = sorted(c.size for c in cluster_summary(dataset.frame, "output", k=16, seed=0))
    print(f"cluster sizes ({rows:,} rows): {sizes}")
    step = DiverseSample(column="output", k=16, n=10_000, seed=0)
    sample = time_call(
        f"diverse sample 10k of {rows:,} rows (step)",
        lambda: apply_step(dataset.frame, step),
        runs,
        warmup=0,
    )
    out = sub.with_name(f"out_{rows}.parquet")
    cli = time_command(
        f"studio sample -n 10000 --diverse 16 ({rows:,} rows, process)",
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
        runs=runs,
        warmup=0,
    )
    return [summary, sample, cli]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cluster-rows", type=int, default=100_000)
    parser.add_argument("--cluster-1m", action="store_true")
    parser.add_argument("--skip-tui", action="store_true")
    args = parser.parse_args()
    path = ensure_dataset(args.rows, "parquet")
    print(f"data: {path} ({args.rows:,} rows)")
    results = bench_sql(path, args.runs)
    for t in results:
        print(t.line())
    print(ratio(results[0], results[2]))
    print(ratio(results[3], results[4]))
    print(ratio(results[0], results[1]))
    if not args.skip_tui:
        tui = asyncio.run(_tui_filter(path, args.runs))
        print(tui.line())
    print(f"peak RSS of this process so far: {self_peak_rss_mb():,.0f} MB")
    for rows in [args.cluster_rows] + ([args.rows] if args.cluster_1m else []):
        for t in bench_cluster(path, rows, args.runs if rows <= 200_000 else 1):
            print(t.line())
    print(f"peak RSS of this process: {self_peak_rss_mb():,.0f} MB")
    print("median of medians:", statistics.median([t.median for t in results]))


if __name__ == "__main__":
    main()
