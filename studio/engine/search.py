"""Search rows for text and work with row selections (marks), lazily.

`find_matches` returns a LazyFrame of (`row`, `_id`) for every row where any searched column
contains the query, in frame order: `row` is the 0-based position in `frame`. Literal queries
are case-insensitive (ASCII); regular expressions use polars' (Rust) regex syntax as given
(add `(?i)` for case-insensitive). A nested column matches when any string inside it matches on its own
(chat `messages` by role or content, lists of strings by their items).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence

import polars as pl

from studio.engine.errors import StudioError
from studio.engine.lists import each_element
from studio.engine.steps.base import ID, id_in

ROW = "row"


class SearchError(StudioError):
    """A query that cannot run (bad regular expression, no text columns)."""


def _is_text(dtype: pl.DataType) -> bool:
    return dtype == pl.String or isinstance(dtype, pl.Categorical | pl.Enum)


def searchable(dtype: pl.DataType) -> bool:
    """Whether a column of this dtype is searched: text, or nested values holding text."""
    if _is_text(dtype):
        return True
    if isinstance(dtype, pl.List | pl.Array):
        return searchable(dtype.inner)  # type: ignore[arg-type]
    if isinstance(dtype, pl.Struct):
        return any(searchable(f.dtype) for f in dtype.fields)  # type: ignore[arg-type]
    return False


def text_columns(schema: pl.Schema | dict[str, pl.DataType]) -> list[str]:
    """The columns a search looks in (never `_id`)."""
    return [name for name, dtype in schema.items() if name != ID and searchable(dtype)]


def _matches(expr: pl.Expr, dtype: pl.DataType, test: Callable[[pl.Expr], pl.Expr]) -> pl.Expr:
    """True where `test` holds for the value, or (nested values) for any text inside it."""
    if _is_text(dtype):
        return test(expr.cast(pl.String))
    if isinstance(dtype, pl.Struct):
        parts = [
            _matches(expr.struct.field(f.name), f.dtype, test)  # type: ignore[arg-type]
            for f in dtype.fields
            if searchable(f.dtype)  # type: ignore[arg-type]
        ]
        return pl.any_horizontal(parts).fill_null(False)
    if isinstance(dtype, pl.List | pl.Array):
        listed = expr if isinstance(dtype, pl.List) else expr.arr.to_list()
        inner = _matches(pl.element(), dtype.inner, test).fill_null(False)  # type: ignore[arg-type]
        return listed.pipe(each_element, inner).list.any()
    return test(expr.cast(pl.String))


def check_regex(pattern: str) -> None:
    """Raise `SearchError` if polars cannot compile `pattern`."""
    try:
        pl.select(pl.lit("").str.contains(pattern)).item()
    except pl.exceptions.PolarsError as exc:
        first = str(exc).strip().splitlines()
        detail = next((line.strip() for line in first if line.strip().startswith("error")), "")
        raise SearchError(
            f"Not a valid regular expression: {pattern!r} ({detail or 'parse error'})."
        ) from None


def match_expr(
    schema: pl.Schema | dict[str, pl.DataType],
    query: str,
    *,
    regex: bool = False,
    columns: Sequence[str] | None = None,
) -> pl.Expr:
    """True for rows where any searched column contains `query`."""
    names = list(columns) if columns is not None else text_columns(schema)
    names = [n for n in names if n in schema and searchable(schema[n])]
    if not names:
        raise SearchError("There is no text column to search.")
    if regex:
        check_regex(query)

    def test(text: pl.Expr) -> pl.Expr:
        if regex:
            return text.str.contains(query)
        return text.str.contains_any([query], ascii_case_insensitive=True)

    conditions = [_matches(pl.col(name), schema[name], test).fill_null(False) for name in names]
    return pl.any_horizontal(conditions).fill_null(False)


def find_matches(
    frame: pl.LazyFrame,
    query: str,
    *,
    regex: bool = False,
    columns: Sequence[str] | None = None,
) -> pl.LazyFrame:
    """Rows of `frame` matching `query`: a LazyFrame of (`row`, `_id`) in frame order."""
    if not query:
        raise SearchError("Type something to search for.")
    schema = frame.collect_schema()
    condition = match_expr(schema, query, regex=regex, columns=columns)
    return (
        frame.with_row_index(ROW).filter(condition).select(pl.col(ROW).cast(pl.Int64), pl.col(ID))
    )


def matching_ids(
    frame: pl.LazyFrame,
    query: str,
    *,
    regex: bool = False,
    columns: Sequence[str] | None = None,
) -> pl.LazyFrame:
    """The `_id`s of rows matching `query`, in frame order (a one-column LazyFrame)."""
    return find_matches(frame, query, regex=regex, columns=columns).select(ID)


def invert_ids(frame: pl.LazyFrame, ids: Iterable[int]) -> pl.Series:
    """The `_id`s of the rows of `frame` NOT in `ids` (invert a selection), in frame order."""
    wanted = pl.Series(ID, list(ids), dtype=pl.UInt64)
    return frame.filter(~id_in(wanted)).select(ID).collect().to_series()


def positions_of(frame: pl.LazyFrame, ids: Iterable[int]) -> pl.DataFrame:
    """(`row`, `_id`) for the given ids that are in `frame`, in frame order."""
    wanted = pl.Series(ID, list(ids), dtype=pl.UInt64)
    return (
        frame.select(ID)
        .with_row_index(ROW)
        .filter(id_in(wanted))
        .select(pl.col(ROW).cast(pl.Int64), ID)
        .collect()
    )


def _ranges(rows: int, start: int, first: int, largest: int) -> Iterator[tuple[int, int]]:
    """(offset, length) pieces covering `start..rows` then `0..start`, growing from `first`
    rows to `largest`, so the rows right after `start` are searched first and fast."""
    for begin, end in ((start, rows), (0, start)):
        size, offset = first, begin
        while offset < end:
            length = min(size, end - offset)
            yield offset, length
            offset += length
            size = min(size * 2, largest)


def iter_matches(
    frame: pl.LazyFrame,
    query: str,
    *,
    rows: int,
    start: int = 0,
    regex: bool = False,
    columns: Sequence[str] | None = None,
    first_chunk: int = 8_192,
    chunk: int = 262_144,
) -> Iterator[tuple[int, pl.DataFrame]]:
    """`find_matches` piece by piece, starting at row `start` and wrapping around, so the
    first match after a cursor shows up early on big frames. Pieces grow from `first_chunk`
    rows to `chunk` rows.

    Yields (rows searched so far, matches of that piece as (`row`, `_id`) with positions in
    `frame`). `rows` is the frame's row count (the caller knows it; counting costs a scan).
    """
    if not query:
        raise SearchError("Type something to search for.")
    schema = frame.collect_schema()
    condition = match_expr(schema, query, regex=regex, columns=columns)
    start = min(max(start, 0), rows)
    done = 0
    for offset, length in _ranges(rows, start, first_chunk, chunk):
        part = (
            frame.slice(offset, length)
            .with_row_index(ROW)
            .filter(condition)
            .select((pl.col(ROW).cast(pl.Int64) + offset).alias(ROW), pl.col(ID))
            .collect()
        )
        done += length
        yield done, part
    if rows == 0:
        yield 0, frame.head(0).with_row_index(ROW).select(pl.col(ROW).cast(pl.Int64), ID).collect()
