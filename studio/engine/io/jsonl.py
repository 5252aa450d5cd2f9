"""JSON Lines and JSON arrays.

The happy path is one `pl.read_ndjson` over the file (no Python per line). Only when polars
refuses the file do we look for the bad lines: the lines are cut into chunks that polars parses
on its own; a chunk that fails is halved until the bad lines are found (small leaves are checked
line by line), each bad line becomes a problem, and the good lines are read in one go.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from studio.engine.dataset import Problem
from studio.engine.errors import LoadError
from studio.engine.io.part import Part, compact_lines
from studio.engine.io.source import (
    blank_lines,
    count_file_lines,
    count_lines,
    decode_text,
    line_numbers_of,
    line_spans,
    read_bytes,
    read_head,
)

if TYPE_CHECKING:
    import numpy as np  # numpy is imported where used: it costs start-up time

_CHUNK_LINES = 4096
_LEAF_LINES = 32
_BOM_STARTS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _type_conflict(exc: BaseException) -> bool:
    msg = str(exc)
    return isinstance(exc, pl.exceptions.SchemaError) or (
        "json value" in msg or "cannot parse" in msg or "supertype" in msg
    )


def _read(source: Path | bytes, infer: int | None = 100) -> pl.DataFrame:
    return pl.read_ndjson(source, infer_schema_length=infer)


def read_jsonl(path: Path, compression: str | None, options: dict[str, object]) -> Part:
    encoding = options.get("encoding")
    name = path.name
    problems: list[Problem] = []
    if compression is None and not encoding:
        head = read_head(path, 4)
        if not head.startswith(_BOM_STARTS):
            frame = _try_fast(path)
            if frame is not None:
                total = count_file_lines(path)
                if frame.height == total:
                    return _finish(frame, None, name, problems)
                import numpy as np  # only here: the common case above needs no numpy

                data = read_bytes(path, None, problems)
                starts, ends = line_spans(data)
                good = np.flatnonzero(~blank_lines(data, starts, ends)) + 1
                if len(good) == frame.height:
                    return _finish(frame, good, name, problems)
    raw = read_bytes(path, compression, problems)
    text = decode_text(raw, name, encoding if isinstance(encoding, str) else None)
    problems.extend(text.problems)
    tried = compression is None and not encoding and text.data is raw
    return read_jsonl_bytes(text.data, name, problems, fast=not tried)


def _try_fast(source: Path | bytes) -> pl.DataFrame | None:
    """polars' own reader. It infers the schema from the first 100 rows and silently drops
    fields first seen later, so lines sampled across the whole file are checked against the
    schema and the file is re-read with full inference when they hold more fields."""
    try:
        frame = _read(source)
    except Exception as exc:  # polars raises several error types; any means "look closer"
        if not _type_conflict(exc):
            return None
    else:
        if _covers(frame.schema, _sampled_paths(source)):
            return frame
    try:
        return _read(source, None)
    except Exception:
        return None


def _sample_lines(source: Path | bytes, count: int = 2000) -> list[bytes]:
    """About `count` whole lines from evenly spaced places in the file."""
    size = source.stat().st_size if isinstance(source, Path) else len(source)
    if size <= 1 << 22:
        data = source.read_bytes() if isinstance(source, Path) else source
        every = data.split(b"\n")
        return every[:: max(1, len(every) // count)]
    step = max(1, size // count)
    lines: list[bytes] = []
    if isinstance(source, Path):
        with open(source, "rb") as handle:
            for offset in range(0, size, step):
                handle.seek(offset)
                if offset:
                    handle.readline()  # finish the partial line
                lines.append(handle.readline())
        return lines
    for offset in range(0, size, step):
        start = source.find(b"\n", offset) + 1 if offset else 0
        if start <= 0 and offset:
            break
        end = source.find(b"\n", start)
        lines.append(source[start : end if end >= 0 else size])
    return lines


def _sampled_paths(source: Path | bytes) -> set[tuple[str, ...]]:
    paths: set[tuple[str, ...]] = set()
    for line in _sample_lines(source):
        try:
            value = json.loads(line)
        except (ValueError, RecursionError):
            continue
        _paths_of(value, (), paths)
    return paths


def _paths_of(value: object, prefix: tuple[str, ...], out: set[tuple[str, ...]]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            path = (*prefix, str(key))
            out.add(path)
            _paths_of(item, path, out)
    elif isinstance(value, list):
        for item in value[:20]:
            _paths_of(item, prefix, out)


def _covers(schema: pl.Schema, paths: set[tuple[str, ...]]) -> bool:
    """Whether every sampled field path has a column (or struct field) in `schema`."""
    for path in paths:
        fields: dict[str, object] = dict(schema)
        for key in path:
            if key not in fields:
                return False
            dtype: object = fields[key]
            while isinstance(dtype, pl.List | pl.Array):
                dtype = dtype.inner
            if not isinstance(dtype, pl.Struct):
                break  # a leaf, or text that polars made of mixed values
            fields = {f.name: f.dtype for f in dtype.fields}
    return True


def read_jsonl_bytes(data: bytes, name: str, problems: list[Problem], *, fast: bool = True) -> Part:
    """Read UTF-8 JSON Lines bytes; bad lines become problems, good rows always load."""
    import numpy as np

    if not data[:4096].strip() and not data.strip():
        raise LoadError(f"{name}: the file has no rows.")
    frame = _try_fast(data) if fast else None
    if frame is not None:
        total = count_lines(data)
        if frame.height == total:
            return _finish(frame, None, name, problems)
        starts, ends = line_spans(data)
        good = np.flatnonzero(~blank_lines(data, starts, ends)) + 1
        if len(good) == frame.height:
            return _finish(frame, good, name, problems)
    starts, ends = line_spans(data)
    blank = blank_lines(data, starts, ends)
    bad: dict[int, str] = {}
    for a in range(0, len(starts), _CHUNK_LINES):
        _check(data, starts, ends, blank, a, min(a + _CHUNK_LINES, len(starts)), bad)
    keep = ~np.zeros(len(starts), dtype=bool)
    if bad:
        keep[np.fromiter(bad, dtype=np.int64, count=len(bad))] = False
    good = np.flatnonzero(keep & ~blank)
    problems.extend(Problem(name, i + 1, bad[i]) for i in sorted(bad))
    if len(good) == 0:
        if bad:
            first = min(bad)
            raise LoadError(
                f"{name}: no line could be read as a JSON object (line {first + 1}: {bad[first]})."
            )
        raise LoadError(f"{name}: the file has no rows.")
    joined = _join_runs(data, starts, ends, keep)
    try:
        frame = _read(joined, None)
    except Exception as exc:
        raise LoadError(f"{name}: cannot be read as JSON Lines ({_first_line(exc)}).") from exc
    if frame.height != len(good):
        raise LoadError(f"{name}: cannot be read as JSON Lines (rows and lines do not match).")
    problems.sort(key=lambda p: p.line or 0)
    return _finish(frame, good + 1, name, problems)


def _join_runs(data: bytes, starts: np.ndarray, ends: np.ndarray, keep: np.ndarray) -> bytes:
    """The kept lines as one buffer, copying whole runs of consecutive kept lines at once."""
    import numpy as np

    idx = np.flatnonzero(keep)
    if len(idx) == 0:
        return b""
    breaks = np.flatnonzero(np.diff(idx) != 1)
    run_starts = np.concatenate(([idx[0]], idx[breaks + 1]))
    run_ends = np.concatenate((idx[breaks], [idx[-1]]))
    return b"\n".join(
        data[int(starts[a]) : int(ends[b])] for a, b in zip(run_starts, run_ends, strict=True)
    )


def _check(
    data: bytes,
    starts: np.ndarray,
    ends: np.ndarray,
    blank: np.ndarray,
    a: int,
    b: int,
    bad: dict[int, str],
) -> None:
    """Find the bad lines among lines a..b-1 (0-based) and put their reasons in `bad`."""
    import numpy as np

    wanted = int(np.count_nonzero(~blank[a:b]))
    if wanted == 0:
        return
    chunk = data[int(starts[a]) : int(ends[b - 1])]
    try:
        if _read(chunk, None).height == wanted:
            return
    except Exception:
        pass
    if b - a > _LEAF_LINES:
        mid = (a + b) // 2
        _check(data, starts, ends, blank, a, mid, bad)
        _check(data, starts, ends, blank, mid, b, bad)
        return
    found = False
    for i in range(a, b):
        if blank[i]:
            continue
        reason = _line_problem(data[int(starts[i]) : int(ends[i])])
        if reason:
            bad[i] = reason
            found = True
    if found:
        return
    for i in range(a, b):  # every line is valid JSON, yet polars refuses one of them
        if blank[i]:
            continue
        try:
            _read(data[int(starts[i]) : int(ends[i])], None)
        except Exception as exc:
            bad[i] = f"cannot be read: {_first_line(exc)}"


def _line_problem(line: bytes) -> str | None:
    try:
        value = json.loads(line)
    except UnicodeDecodeError:
        return "invalid UTF-8 bytes"
    except json.JSONDecodeError as exc:
        return f"malformed JSON: {exc.msg} (column {exc.colno})"
    except RecursionError:
        return "malformed JSON: nested too deeply"
    if not isinstance(value, dict):
        kind = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(
            type(value), "a number"
        )
        return f"not a JSON object (the line holds {kind})"
    return None


def _finish(
    frame: pl.DataFrame, lines: np.ndarray | None, name: str, problems: list[Problem]
) -> Part:
    frame = repair_mixed_columns(frame, lines, name, problems)
    first_line = 1
    if lines is not None:
        lines, first_line = compact_lines(lines)
    return Part(frame.lazy(), frame.height, "jsonl", problems, lines, first_line)


def repair_mixed_columns(
    frame: pl.DataFrame, lines: np.ndarray | None, name: str, problems: list[Problem]
) -> pl.DataFrame:
    """Undo polars' fallback for a field that is a list (or object) in most rows but not all.

    polars turns such a column into JSON text. When most rows hold a list (say `messages`), the
    column is decoded back and the odd rows get a null there plus a problem naming the line.
    """
    for col, dtype in frame.schema.items():
        if dtype != pl.String:
            continue
        series = frame[col]
        head = series.head(1000).drop_nulls()
        if head.len() == 0 or not (
            head.str.starts_with("[").any() or head.str.starts_with("{").any()
        ):
            continue
        present = int(series.len() - series.null_count())
        for opener, kind in (("[", "list"), ("{", "object")):
            mask = series.str.starts_with(opener).fill_null(False)
            hits = int(mask.sum())
            if hits * 2 <= present or hits == present:
                continue
            nulls = pl.Series(col, [None] * frame.height, dtype=pl.String)
            try:
                decoded = series.zip_with(mask, nulls).str.json_decode(infer_schema_length=None)
            except Exception:
                break
            import numpy as np

            odd = np.flatnonzero((~mask & series.is_not_null()).to_numpy())
            frame = frame.with_columns(decoded.alias(col))
            for i in odd:
                line = int(lines[i]) if lines is not None else int(i) + 1
                problems.append(
                    Problem(
                        name,
                        line,
                        f"'{col}' is not a {kind} like in the other rows; loaded as null",
                    )
                )
            break
    problems.sort(key=lambda p: p.line or 0)
    return frame


def read_json(path: Path, compression: str | None, options: dict[str, object]) -> Part:
    """A JSON array of objects (or an object holding one), or JSON Lines named `.json`."""
    import numpy as np

    name = path.name
    problems: list[Problem] = []
    raw = read_bytes(path, compression, problems)
    encoding = options.get("encoding")
    text_ = decode_text(raw, name, encoding if isinstance(encoding, str) else None)
    problems.extend(text_.problems)
    text = text_.data.decode("utf-8")
    pos = _skip_ws(text, 0)
    if pos >= len(text):
        raise LoadError(f"{name}: the file has no rows.")
    if text[pos] == "{":
        decoder = json.JSONDecoder()
        try:
            value, end = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            raise LoadError(f"{name}: not valid JSON ({exc.msg} at line {exc.lineno}).") from exc
        if _skip_ws(text, end) < len(text):  # more after the first object: JSON Lines
            part = read_jsonl_bytes(text_.data, name, problems)
            part.format = "json"
            return part
        items = [v for v in value.values() if isinstance(v, list) and v and isinstance(v[0], dict)]
        if len(items) != 1:
            raise LoadError(f"{name}: expected a JSON array of objects, found a single object.")
        return _records(items[0], None, name, problems)
    if text[pos] != "[":
        raise LoadError(f"{name}: not valid JSON (it does not start with [ or {{).")
    records, offsets = _array_elements(text, pos, name, problems)
    lines = np.asarray(line_numbers_of(text, offsets), dtype=np.int64)
    if text.count("\n") == 0:
        lines = None  # one-line JSON: rows are numbered by their place in the array
    return _records(records, lines, name, problems)


def _skip_ws(text: str, pos: int) -> int:
    n = len(text)
    while pos < n and text[pos] in " \t\r\n":
        pos += 1
    return pos


def _array_elements(
    text: str, pos: int, name: str, problems: list[Problem]
) -> tuple[list[object], list[int]]:
    """Elements of the array starting at `pos`, with their character offsets. A broken element
    becomes a problem and reading resumes at the next line that starts a new object."""
    decoder = json.JSONDecoder()
    records: list[object] = []
    offsets: list[int] = []
    indent: int | None = None
    pos += 1
    n = len(text)
    while True:
        pos = _skip_ws(text, pos)
        if pos >= n:
            problems.append(Problem(name, text.count("\n") + 1, "the JSON array is not closed"))
            break
        if text[pos] == "]":
            break
        try:
            value, end = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            problems.append(
                Problem(name, exc.lineno, f"malformed JSON: {exc.msg} (column {exc.colno})")
            )
            resume = _resync(text, exc.pos if exc.pos > pos else pos + 1, indent)
            if resume < 0:
                break
            pos = resume
            continue
        if indent is None and "\n" in text[:pos]:
            indent = pos - text.rfind("\n", 0, pos) - 1
        if isinstance(value, dict):
            records.append(value)
            offsets.append(pos)
        else:
            line = text.count("\n", 0, pos) + 1
            problems.append(Problem(name, line, "array element is not a JSON object"))
        pos = _skip_ws(text, end)
        if pos < n and text[pos] == ",":
            pos += 1
        elif pos < n and text[pos] != "]":
            line = text.count("\n", 0, pos) + 1
            problems.append(Problem(name, line, "malformed JSON: expected ',' between elements"))
    return records, offsets


def _resync(text: str, pos: int, indent: int | None) -> int:
    """Offset of the next element after a broken one, or -1: the next line starting at the
    elements' indentation (or, when that is unknown, the next line starting with `{`)."""
    n = len(text)
    while True:
        nl = text.find("\n", pos)
        if nl < 0:
            return -1
        p = nl + 1
        while p < n and text[p] in " \t":
            p += 1
        column = p - nl - 1
        if p < n and text[p] == ",":
            p = _skip_ws(text, p + 1)
        if p < n and text[p] == "]" and (indent is None or column <= indent):
            return p
        if (
            p < n
            and text[p] not in "\r\n}]"
            and (column == indent if indent is not None else text[p] == "{")
        ):
            return p
        pos = nl + 1


def _records(
    records: list[object], lines: np.ndarray | None, name: str, problems: list[Problem]
) -> Part:
    if not records:
        first = problems[0] if problems else None
        detail = f" ({first})" if first else ""
        raise LoadError(f"{name}: no JSON objects could be read{detail}.")
    data = "\n".join(json.dumps(r, ensure_ascii=False) for r in records).encode("utf-8")
    try:
        frame = _read(data, None)
    except Exception as exc:
        raise LoadError(f"{name}: cannot be read as JSON ({_first_line(exc)}).") from exc
    part = _finish(frame, lines, name, problems)
    part.format = "json"
    return part
