"""Augmentation throughput (issue 8): rule-based EDA rows/second on 100k rows, and a small local
seq2seq model (random weights, built here) on 1k rows, on the CPU.

    python -m benchmarks.bench_augment [--rows 100000] [--model-rows 1000]

With a real model on a GPU (see docs/benchmarks/augment.md):

    python -m benchmarks.bench_augment --model-rows 1000 --model Vamsi/T5_Paraphrase_Paws --skip-eda
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import polars as pl

from benchmarks.datagen import instruction_frame
from benchmarks.harness import self_peak_rss_mb
from studio.engine.steps.augment import AugmentEda
from studio.engine.steps.augment_models import AugmentModel
from studio.engine.steps.base import ID
from tests.tiny_models import tiny_t5


def frame(n: int) -> pl.DataFrame:
    df = instruction_frame(n, seed=3).select(pl.col("instruction").alias("text"), "label")
    return df.with_row_index(ID).with_columns(pl.col(ID).cast(pl.UInt64))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--model-rows", type=int, default=1000)
    parser.add_argument(
        "--model",
        default="",
        help="a real seq2seq model (name or path); default: a small random-weight T5 built here",
    )
    parser.add_argument("--skip-eda", action="store_true")
    args = parser.parse_args()
    if not args.skip_eda:
        df = frame(args.rows)
        start = time.perf_counter()
        report = AugmentEda(column="text", per_row=1, seed=0).run(df)
        seconds = time.perf_counter() - start
        print(
            f"EDA on {args.rows:,} rows: {seconds:.2f} s, {args.rows / seconds:,.0f} source rows/s, {report.added:,} new rows; peak RSS {self_peak_rss_mb():,.0f} MB"
        )
    df = frame(args.model_rows)
    with tempfile.TemporaryDirectory() as tmp:
        model = args.model or str(
            tiny_t5(Path(tmp), texts=df["text"].to_list(), width=64, layers=2)
        )
        step = AugmentModel(
            method="paraphrase",
            model=model,
            column="text",
            min_similarity=0,
            max_new_tokens=32,
            batch_size=32,
        )
        step.run(df.head(32))  # load the model once
        start = time.perf_counter()
        report = step.run(df)
        seconds = time.perf_counter() - start
    label = args.model or "random-weight T5 (d_model 64, 2+2 layers)"
    print(
        f"paraphrase with {label} on {args.model_rows:,} rows: {seconds:.2f} s, {args.model_rows / seconds:,.1f} rows/s, {report.added:,} new rows"
    )


if __name__ == "__main__":
    main()
