"""Tokens benchmark (issue 6): counting tokens of 1M instruction rows through the engine vs a
bare `tokenizers` `encode_batch` over the same texts, and a second open served from the cache.

    python -m benchmarks.datagen --rows 1000000 --format parquet
    python -m benchmarks.bench_tokens [--rows 1000000] [--runs 1]

With --rows below 1M the first rows of the 1M file are used (copied to benchmarks/out).

The tokenizer is a byte-level BPE trained here on the benchmark texts (no hub), saved with
`save_pretrained` and loaded by path through `studio.engine.tokens.load_tokenizer`, like a
user's. TOKENIZERS_PARALLELISM is forced on so the Rust encoder uses every core.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ["TOKENIZERS_PARALLELISM"] = "true"

import polars as pl  # noqa: E402

from benchmarks.datagen import ensure_dataset  # noqa: E402

OUT = Path(__file__).parent / "out"
COLUMNS = ("instruction", "input", "output")
BATCH = 16_384


def train_tokenizer(path: Path, folder: Path, sample_rows: int = 50_000) -> Path:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    frame = pl.read_parquet(path, columns=list(COLUMNS), n_rows=sample_rows)
    texts = [t for c in COLUMNS for t in frame[c].to_list()]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=16_000,
        special_tokens=["<|end|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer)
    PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|end|>").save_pretrained(str(folder))
    return folder


def cpu_seconds() -> float:
    """User + system CPU time of this process, all threads (the Rust encoder's included)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def bare(path: Path, tokenizer_json: Path, fast: bool) -> tuple[float, int]:
    """Read the columns, encode every text with the bare Rust tokenizer in batches."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(tokenizer_json))
    encode = tok.encode_batch_fast if fast else tok.encode_batch
    started = time.perf_counter()
    frame = pl.read_parquet(path, columns=list(COLUMNS))
    total = 0
    for column in COLUMNS:
        texts = frame[column].to_list()
        for start in range(0, len(texts), BATCH):
            total += sum(
                len(e) for e in encode(texts[start : start + BATCH], add_special_tokens=False)
            )
    return time.perf_counter() - started, total


def ours(path: Path, spec: str) -> tuple[float, int, float]:
    """Open the dataset and count through the engine (cold cache); returns (s, tokens, load s)."""
    from studio.engine.io import load_dataset
    from studio.engine.tokens import count_tokens, load_tokenizer, plan_columns

    counter = load_tokenizer(spec)  # loaded once per process, like the app
    started = time.perf_counter()
    dataset = load_dataset(path)
    plan = plan_columns(dataset.frame, dataset.shape)
    assert plan.columns == COLUMNS, plan
    counts = count_tokens(dataset.frame, counter, plan=plan, sources=dataset.paths, pristine=True)
    return time.perf_counter() - started, int(counts["tokens"].sum()), 0.0


def cached_open_1m(path: Path) -> tuple[float, float]:
    """The cache path on the full 1M-row file, independent of the tokenizer: count once with
    the estimate (cold), then time a second open + count served from the cache."""
    seconds = []
    for _ in range(2):
        started = time.perf_counter()
        ours(path, "")
        seconds.append(time.perf_counter() - started)
    return seconds[0], seconds[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument(
        "--skip-fast",
        action="store_true",
        help="leave out the bare encode_batch_fast peer (a third of the time at 1M rows)",
    )
    parser.add_argument(
        "--skip-cached-1m",
        action="store_true",
        help="leave out the 1M-row estimate count and cached re-open probe",
    )
    args = parser.parse_args()

    OUT.mkdir(parents=True, exist_ok=True)
    path = ensure_dataset(1_000_000, "parquet")
    if args.rows != 1_000_000:
        # a prefix of the 1M file, kept in benchmarks/out (not the shared data folder)
        subset = OUT / f"tokens_bench_{args.rows}.parquet"
        if not subset.exists():
            pl.read_parquet(path, n_rows=args.rows).write_parquet(subset)
        path = subset
    folder = OUT / "tokens_tokenizer"
    if not (folder / "tokenizer.json").exists():
        started = time.perf_counter()
        train_tokenizer(path, folder)
        print(f"trained tokenizer in {time.perf_counter() - started:.1f} s", file=sys.stderr)

    from studio.engine.tokens import load_tokenizer

    load_tokenizer(str(folder))  # import transformers and load once, outside the timings

    results: dict[str, list[float]] = {"ours": [], "bare": [], "bare_fast": [], "cached": []}
    cpu: dict[str, list[float]] = {"ours": [], "bare": [], "bare_fast": []}
    tokens: dict[str, int] = {}
    for run in range(args.runs):
        cache = Path(tempfile.mkdtemp(prefix="bench_tokens_cache_"))
        os.environ["STUDIO_CACHE_DIR"] = str(cache)
        try:
            # alternate the order so a busy neighbour does not favour one side
            order = ["bare", "ours", "bare_fast"] if run % 2 == 0 else ["ours", "bare", "bare_fast"]
            if args.skip_fast:
                order.remove("bare_fast")
            for name in order:
                cpu_before = cpu_seconds()
                if name == "ours":
                    seconds, n, _ = ours(path, str(folder))
                else:
                    seconds, n = bare(path, folder / "tokenizer.json", fast=name == "bare_fast")
                cpu[name].append(cpu_seconds() - cpu_before)
                results[name].append(seconds)
                tokens[name] = n
                print(
                    f"run {run + 1} {name}: {seconds:.2f} s, cpu {cpu[name][-1]:.2f} s, "
                    f"{n:,} tokens",
                    file=sys.stderr,
                )
            # the second open of the same file: served from the on-disk cache
            seconds, n, _ = ours(path, str(folder))
            results["cached"].append(seconds)
            tokens["cached"] = n
            print(f"run {run + 1} cached: {seconds:.3f} s", file=sys.stderr)
        finally:
            shutil.rmtree(cache, ignore_errors=True)

    cold_1m = cached_1m = float("nan")
    if not args.skip_cached_1m:
        cache = Path(tempfile.mkdtemp(prefix="bench_tokens_cache_"))
        os.environ["STUDIO_CACHE_DIR"] = str(cache)
        try:
            cold_1m, cached_1m = cached_open_1m(ensure_dataset(1_000_000, "parquet"))
            print(
                f"1M rows, estimate: cold {cold_1m:.2f} s, cached {cached_1m:.3f} s",
                file=sys.stderr,
            )
        finally:
            shutil.rmtree(cache, ignore_errors=True)

    assert len(set(tokens.values())) == 1, tokens
    med = {k: statistics.median(v) for k, v in results.items() if v}
    med_cpu = {k: statistics.median(v) for k, v in cpu.items() if v}
    summary = {
        "rows": args.rows,
        "columns": list(COLUMNS),
        "tokens": tokens["ours"],
        "cores": os.cpu_count(),
        "median_seconds": med,
        "tokens_per_second": {k: tokens["ours"] / v for k, v in med.items() if k != "cached"},
        "ratio_vs_bare_encode_batch": med["ours"] / med["bare"],
        "ratio_vs_bare_encode_batch_fast": med["ours"] / med["bare_fast"]
        if "bare_fast" in med
        else None,
        "median_cpu_seconds": med_cpu,
        "cpu_ratio_vs_bare_encode_batch": med_cpu["ours"] / med_cpu["bare"],
        "cpu_ratio_vs_bare_encode_batch_fast": med_cpu["ours"] / med_cpu["bare_fast"]
        if "bare_fast" in med_cpu
        else None,
        "load_average": os.getloadavg(),
        "cached_open_seconds": med["cached"],
        "cached_open_1m_rows_seconds": cached_1m,
        "cold_estimate_1m_rows_seconds": cold_1m,
        "runs": results,
        "cpu_runs": cpu,
    }
    (OUT / "tokens.json").write_text(json.dumps(summary, indent=2))
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
