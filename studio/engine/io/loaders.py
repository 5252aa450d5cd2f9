"""Open a dataset file, folder or glob of shards into a `Dataset` with stable row ids.

`load_dataset(path, **options)` is the one entry point. Options (all optional, JSON values, kept
in `Dataset.options` so a recipe reopens its source the same way):

- `format`: force a format (jsonl, json, csv, tsv, parquet, arrow, hf) instead of the extension.
- `encoding`: text encoding (default: UTF-8, with or without BOM, falling back to cp1252).
- `separator`: CSV field separator (default: sniffed among , tab ; |).
- `has_header`: whether the first CSV row names the columns (default: guessed).
- `split`: which split of a Hugging Face `DatasetDict` folder (default: train).
- `text`, `label`, `kind`: override the detected shape.

Formats: JSON Lines, JSON arrays, CSV/TSV, Parquet, Arrow IPC/Feather, `datasets` folders, each
optionally compressed (.gz .zst .bz2 .xz). A folder or glob loads every shard of its main format,
with each row's source (`shard.jsonl:LINE`) kept. Bad lines and rows become `Problem`s and the
good rows still load; a file that cannot be read at all raises one `LoadError` sentence.
"""

from __future__ import annotations

import glob
import os
import re
from collections import Counter
from pathlib import Path

import polars as pl

from studio.engine.dataset import Dataset, Origin, Problem
from studio.engine.errors import LoadError
from studio.engine.io.columnar import is_hf_folder, read_hf, read_ipc, read_parquet
from studio.engine.io.delimited import normalize_separator, read_delimited
from studio.engine.io.jsonl import read_json, read_jsonl
from studio.engine.io.part import Part
from studio.engine.io.source import (
    SUPPORTED,
    TEXT_FORMATS,
    looks_binary,
    magic_of,
    normalize_format,
    read_head,
    split_name,
)
from studio.engine.shape import KINDS, detect_shape
from studio.engine.steps.base import ID

OPTIONS = ("format", "encoding", "separator", "has_header", "split", "text", "label", "kind")

_FORMAT_NAMES = {
    "jsonl": "JSON Lines",
    "json": "JSON",
    "csv": "CSV",
    "tsv": "TSV",
    "parquet": "Parquet",
    "ipc": "Arrow IPC",
    "hf": "a Hugging Face datasets folder",
}
_PREFERENCE = ("parquet", "ipc", "jsonl", "csv", "tsv", "json")


def _natural(path: Path) -> list[object]:
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", str(path))]


def _check_options(options: dict[str, object]) -> dict[str, object]:
    opts = {k: v for k, v in options.items() if v is not None}
    unknown = sorted(set(opts) - set(OPTIONS))
    if unknown:
        raise LoadError(f"Unknown load option {unknown[0]!r}: use {', '.join(OPTIONS)}.")
    if "format" in opts:
        normalize_format(str(opts["format"]))
    if "kind" in opts and opts["kind"] not in KINDS:
        raise LoadError(f"Unknown dataset kind {opts['kind']!r}: use one of {', '.join(KINDS)}.")
    if "separator" in opts:
        normalize_separator(opts["separator"])
    if "has_header" in opts and not isinstance(opts["has_header"], bool):
        raise LoadError("has_header must be true or false.")
    return opts


def _resolve(path: str, forced: str | None) -> tuple[list[Path], list[Problem]]:
    """The files to read (a folder or glob gives its shards, in natural order)."""
    target = Path(path).expanduser()
    problems: list[Problem] = []
    try:
        exists = target.exists()
    except PermissionError as exc:
        raise LoadError(f"{path}: cannot read it (permission denied).") from exc
    if not exists:
        if any(ch in path for ch in "*?["):
            matches = [Path(p) for p in glob.glob(os.path.expanduser(path), recursive=True)]
            files = [p for p in matches if p.is_file()]
            if not files:
                raise LoadError(f"No files match {path}.")
            return _pick_shards(files, path, forced, problems), problems
        raise LoadError(f"{path}: no such file or folder.")
    if target.is_dir():
        if forced == "hf" or is_hf_folder(target):
            return [target], problems
        try:
            files = [
                p
                for p in target.rglob("*")
                if p.is_file()
                and not any(part.startswith(".") for part in p.relative_to(target).parts)
            ]
        except PermissionError as exc:
            raise LoadError(f"{path}: cannot read the folder (permission denied).") from exc
        if not files:
            raise LoadError(f"{path}: the folder is empty.")
        return _pick_shards(files, path, forced, problems), problems
    return [target], problems


def _pick_shards(
    files: list[Path], where: str, forced: str | None, problems: list[Problem]
) -> list[Path]:
    if forced:
        named = [f for f in files if split_name(f)[0] == forced]
        unnamed = [f for f in files if split_name(f)[0] is None]
        return sorted(named or unnamed or files, key=_natural)
    by_format: dict[str, list[Path]] = {}
    for f in files:
        fmt, _ = split_name(f)
        if fmt is not None:
            by_format.setdefault(fmt, []).append(f)
    if not by_format:
        raise LoadError(f"{where}: holds no dataset files (supported: {SUPPORTED}).")
    counts = Counter({fmt: len(v) for fmt, v in by_format.items()})
    best = max(counts, key=lambda f: (counts[f], -_PREFERENCE.index(f)))
    skipped = [f.name for fmt, fs in by_format.items() if fmt != best for f in fs]
    if skipped:
        shown = ", ".join(sorted(skipped)[:5]) + (" ..." if len(skipped) > 5 else "")
        problems.append(
            Problem(where, None, f"skipped {len(skipped)} file(s) of another format: {shown}")
        )
    return sorted(by_format[best], key=_natural)


