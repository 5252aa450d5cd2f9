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


def frame(n: int) -> pl.DataFrame:
    df = instruction_frame(n, seed=3).select(pl.col("instruction").alias("text"), "label")
    return df.with_row_index(ID).with_columns(pl.col(ID).cast(pl.UInt64))


def tiny_model(folder: Path, texts: list[str]) -> str:
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast, T5Config, T5ForConditionalGeneration

    tok = Tokenizer(models.WordLevel(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.train_from_iterator(
        texts, trainers.WordLevelTrainer(special_tokens=["<pad>", "</s>", "<unk>"], vocab_size=8000)
    )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="<pad>", eos_token="</s>", unk_token="<unk>"
    )
    fast.save_pretrained(folder)
    torch.manual_seed(0)
    config = T5Config(
        vocab_size=len(fast),
        d_model=64,
        d_ff=128,
        d_kv=16,
        num_layers=2,
        num_decoder_layers=2,
        num_heads=4,
        pad_token_id=fast.pad_token_id,
        eos_token_id=fast.eos_token_id,
        decoder_start_token_id=fast.pad_token_id,
    )
    T5ForConditionalGeneration(config).save_pretrained(folder)
    return str(folder)


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
        model = args.model or tiny_model(Path(tmp), df["text"].to_list())
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
