"""Foundation benchmarks (issue 3): `studio info` vs a bare polars read; the TUI's first paint,
key-to-repaint and peak RSS on 1M and 10M rows; VisiData and textual-fastdatatable as peers.

    python -m benchmarks.datagen --rows 1000000 --format parquet jsonl csv
    python -m benchmarks.datagen --rows 10000000 --format parquet
    python -m benchmarks.bench_foundation [--runs 3] [--skip-vd] [--skip-10m] [--vd-runs N]

Each probe runs in its own process so peak RSS is that of the probe alone. The TUI figures are
taken by `benchmarks.bench_browse_keys.measure` (see its docstring for what is timed, and why
not Pilot's pause); the load average is printed at the start and after each section.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.datagen import ensure_dataset
from benchmarks.harness import ratio, self_peak_rss_mb, time_command

PY = sys.executable


def _probe_ours(path: str) -> dict[str, float]:
    """The whole StudioApp, measured as `bench_browse_keys` does (first paint, keys)."""
    from benchmarks.bench_browse_keys import measure

    return asyncio.run(measure(path, presses=7, full_app=True))


def _probe_fastdatatable(path: str) -> dict[str, float]:
    """textual-fastdatatable over the same file, timed by the same screen-refresh hooks."""
    from textual.app import App, ComposeResult
    from textual_fastdatatable import ArrowBackend, DataTable

    from benchmarks.bench_browse_keys import _DREW, PAINTED, watch_table

    watch_table(DataTable)

    class Peer(App[None]):
        def compose(self) -> ComposeResult:
            yield DataTable(backend=ArrowBackend.from_parquet(path))

    async def main() -> dict[str, float]:
        started, cpu = time.perf_counter(), time.thread_time()
        app = Peer()
        out: dict[str, float] = {}
        async with app.run_test(size=(200, 50)) as pilot:
            while not PAINTED:
                await asyncio.sleep(0.002)
            out["first_paint_s"] = PAINTED[0][0] - started
            out["first_paint_ui_cpu_s"] = PAINTED[0][1] - cpu
            await pilot.pause()
            PAINTED.clear()
            _DREW[0] = False
            t, c = time.perf_counter(), time.thread_time()
            await pilot.press("ctrl+end")
            await pilot.pause()
            if PAINTED:
                out["G_ms"] = (PAINTED[0][0] - t) * 1000
                out["G_cpu_ms"] = (PAINTED[0][1] - c) * 1000
        out["peak_rss_mb"] = self_peak_rss_mb()
        return out

    return asyncio.run(main())


def _run_probe(kind: str, path: Path, runs: int) -> dict[str, float]:
    results = []
    for _ in range(runs):
        proc = subprocess.run(
            [PY, "-m", "benchmarks.bench_foundation", "--probe", kind, str(path)],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "BENCH_T0": repr(time.time())},
        )
        results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    return {k: statistics.median(r[k] for r in results) for k in results[0]}


def _show(name: str, result: dict[str, float]) -> str:
    return f"{name}: " + ", ".join(
        f"{k} {v:,.3f}" if k.endswith("_s") else f"{k} {v:,.1f}" for k, v in result.items()
    )


def _vd_bottom(csv: Path, runs: int) -> float:
    log = Path("benchmarks/data") / "vd_go_bottom.vdj"
    entry = {
        "sheet": csv.stem,
        "col": "",
        "row": "",
        "longname": "go-bottom",
        "input": "",
        "keystrokes": "G",
        "comment": "",
    }
    log.write_text("#!vd -p\n" + json.dumps(entry) + "\n")
    vd = str(Path(PY).with_name("vd"))
    timing = time_command(
        "visidata go-bottom", [vd, "-b", "-p", str(log), str(csv)], runs=runs, warmup=0
    )
    print(timing.line())
    return timing.median


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--vd-runs", type=int, default=None, help="VisiData runs (default --runs)")
    parser.add_argument("--skip-vd", action="store_true")
    parser.add_argument("--skip-10m", action="store_true", help="skip the 10M-row Parquet")
    parser.add_argument("--skip-info", action="store_true", help="skip studio info vs polars")
    parser.add_argument("--probe", nargs=2, metavar=("KIND", "PATH"))
    args = parser.parse_args()
    if args.probe:
        kind, path = args.probe
        fn = _probe_ours if kind == "ours" else _probe_fastdatatable
        print(json.dumps(fn(path)))
        return

    parquet = ensure_dataset(1_000_000, "parquet")
    jsonl = ensure_dataset(1_000_000, "jsonl")
    csv = ensure_dataset(1_000_000, "csv")
    big = None if args.skip_10m else ensure_dataset(10_000_000, "parquet")
    cores = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    print(f"{time.strftime('%Y-%m-%d %H:%M %Z')}; {cores} cores; Python {sys.version.split()[0]}")
    print(f"load average (1, 5, 15 min) at start: {_load()}")

    if not args.skip_info:
        print("\n## studio info vs a bare polars read (whole processes)")
        for path, reader in ((parquet, "read_parquet"), (jsonl, "read_ndjson")):
            ours = time_command(
                f"studio info {path.name}",
                [PY, "-m", "studio", "info", str(path)],
                runs=args.runs,
            )
            peer = time_command(
                f"polars.{reader}",
                [PY, "-c", f"import polars; polars.{reader}({str(path)!r})"],
                runs=args.runs,
            )
            print(ours.line())
            print(peer.line())
            print(ratio(ours, peer), "(target <= 1.3)")
        print(f"load average: {_load()}")

    print("\n## TUI (App.run_test, 200x50): first paint, key to repaint, peak RSS")
    print("first_paint_s: app constructed (imports done) -> first screen refresh showing rows;")
    print("process_first_paint_s: the same from the process start (imports included);")
    print("*_ms: key posted -> first screen refresh that drew the table (wall; *_cpu_ms UI thread)")
    medians = {}
    for path in (p for p in (parquet, big) if p is not None):
        medians[path] = _run_probe("ours", path, args.runs)
        print(_show(f"studio, whole app, {path.name}", medians[path]))
    peer = _run_probe("fastdatatable", parquet, args.runs)
    print(_show(f"textual-fastdatatable {parquet.name}", peer))
    ours = medians[parquet]
    print(
        "first paint ratio studio / fastdatatable = "
        f"{ours['first_paint_s'] / peer['first_paint_s']:.2f}"
    )
    print(f"load average: {_load()}")
    if not args.skip_vd:
        print("\n## VisiData: open the 1M-row CSV, go to the last row (vd -b command-log replay)")
        vd = _vd_bottom(csv, args.vd_runs or args.runs)
        mine = ours["process_first_paint_s"] + ours["G_ms"] / 1000
        print(
            f"studio process start -> first paint -> last row: {mine:.3f} s; "
            f"ratio studio / visidata = {mine / vd:.3f}"
        )
        print(f"load average: {_load()}")


if __name__ == "__main__":
    main()