def _read_file(path: Path, opts: dict[str, object]) -> Part:
    forced = normalize_format(str(opts["format"])) if "format" in opts else None
    if path.is_dir():
        return read_hf(path, opts)
    try:
        size = path.stat().st_size
    except PermissionError as exc:
        raise LoadError(f"{path}: cannot read the file (permission denied).") from exc
    if size == 0:
        raise LoadError(f"{path}: the file is empty.")
    fmt, compression = split_name(path)
    head = read_head(path)
    magic = magic_of(head)
    if compression is None and magic in ("gzip", "zstd", "bz2", "xz"):
        compression = magic
    problems: list[Problem] = []
    if forced:
        fmt = forced
    elif compression is None and magic in ("parquet", "ipc") and fmt != magic:
        if fmt is not None:
            problems.append(
                Problem(
                    path.name,
                    None,
                    f"named {path.suffix} but holds {_FORMAT_NAMES[magic]} data; read as such",
                )
            )
        fmt = magic
    if fmt is None:
        fmt = _sniff_text(path, head, compression)
    if fmt in TEXT_FORMATS and compression is None and looks_binary(head):
        raise LoadError(
            f"{path}: not a text file (it holds NUL bytes), so it cannot be read as {_FORMAT_NAMES[fmt]}."
        )
    if fmt == "jsonl":
        part = read_jsonl(path, compression, opts)
    elif fmt == "json":
        part = read_json(path, compression, opts)
    elif fmt in ("csv", "tsv"):
        part = read_delimited(path, compression, fmt, opts)
    elif fmt == "parquet":
        part = read_parquet(path, compression, opts)
    elif fmt == "ipc":
        part = read_ipc(path, compression, opts)
    else:
        raise LoadError(f"{path}: cannot read {_FORMAT_NAMES.get(fmt, fmt)} from a single file.")
    part.problems[:0] = problems
    return part


def _sniff_text(path: Path, head: bytes, compression: str | None) -> str:
    if compression is None:
        if looks_binary(head) or magic_of(head) in ("zip", "sqlite"):
            raise LoadError(f"{path}: unsupported file type (supported: {SUPPORTED}).")
        start = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
        if start == b"{":
            return "jsonl"
        if start == b"[":
            return "json"
    suffix = "".join(path.suffixes) or "(none)"
    raise LoadError(f"{path}: unsupported file type {suffix} (supported: {SUPPORTED}).")


def _read_all(
    files: list[Path], opts: dict[str, object], problems: list[Problem]
) -> tuple[list[Path], list[Part]]:
    """Read every file. Among several shards, one that cannot be read at all becomes a problem
    and the others still load."""
    if len(files) == 1:
        part = _read_file(files[0], opts)
        problems.extend(part.problems)
        return files, [part]
    kept: list[Path] = []
    parts: list[Part] = []
    failures: list[LoadError] = []
    for file in files:
        try:
            part = _read_file(file, opts)
        except LoadError as exc:
            failures.append(exc)
            problems.append(Problem(file.name, None, f"skipped: {exc}"))
            continue
        parts.append(part)
        problems.extend(part.problems)
        kept.append(file)
    if not parts:
        raise failures[0]
    return kept, parts


def load_dataset(path: str | Path, **options: object) -> Dataset:
    """Open `path` (file, folder or glob) and detect its shape. Bad rows become problems."""
    opts = _check_options(options)
    forced = normalize_format(str(opts["format"])) if "format" in opts else None
    files, problems = _resolve(str(path), forced)
    files, parts = _read_all(files, opts, problems)
    origins: list[Origin] = []
    first_id = 0
    for file, part in zip(files, parts, strict=True):
        origins.append(Origin(str(file), first_id, part.rows, part.lines, part.first_line))
        first_id += part.rows
    if len(parts) == 1:
        frame = parts[0].frame
    else:
        frame = pl.concat([p.frame for p in parts], how="diagonal_relaxed")
        try:
            frame.collect_schema()
        except Exception as exc:
            raise LoadError(f"{path}: the shards have columns of clashing types ({exc}).") from exc
    if ID in frame.collect_schema().names():
        frame = frame.rename({ID: f"{ID}_source"})
    frame = frame.with_row_index(ID).with_columns(pl.col(ID).cast(pl.UInt64))
    shape = detect_shape(frame)
    names = frame.collect_schema().names()
    for key in ("text", "label"):
        column = opts.get(key)
        if column is not None and column not in names:
            shown = ", ".join(n for n in names if n != ID)
            raise LoadError(f"No column named {column!r} for the {key} (columns: {shown}).")
    shape = shape.with_overrides(
        kind=opts.get("kind"),  # type: ignore[arg-type]
        text=opts.get("text"),  # type: ignore[arg-type]
        label=opts.get("label"),  # type: ignore[arg-type]
    )
    return Dataset(
        frame=frame,
        format=parts[0].format,
        paths=[str(f) for f in files],
        rows=first_id,
        shape=shape,
        problems=problems,
        origins=origins,
        options=opts,
    )
