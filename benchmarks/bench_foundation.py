"""Foundation benchmarks (issue 3): `studio info` vs a bare polars read; the TUI's first paint,
key-to-repaint and peak RSS on 1M and 10M rows; VisiData and textual-fastdatatable as peers.

    python -m benchmarks.datagen --rows 1000000 --format parquet jsonl csv
    python -m benchmarks.datagen --rows 10000000 --format parquet
    python -m benchmarks.bench_foundation [--runs 3] [--skip-vd]

Each probe runs in its own process so peak RSS is that of the probe alone.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.datagen import ensure_dataset
from benchmarks.harness import ratio, self_peak_rss_mb, time_command

PY = sys.executable


def _probe_ours(path: str) -> dict[str, float]:
    from studio.tui.app import StudioApp

    async def main() -> dict[str, float]:
        started = time.perf_counter()
        app = StudioApp([path])
        out: dict[str, float] = {}
        async with app.run_test(size=(200, 50)) as pilot:
            await app.workers.wait_for_complete()
            await pilot.pause()
            out["first_paint_s"] = time.perf_counter() - started
            for key, name in (("pagedown", "pgdn"), ("G", "G"), ("g", "g")):
                samples = []
                for _ in range(7):
                    t = time.perf_counter()
                    await pilot.press(key)
                    await pilot.pause()
                    samples.append(time.perf_counter() - t)
                    if key != "pagedown":
                        await pilot.press("g" if key == "G" else "G")
                        await pilot.pause()
                out[f"{name}_ms"] = statistics.median(samples) * 1000
        out["peak_rss_mb"] = self_peak_rss_mb()
        return out

    return asyncio.run(main())


def _probe_fastdatatable(path: str) -> dict[str, float]:
    from textual.app import App, ComposeResult
    from textual_fastdatatable import ArrowBackend, DataTable

    class Peer(App[None]):
        def compose(self) -> ComposeResult:
            yield DataTable(backend=ArrowBackend.from_parquet(path))

    async def main() -> dict[str, float]:
        started = time.perf_counter()
        app = Peer()
        out: dict[str, float] = {}
        async with app.run_test(size=(200, 50)) as pilot:
            await pilot.pause()
            out["first_paint_s"] = time.perf_counter() - started
            t = time.perf_counter()
            await pilot.press("ctrl+end")
            await pilot.pause()
            out["G_ms"] = (time.perf_counter() - t) * 1000
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
        )
        results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    return {k: statistics.median(r[k] for r in results) for k in results[0]}


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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip-vd", action="store_true")
    parser.add_argument("--skip-10m", action="store_true", help="skip the 10M-row Parquet")
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
    print(
        f"machine: {subprocess.run(['nproc'], capture_output=True, text=True).stdout.strip()} cores; Python {sys.version.split()[0]}"
    )

    print("\n## studio info vs a bare polars read")
    for path, reader in ((parquet, "read_parquet"), (jsonl, "read_ndjson")):
        ours = time_command(
            f"studio info {path.name}", [PY, "-m", "studio", "info", str(path)], runs=args.runs
        )
        peer = time_command(
            f"polars.{reader}",
            [PY, "-c", f"import polars; polars.{reader}({str(path)!r})"],
            runs=args.runs,
        )
        print(ours.line())
        print(peer.line())
        print(ratio(ours, peer), "(target <= 1.3)")

    print("\n## TUI (App.run_test, 200x50): first paint, key to repaint, peak RSS")
    medians = {}
    for path in (p for p in (parquet, big) if p is not None):
        medians[path] = _run_probe("ours", path, args.runs)
        print(
            f"studio {path.name}: " + ", ".join(f"{k} {v:,.1f}" for k, v in medians[path].items())
        )
    peer = _run_probe("fastdatatable", parquet, args.runs)
    print(
        f"textual-fastdatatable {parquet.name}: "
        + ", ".join(f"{k} {v:,.1f}" for k, v in peer.items())
    )
    ours = medians[parquet]
    print(
        f"first paint ratio studio / fastdatatable = {ours['first_paint_s'] / peer['first_paint_s']:.2f}"
    )
    if not args.skip_vd:
        print(
            "\n## VisiData: open the 1M-row CSV and go to the last row (vd -b command-log replay)"
        )
        vd = _vd_bottom(csv, max(1, args.runs // 3) if args.runs > 3 else args.runs)
        print(
            f"first paint + last row ratio studio / visidata = {(ours['first_paint_s'] + ours['G_ms'] / 1000) / vd:.3f}"
        )


if __name__ == "__main__":
    main()
