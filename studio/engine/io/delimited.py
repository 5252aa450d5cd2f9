"""CSV and TSV: separator and header sniffing, quoting, ragged rows as problems.

polars parses the whole file as text columns (a few spare columns catch rows with too many
fields); rows whose last field is empty are re-checked against their raw line with Python's
`csv`, since polars pads short rows silently. Column types are then inferred from the text.
If polars cannot split the file at all (an unclosed quote, say), Python's `csv` reads it.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from studio.engine.dataset import Problem
from studio.engine.errors import LoadError
from studio.engine.io.part import Part, compact_lines
from studio.engine.io.source import decode_text, has_bom, line_spans, read_bytes, read_head

if TYPE_CHECKING:
    import numpy as np  # numpy is imported where used: it costs start-up time

_SEPARATORS = (",", "\t", ";", "|")
_SEPARATOR_NAMES = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}
_SPARE = 8
_SAMPLE_BYTES = 1 << 16


def normalize_separator(value: object) -> str:
    sep = _SEPARATOR_NAMES.get(str(value).lower(), str(value))
    if len(sep) != 1:
        raise LoadError(f"The separator must be one character, not {value!r}.")
    return sep


def _sample_records(sample: str, sep: str, limit: int = 200) -> list[list[str]]:
    reader = csv.reader(io.StringIO(sample, newline=""), delimiter=sep, quotechar='"')
    out: list[list[str]] = []
    try:
        for row in reader:
            if row and any(cell.strip() for cell in row):
                out.append(row)
            if len(out) >= limit:
                break
    except csv.Error:
        pass
    return out


def sniff_separator(sample: str) -> str:
    best: tuple[float, int, str] | None = None
    for rank, sep in enumerate(_SEPARATORS):
        rows = _sample_records(sample, sep)
        if len(rows) > 2:
            rows = rows[:-1]  # the sample may cut the last record short
        if not rows:
            continue
        counts = Counter(len(r) for r in rows)
        mode, hits = counts.most_common(1)[0]
        if mode < 2:
            continue
        score = (hits / len(rows), -rank, sep)
        if best is None or score > best:
            best = score
    return best[2] if best else ","


def _number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return value.strip().lower() not in ("nan", "inf", "-inf", "infinity")


def looks_like_header(rows: list[list[str]]) -> bool:
    """Guess whether the first record names the columns."""
    if not rows:
        return False
    first, rest = rows[0], rows[1:]
    named = [v for v in first if v.strip()]
    if len(named) < len(first) - 1 or (len(named) < len(first) and first[0].strip()):
        return False
    if any(_number(v) or len(v) > 100 or "\n" in v for v in named):
        return False
    if len(set(named)) != len(named):
        return False
    for i, value in enumerate(first):
        column = [r[i] for r in rest if i < len(r)]
        if value and value in column:
            return False
    return True


def read_delimited(
    path: Path, compression: str | None, fmt: str, options: dict[str, object]
) -> Part:
    name = path.name
    problems: list[Problem] = []
    encoding = options.get("encoding")
    encoding = encoding if isinstance(encoding, str) else None
    head = read_head(path, _SAMPLE_BYTES)
    direct = compression is None and encoding is None and not has_bom(head)
    # Plain UTF-8 files go to polars by path (it maps the file and checks UTF-8 itself);
    # the bytes are read in Python only when something needs a closer look.
    data: bytes | None = None
    if not direct:
        data = _decoded(path, compression, encoding, problems)
        head = data[:_SAMPLE_BYTES]
    elif not head.strip() and not path.read_bytes().strip():
        raise LoadError(f"{name}: the file has no rows.")

    def content() -> bytes:
        nonlocal data
        if data is None:
            data = path.read_bytes()
        return data

    sample = head.decode("utf-8", errors="ignore")
    if len(head) >= _SAMPLE_BYTES and "\n" in sample:
        sample = sample[: sample.rfind("\n") + 1]
    if options.get("separator") is not None:
        sep = normalize_separator(options["separator"])
    elif fmt == "tsv":
        sep = "\t"
    else:
        sep = sniff_separator(sample)
    rows = _sample_records(sample, sep)
    has_header = options.get("has_header")
    header = bool(has_header) if has_header is not None else looks_like_header(rows)
    width = len(rows[0]) if header and rows else _mode_width(rows)
    try:
        cells, fields, lines = _split_polars(path if direct else content(), sep, width, content)
    except Exception as exc:
        if direct and "utf" in str(exc).lower():  # not UTF-8 after all: decode, then retry
            data = _decoded(path, None, None, problems)
            try:
                cells, fields, lines = _split_polars(data, sep, width, content)
            except Exception:
                cells, fields, lines = _split_python(data, sep, width, name, problems)
        else:
            cells, fields, lines = _split_python(content(), sep, width, name, problems)
    data = None  # the parsed cells hold the text now
    return _assemble(cells, fields, lines, header, width, name, problems, fmt)


def _decoded(
    path: Path, compression: str | None, encoding: str | None, problems: list[Problem]
) -> bytes:
    raw = read_bytes(path, compression, problems)
    text = decode_text(raw, path.name, encoding)
    problems.extend(text.problems)
    if not text.data.strip():
        raise LoadError(f"{path.name}: the file has no rows.")
    return text.data


def _mode_width(rows: list[list[str]]) -> int:
    if not rows:
        return 1
    return Counter(len(r) for r in rows).most_common(1)[0][0]


def _split_polars(
    source: Path | bytes, sep: str, width: int, content: Callable[[], bytes]
) -> tuple[pl.DataFrame, np.ndarray, np.ndarray]:
    """All records as text columns f0.., the field count of each and its first line."""
    import numpy as np

    total = width + _SPARE
    names = [f"f{i}" for i in range(total)]
    cells = pl.read_csv(
        source,
        has_header=False,
        separator=sep,
        quote_char='"',
        schema=dict.fromkeys(names, pl.String),
        missing_columns="insert",
        truncate_ragged_lines=True,
        empty_string_is_null=False,
        raise_if_empty=False,
    )
    newline_counts = cells.select(
        pl.sum_horizontal(pl.col(names).str.count_matches("\n", literal=True)).alias("n")
    )["n"].to_numpy()
    lines = 1 + np.arange(cells.height, dtype=np.int64)
    if newline_counts.any():
        lines += np.concatenate(([0], np.cumsum(newline_counts)[:-1])).astype(np.int64)
    # Field counts: the last non-empty column; rows whose last expected field is empty are
    # ambiguous (short row or empty value) and are re-read from their raw lines below.
    nonempty = cells.select([(pl.col(n) != "").alias(n) for n in names]).to_numpy()
    fields = np.where(
        nonempty.any(axis=1),
        total - np.argmax(nonempty[:, ::-1], axis=1),
        0,
    ).astype(np.int64)
    ambiguous = np.flatnonzero(~nonempty[:, width - 1]) if cells.height else np.zeros(0, int)
    if len(ambiguous):
        _recount(content(), sep, lines, newline_counts, ambiguous, fields)
    return cells, fields, lines


def _recount(
    data: bytes,
    sep: str,
    lines: np.ndarray,
    newline_counts: np.ndarray,
    rows: np.ndarray,
    fields: np.ndarray,
) -> None:
    starts, ends = line_spans(data)
    for i in rows:
        first = int(lines[i]) - 1
        last = first + int(newline_counts[i])
        begin = int(starts[first]) if first < len(starts) else len(data)
        end = int(ends[last]) if last < len(ends) else len(data)
        record = data[begin:end].decode("utf-8", errors="replace")
        if not record.strip():
            fields[i] = 0
            continue
        parsed = next(csv.reader(io.StringIO(record, newline=""), delimiter=sep), [])
        fields[i] = len(parsed)


def _split_python(
    data: bytes, sep: str, width: int, name: str, problems: list[Problem]
) -> tuple[pl.DataFrame, np.ndarray, np.ndarray]:
    import numpy as np

    text = data.decode("utf-8", errors="replace")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, quotechar='"', strict=False)
    records: list[list[str]] = []
    starts: list[int] = []
    counts: list[int] = []
    previous = 0
    for row in reader:
        starts.append(previous + 1)
        previous = reader.line_num
        counts.append(0 if not any(cell.strip() for cell in row) else len(row))
        records.append(row)
    if records and text[_offset_of_line(text, starts[-1]) :].count('"') % 2 == 1:
        problems.append(
            Problem(name, starts[-1], "unclosed quote: the rest of the file could not be split")
        )
        records.pop()
        starts.pop()
        counts.pop()
    total = width + _SPARE
    columns: list[list[str]] = [[] for _ in range(total)]
    for row in records:
        padded = row[:total] + [""] * (total - min(len(row), total))
        for column, value in zip(columns, padded, strict=True):
            column.append(value)
    cells = pl.DataFrame(
        {f"f{i}": pl.Series(values, dtype=pl.String) for i, values in enumerate(columns)}
    )
    return cells, np.asarray(counts, dtype=np.int64), np.asarray(starts, dtype=np.int64)


def _offset_of_line(text: str, line: int) -> int:
    pos = 0
    for _ in range(line - 1):
        pos = text.find("\n", pos) + 1
        if pos == 0:
            return len(text)
    return pos


def _assemble(
    cells: pl.DataFrame,
    fields: np.ndarray,
    lines: np.ndarray,
    header: bool,
    width: int,
    name: str,
    problems: list[Problem],
    fmt: str,
) -> Part:
    import numpy as np

    present = np.flatnonzero(fields > 0)
    if len(present) == 0:
        raise LoadError(f"{name}: the file has no rows.")
    names = [f"column_{i + 1}" for i in range(width)]
    keep = fields > 0
    first_line = 1
    if header:
        h = int(present[0])
        keep[h] = False
        names = _header_names(cells.row(h)[:width])
        first_line = int(lines[h]) + 1
    ragged = np.flatnonzero(keep & (fields != width))
    for i in ragged:
        many = "many" if fields[i] > width else "few"
        count = f"at least {fields[i]}" if fields[i] >= width + _SPARE else str(fields[i])
        problems.append(
            Problem(name, int(lines[i]), f"too {many} fields: {count}, expected {width}")
        )
    keep[ragged] = False
    good = np.flatnonzero(keep)
    if len(good) == 0:
        detail = f" ({problems[-1]})" if problems else ""
        raise LoadError(f"{name}: no rows could be read{detail}.")
    columns = [pl.col(f"f{i}").alias(n) for i, n in enumerate(names)]
    if len(good) == cells.height:
        frame = cells.select(columns)
    elif int(good[-1]) - int(good[0]) == len(good) - 1:
        frame = cells.slice(int(good[0]), len(good)).select(columns)
    else:
        frame = cells.select(columns).filter(pl.Series(keep))
    del cells
    frame = infer_types(frame)
    row_lines, start = compact_lines(lines[good], first_line)
    problems.sort(key=lambda p: p.line or 0)
    return Part(frame.lazy(), frame.height, fmt, problems, row_lines, start)


def _header_names(values: tuple[object, ...]) -> list[str]:
    names: list[str] = []
    seen: set[str] = set()
    for i, value in enumerate(values):
        base = str(value).strip() if value is not None and str(value).strip() else f"column_{i + 1}"
        candidate, n = base, 2
        while candidate in seen:
            candidate, n = f"{base}_{n}", n + 1
        seen.add(candidate)
        names.append(candidate)
    return names


_INTEGER = r"^\s*[-+]?\d+\s*$"
_FLOAT = r"^\s*[-+]?(\d+\.?\d*([eE][-+]?\d+)?|\.\d+([eE][-+]?\d+)?)\s*$"
_BOOLEAN = r"(?i)^(true|false)$"


def infer_types(frame: pl.DataFrame, sample: int = 1000) -> pl.DataFrame:
    """Integers, floats and booleans from text columns; empty text becomes null.

    A cheap look at the first non-empty values picks a candidate type; only then is the whole
    column converted (strictly, so one odd value keeps the column as text).
    """
    out: list[pl.Expr] = []
    for col in frame.columns:
        text = pl.col(col).replace("", None)
        head = frame[col].head(sample * 4).replace("", None).drop_nulls().head(sample)
        candidates: list[pl.Expr] = []
        if head.len():
            if head.str.contains(_INTEGER).all():
                candidates.append(text.str.strip_chars().str.to_integer(strict=True))
            if head.str.contains(_FLOAT).all():
                candidates.append(text.str.strip_chars().cast(pl.Float64, strict=True))
            if head.str.contains(_BOOLEAN).all():
                lowered = text.str.to_lowercase()
                valid = (lowered.is_null() | lowered.is_in(["true", "false"])).all()
                if frame.select(valid).item():
                    candidates.append(lowered == "true")
        chosen = text
        for candidate in candidates:
            try:
                frame.select(candidate.alias(col))  # raises when a value does not convert
            except Exception:
                continue
            chosen = candidate
            break
        out.append(chosen.alias(col))
    return frame.select(out)
