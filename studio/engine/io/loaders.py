"""Open a dataset file (or folder/glob of shards) into a `Dataset` with stable row ids.

This first version covers JSONL, JSON arrays, CSV/TSV and Parquet; see the Foundation issue for
the full list (encodings, compression, Arrow IPC, HF `save_to_disk` folders, shards).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl

from studio.engine.dataset import Dataset, Origin, Problem
from studio.engine.errors import LoadError
from studio.engine.shape import detect_shape
from studio.engine.steps.base import ID


def _with_ids(frame: pl.LazyFrame, offset: int = 0) -> pl.LazyFrame:
    return frame.with_row_index(ID, offset=offset).with_columns(pl.col(ID).cast(pl.UInt64))


def _check_file(path: Path) -> None:
    if not path.exists():
        raise LoadError(f"{path}: no such file.")
    if path.is_dir():
        return
    if path.stat().st_size == 0:
        raise LoadError(f"{path}: the file is empty.")


def _load_jsonl(path: Path) -> tuple[pl.LazyFrame, list[Problem], np.ndarray]:
    problems: list[Problem] = []
    records: list[dict[str, object]] = []
    lines: list[int] = []
    raw = path.read_bytes()
    for number, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            problems.append(Problem(path.name, number, "invalid UTF-8 bytes"))
            text = line.decode("utf-8", errors="replace")
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            problems.append(
                Problem(path.name, number, f"malformed JSON: {exc.msg} at column {exc.colno}")
            )
            continue
        if not isinstance(value, dict):
            problems.append(Problem(path.name, number, "line is not a JSON object"))
            continue
        records.append(value)
        lines.append(number)
    frame = pl.from_dicts(records, infer_schema_length=None) if records else pl.DataFrame()
    return frame.lazy(), problems, np.asarray(lines, dtype=np.int64)


def load_dataset(path: str | Path, **options: object) -> Dataset:
    """Open `path` and detect its shape. Bad rows become problems; good rows always load."""
    path = Path(path)
    _check_file(path)
    suffix = path.suffix.lower()
    problems: list[Problem] = []
    lines: np.ndarray | None = None
    first_line = 1
    if suffix in (".jsonl", ".ndjson"):
        frame, problems, lines = _load_jsonl(path)
        fmt = "jsonl"
    elif suffix == ".json":
        try:
            data = json.loads(path.read_text(encoding="utf-8-sig"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise LoadError(f"{path}: not valid JSON ({exc}).") from exc
        if not isinstance(data, list):
            raise LoadError(f"{path}: expected a JSON array of objects.")
        frame = pl.from_dicts(data, infer_schema_length=None).lazy()
        fmt = "json"
    elif suffix in (".csv", ".tsv"):
        frame = pl.scan_csv(path, separator="\t" if suffix == ".tsv" else ",")
        fmt = suffix[1:]
        first_line = 2
    elif suffix == ".parquet":
        frame = pl.scan_parquet(path)
        fmt = "parquet"
    else:
        raise LoadError(f"{path}: unsupported file type {suffix or '(none)'}.")
    frame = _with_ids(frame)
    rows = frame.select(pl.len()).collect().item()
    return Dataset(
        frame=frame,
        format=fmt,
        paths=[str(path)],
        rows=rows,
        shape=detect_shape(frame),
        problems=problems,
        origins=[Origin(str(path), 0, rows, lines, first_line)],
        options=dict(options),
    )
