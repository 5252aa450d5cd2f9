"""Seeded synthetic benchmark data: instruction rows of about 600 characters.

Words are pseudo-words built from syllables, so no text comes from anywhere else.

    python -m benchmarks.datagen --rows 1000000 --format parquet jsonl
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import polars as pl

DATA_DIR = Path(__file__).parent / "data"
LABELS = ("billing", "technical", "account", "fraud")
LABEL_SHARES = (0.70, 0.20, 0.08, 0.02)
_SYLLABLES = [c + v for c in "bcdfghklmnprstvz" for v in "aeiou"] + [
    "ar",
    "en",
    "is",
    "on",
    "ul",
    "ex",
    "qu",
]


def vocabulary(size: int = 20000, seed: int = 7) -> list[str]:
    rng = np.random.default_rng(seed)
    words: set[str] = set()
    while len(words) < size:
        k = int(rng.integers(1, 4))
        words.add("".join(rng.choice(_SYLLABLES, size=k)))
    return sorted(words)


def _field(rng: np.random.Generator, words: pl.Series, n: int, k: int) -> pl.Series:
    # Zipf-like word frequencies (p ~ 1 / (rank + 20)), like natural text
    weights = 1.0 / (np.arange(len(words)) + 20.0)
    ranks = rng.choice(len(words), size=n * k, p=weights / weights.sum())
    gathered = words.gather(ranks)
    return gathered.reshape((n, k)).arr.join(" ")


def instruction_frame(n: int, seed: int = 0) -> pl.DataFrame:
    """`n` rows: instruction (~70 chars), input (~120), output (~400), a 4-class label at
    70/20/8/2 %. About 600 characters a row."""
    rng = np.random.default_rng(seed)
    words = pl.Series(vocabulary())
    verbs = pl.Series(
        ["Write", "Explain", "Summarize", "Draft", "List", "Describe", "Rewrite", "Classify"]
    )
    label_idx = rng.choice(len(LABELS), size=n, p=LABEL_SHARES)
    return pl.DataFrame(
        {
            "instruction": (
                verbs.gather(rng.integers(0, len(verbs), n)) + " " + _field(rng, words, n, 11)
            ),
            "input": _field(rng, words, n, 20),
            "output": _field(rng, words, n, 66),
            "label": pl.Series(LABELS).gather(label_idx),
        }
    )


def plant_near_duplicates(
    frame: pl.DataFrame,
    rate: float = 0.05,
    seed: int = 1,
    column: str = "output",
    edits: tuple[float, float] = (0.02, 0.04),
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Append copies of `rate * n` random rows in which 2-4 % of the words of `column` were
    substituted, inserted or deleted. Returns the frame and the truth: (copy_row, source_row),
    row positions in the returned frame."""
    rng = np.random.default_rng(seed)
    n = frame.height
    count = int(n * rate)
    sources = np.sort(rng.choice(n, size=count, replace=False))
    vocab = vocabulary()
    texts = frame[column].gather(sources).to_list()
    out = []
    for text in texts:
        toks = text.split(" ")
        m = max(1, int(round(len(toks) * rng.uniform(*edits))))
        for _ in range(m):
            op = rng.integers(0, 3)
            pos = int(rng.integers(0, len(toks)))
            if op == 0:
                toks[pos] = vocab[int(rng.integers(0, len(vocab)))]
            elif op == 1:
                toks.insert(pos, vocab[int(rng.integers(0, len(vocab)))])
            elif len(toks) > 1:
                del toks[pos]
        out.append(" ".join(toks))
    copies = frame[sources.tolist()].with_columns(pl.Series(column, out))
    truth = pl.DataFrame({"copy_row": np.arange(n, n + count), "source_row": sources})
    return pl.concat([frame, copies]), truth


def ensure_dataset(n: int, fmt: str = "parquet", kind: str = "plain", seed: int = 0) -> Path:
    """Write (once) and return benchmarks/data/<kind>_<n>.<fmt>. `kind`: plain or neardup
    (the latter also writes <kind>_<n>.truth.parquet)."""
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    suffix = {"parquet": "parquet", "jsonl": "jsonl", "csv": "csv"}[fmt]
    path = DATA_DIR / f"{kind}_{n}.{suffix}"
    if path.exists():
        return path
    base = DATA_DIR / f"{kind}_{n}.parquet"
    if fmt == "parquet" and kind == "plain" and n > 1_000_000:
        _write_parquet_chunked(path, n, seed)
        return path
    if base.exists():
        frame = pl.read_parquet(base)
    elif kind == "neardup":
        frame, truth = plant_near_duplicates(instruction_frame(int(n / 1.05), seed))
        truth.write_parquet(DATA_DIR / f"{kind}_{n}.truth.parquet")
    else:
        frame = instruction_frame(n, seed)
    tmp = path.with_suffix(path.suffix + ".tmp")
    if fmt == "parquet":
        frame.write_parquet(tmp)
    elif fmt == "jsonl":
        frame.write_ndjson(tmp)
    else:
        frame.write_csv(tmp)
    tmp.rename(path)
    return path


def _write_parquet_chunked(path: Path, n: int, seed: int, chunk: int = 1_000_000) -> None:
    """Large files are written a million rows at a time, to keep memory flat."""
    import pyarrow.parquet as pq

    tmp = path.with_suffix(path.suffix + ".tmp")
    writer = None
    try:
        for i, start in enumerate(range(0, n, chunk)):
            table = instruction_frame(min(chunk, n - start), seed + i).to_arrow()
            if writer is None:
                writer = pq.ParquetWriter(tmp, table.schema)
            writer.write_table(table, row_group_size=100_000)
    finally:
        if writer is not None:
            writer.close()
    tmp.rename(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--format", nargs="+", default=["parquet", "jsonl"])
    parser.add_argument("--kind", default="plain", choices=["plain", "neardup"])
    args = parser.parse_args()
    for fmt in args.format:
        print(ensure_dataset(args.rows, fmt, args.kind))


if __name__ == "__main__":
    main()
