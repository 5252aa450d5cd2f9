"""Augmentation throughput (issue 8): rule-based EDA rows/second on 100k rows, and a small local
seq2seq model (random weights, built here) on 1k rows, on the CPU.

    python -m benchmarks.bench_augment [--rows 100000] [--model-rows 1000] [--shape tiny|t5-small]

`--shape tiny` (default) is the test builder's T5 at d_model 64, 2+2 layers (~0.3M parameters);
`--shape t5-small` builds a random-weight T5 with t5-small's dimensions (d_model 512, d_ff 2048,
6+6 layers, 8 heads, vocabulary padded to 32,128: ~60M parameters), so the compute per token is
that of a real small paraphrase model. Random weights rarely emit the end token early, so each
variant runs to `max_new_tokens` (32): an upper bound for a trained model of that size.

With a real model on a GPU (see docs/benchmarks/augment.md):

    python -m benchmarks.bench_augment --model-rows 1000 --model Vamsi/T5_Paraphrase_Paws --skip-eda
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import polars as pl
import torch

from benchmarks.datagen import instruction_frame
from benchmarks.harness import self_peak_rss_mb
from studio.engine.steps.augment import AugmentEda
from studio.engine.steps.augment_models import AugmentModel
from studio.engine.steps.base import ID
from tests.tiny_models import tiny_t5

SHAPES = {
    "tiny": "random-weight T5 (d_model 64, 2+2 layers, tests/tiny_models.py builder)",
    "t5-small": "random-weight T5 with t5-small dimensions (d_model 512, 6+6 layers, 8 heads, vocab 32,128)",
}


def build(folder: Path, texts: list[str], shape: str) -> Path:
    if shape == "tiny":
        return tiny_t5(folder, texts=texts, width=64, layers=2)
    from transformers import AutoTokenizer, T5Config, T5ForConditionalGeneration

    tiny_t5(folder, texts=texts)  # trains and saves the tokenizer beside a throwaway model
    tok = AutoTokenizer.from_pretrained(folder)
    torch.manual_seed(0)
    config = T5Config(
        vocab_size=max(32128, len(tok)),
        d_model=512,
        d_ff=2048,
        d_kv=64,
        num_layers=6,
        num_decoder_layers=6,
        num_heads=8,
        pad_token_id=tok.pad_token_id,
        eos_token_id=tok.eos_token_id,
        decoder_start_token_id=tok.pad_token_id,
    )
    T5ForConditionalGeneration(config).save_pretrained(folder)
    return folder


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
    parser.add_argument("--shape", choices=["tiny", "t5-small"], default="tiny")
    parser.add_argument(
        "--threads",
        type=int,
        default=0,
        help="torch intra-op threads (0: torch's default); on a loaded shared box 1 is faster",
    )
    parser.add_argument("--skip-eda", action="store_true")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if not args.skip_eda:
        df = frame(args.rows)
        start, cpu = time.perf_counter(), time.process_time()
        report = AugmentEda(column="text", per_row=1, seed=0).run(df)
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        print(
            f"EDA on {args.rows:,} rows: {seconds:.2f} s wall, {cpu:.2f} s CPU, {args.rows / seconds:,.0f} source rows/s, {report.added:,} new rows; {report.summary()}; peak RSS {self_peak_rss_mb():,.0f} MB"
        )
    if args.model_rows <= 0:
        return
    df = frame(args.model_rows)
    with tempfile.TemporaryDirectory() as tmp:
        model = args.model or str(build(Path(tmp), df["text"].to_list(), args.shape))
        step = AugmentModel(
            method="paraphrase",
            model=model,
            column="text",
            min_similarity=0,
            max_new_tokens=32,
            batch_size=32,
        )
        step.run(df.head(32))  # load the model once
        start, cpu = time.perf_counter(), time.process_time()
        report = step.run(df)
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        device = ", ".join(report.notes)
    label = args.model or SHAPES[args.shape]
    print(
        f"paraphrase with {label} on {args.model_rows:,} rows ({device}, torch threads {torch.get_num_threads()}): {seconds:.2f} s wall, {cpu:.2f} s CPU, {args.model_rows / seconds:,.1f} rows/s, {report.added:,} new rows; {report.summary()}; peak RSS {self_peak_rss_mb():,.0f} MB"
    )


if __name__ == "__main__":
    main()
