"""Export 1M rows to Parquet and to JSONL; compare with polars writing the same frame.

    python -m benchmarks.bench_export [--rows 1000000] [--runs 3] [--out-dir DIR]

Ours is the whole `export_dataset` call: mapping and validation, batched writes with progress
and cancel checks, fsync and rename, the recipe and the data card. The peer is a bare
`DataFrame.write_parquet` / `write_ndjson` of the same in-memory frame (no fsync). Both write
fresh files into the same folder. Target: ratio at most 1.5.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
from pathlib import Path

from benchmarks.datagen import ensure_dataset
from benchmarks.harness import Timing, ratio, time_call
from studio.engine.export import ExportOptions, export_dataset
from studio.engine.io import load_dataset
from studio.engine.steps.base import ID


def _fresh(folder: Path) -> None:
    for path in folder.iterdir():
        shutil.rmtree(path) if path.is_dir() else path.unlink()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--formats", nargs="+", default=["parquet", "jsonl"])
    parser.add_argument("--out-dir", default=None, help="where to write (default: a temp folder)")
    args = parser.parse_args()

    source = ensure_dataset(args.rows, "parquet")
    dataset = load_dataset(source)
    data = dataset.frame.collect()
    lazy = data.lazy()
    plain = data.drop(ID)
    out = Path(args.out_dir or tempfile.mkdtemp(prefix="bench_export_", dir=Path.cwd()))
    out.mkdir(parents=True, exist_ok=True)
    print(
        f"machine: {os.cpu_count()} cores, {platform.machine()}, Python {sys.version.split()[0]}; "
        f"data: {source.name}, {data.height:,} rows, {plain.estimated_size() / 1e6:,.0f} MB in memory"
    )
    print(f"writing into {out}")
    try:
        for fmt, suffix, peer_write in (
            ("parquet", ".parquet", plain.write_parquet),
            ("jsonl", ".jsonl", plain.write_ndjson),
        ):
            if fmt not in args.formats:
                continue
            target = out / f"ours{suffix}"

            def ours(fmt: str = fmt, target: Path = target) -> None:
                _fresh(out)
                export_dataset(
                    dataset, lazy, ExportOptions(output=target, format=fmt, per_split=False)
                )

            def peer(write=peer_write, suffix: str = suffix) -> None:  # noqa: ANN001
                _fresh(out)
                write(out / f"polars{suffix}")

            timings: list[Timing] = []
            for _ in range(args.runs):  # interleave, the disk is shared with other work
                timings.append(time_call(f"studio export --format {fmt}", ours, runs=1, warmup=0))
                timings.append(time_call(f"polars write_{fmt}", peer, runs=1, warmup=0))
            mine = Timing(timings[0].name, [t.seconds[0] for t in timings[0::2]])
            theirs = Timing(timings[1].name, [t.seconds[0] for t in timings[1::2]])
            peer()
            theirs_size = (out / f"polars{suffix}").stat().st_size
            ours()
            size = target.stat().st_size
            print(
                f"\n## {fmt} (studio wrote {size / 1e6:,.0f} MB, polars {theirs_size / 1e6:,.0f} MB)"
            )
            print(mine.line())
            print(theirs.line())
            print(ratio(mine, theirs), "(target <= 1.5)")
    finally:
        if args.out_dir is None:
            shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
