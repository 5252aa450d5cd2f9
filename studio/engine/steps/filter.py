"""Filter steps: a SQL WHERE expression, facet values, text length, empty fields, a score floor.

`filter.sql` runs the user's expression through polars' SQL engine (never Python `eval`): the
text must parse as one SQL expression (`pl.sql_expr`) *and* as the WHERE clause of
`SELECT * FROM self WHERE ...`, so it cannot smuggle in a second clause, an alias, `ORDER BY`
or a `;`. Errors become a `StepError` naming the position (when the parser gives one) and the
known columns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import polars as pl

from studio.engine.errors import StepError
from studio.engine.lists import each_element
from studio.engine.steps.base import ID, Step, register, require_columns

_PREFIX = "SELECT * FROM self WHERE "
_POSITION = re.compile(r"at Line: (\d+), Column: (\d+)")
_FOUND = re.compile(r"found: (.+?)(?: at Line|$)")
_MISSING_COLUMN = re.compile(r'unable to find column "([^"]+)"')


def _known(schema: pl.Schema) -> str:
    return ", ".join(n for n in schema.names() if n != ID)


def _locate_identifier(expression: str, name: str) -> int | None:
    """1-based column of `name` used as an identifier in `expression` (None if not found)."""
    for match in re.finditer(r"\"[^\"]*\"|'(?:[^']|'')*'|[A-Za-z_][A-Za-z0-9_]*", expression):
        token = match.group(0)
        if token.startswith("'"):
            continue
        if token.strip('"') == name:
            return match.start() + 1
    return None


def _where_position(message: str, expression: str) -> tuple[str, str]:
    """(where, found) from a sqlparser message, with columns relative to the user's text."""
    found = ""
    m = _FOUND.search(message)
    if m:
        found = m.group(1).strip()
    pos = _POSITION.search(message)
    if pos:
        line, column = int(pos.group(1)), int(pos.group(2))
        if line == 1:
            column -= len(_PREFIX)
        return f"at column {max(column, 1)}" + (f" (line {line})" if line > 1 else ""), found
    if found == "EOF":
        return f"at the end (column {len(expression) + 1})", "the end of the expression"
    return "", found


def sql_error(expression: str, exc: Exception, schema: pl.Schema) -> StepError:
    """Turn a polars SQL/compute error into one plain sentence with position and columns."""
    text = str(exc).strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    known = _known(schema)
    missing = _MISSING_COLUMN.search(text)
    if isinstance(exc, pl.exceptions.ColumnNotFoundError) or missing:
        name = missing.group(1) if missing else first
        where = _locate_identifier(expression, name)
        at = f" at column {where}" if where else ""
        hint = " (put text values in 'single quotes')" if name not in schema else ""
        return StepError(f"Unknown column {name!r}{at}{hint}. Columns are: {known}.")
    if "only one) statement" in first or "unexpected token ';'" in first:
        column = expression.find(";") + 1
        at = f" at column {column}" if column else ""
        return StepError(
            f"Syntax error{at}: a filter is one expression, without ';'. Columns are: {known}."
        )
    clause = re.search(r"found '(\w+)' clause", first)
    if clause:
        word = clause.group(1)
        column = expression.upper().find(word.upper()) + 1
        at = f" at column {column}" if column else ""
        return StepError(
            f"Syntax error{at}: a filter is one WHERE expression; {word} is not allowed. "
            f"Columns are: {known}."
        )
    if "sql parser error" in first or "unable to parse" in first or "unexpected token" in first:
        where, found = _where_position(first, expression)
        detail = first.split("sql parser error:")[-1].strip()
        detail = _POSITION.sub("", detail).strip().rstrip(",")
        if not detail or detail.startswith("unable to parse"):
            detail = "not a valid expression"
        sentence = f"Syntax error{' ' + where if where else ''}: {detail}."
        return StepError(f"{sentence} Columns are: {known}.")
    if "filter predicate must be of type" in first:
        return StepError(
            f"The expression must be true or false for each row ({first.split(', ')[-1]}). "
            f"Columns are: {known}."
        )
    return StepError(f"Cannot filter with this expression: {first}. Columns are: {known}.")


def check_sql(expression: str, schema: pl.Schema) -> None:
    """Raise a StepError when `expression` is not a usable WHERE clause for `schema`."""
    if not expression.strip():
        return
    empty = pl.LazyFrame(schema=schema)
    try:
        pl.sql_expr(expression)
        empty.sql(_PREFIX + expression).collect()
    except StepError:
        raise
    except Exception as exc:  # polars raises several error types; all become one sentence
        # The full-query parser gives positions; prefer its message when it fails too.
        try:
            empty.sql(_PREFIX + expression).collect()
        except Exception as full:  # noqa: BLE001
            raise sql_error(expression, full, schema) from full
        raise sql_error(expression, exc, schema) from exc


@register("filter.sql")
@dataclass(frozen=True, slots=True)
class SqlFilter(Step):
    """Keep rows where a SQL WHERE expression is true (polars SQL, e.g.
    `length(output) > 200 AND label = 'spam'`). Rows where it is NULL are dropped."""

    where: str = ""

    def validate(self, schema: pl.Schema) -> None:
        check_sql(self.where, schema)

    def apply(self, frame: pl.LazyFrame) -> pl.LazyFrame:
        if not self.where.strip():
            return frame
        try:
            return frame.sql(_PREFIX + self.where)
        except Exception as exc:  # noqa: BLE001
            raise sql_error(self.where, exc, frame.collect_schema()) from exc

    def describe(self) -> str:
        return f"keep rows where {self.where.strip() or 'anything'}"


# -- facets --------------------------------------------------------------------------------
def _key(value: Any) -> str | None:
    """A value as the string facets compare on (None stays None)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _as_key(column: str, dtype: pl.DataType) -> pl.Expr:
    col = pl.col(column)
    if dtype == pl.Boolean:
        return pl.when(col).then(pl.lit("true")).when(~col).then(pl.lit("false"))
    if dtype.is_float():
        return (
            pl.when(col == col.round(0))
            .then(col.cast(pl.Int64, strict=False).cast(pl.String))
            .otherwise(col.cast(pl.String))
        )
    return col.cast(pl.String)


@register("filter.values")
@dataclass(frozen=True, slots=True)
class ValuesFilter(Step):
    """Keep (or with `exclude`, drop) rows whose `column` is one of `values` (a facet)."""

    value_fields = (("values", "column"),)
    column: str = ""
    values: tuple[Any, ...] = ()
    exclude: bool = False

    def validate(self, schema: pl.Schema) -> None:
        require_columns(schema, self.column)

    def apply(self, frame: pl.LazyFrame) -> pl.LazyFrame:
        if not self.column:
            return frame
        dtype = frame.collect_schema()[self.column]
        keys = [k for k in (_key(v) for v in self.values) if k is not None]
        match = _as_key(self.column, dtype).is_in(pl.Series(keys, dtype=pl.String).implode())
        if any(v is None for v in self.values):
            match = match | pl.col(self.column).is_null()
        match = match.fill_null(False)
        return frame.filter(~match if self.exclude else match)

    def describe(self) -> str:
        shown = ", ".join("(empty)" if v is None else str(v) for v in self.values[:5])
        if len(self.values) > 5:
            shown += f", … ({len(self.values)} values)"
        verb = "drop" if self.exclude else "keep"
        return (
            f"{verb} rows where {self.column} is {'one of ' if len(self.values) > 1 else ''}{shown}"
        )


def facet_counts(frame: pl.LazyFrame, column: str, *, limit: int = 50) -> pl.DataFrame:
    """Value counts of `column` (most common first): columns `value` (as shown), `count`."""
    dtype = frame.collect_schema()[column]
    return (
        frame.group_by(_as_key(column, dtype).alias("value"))
        .agg(pl.len().alias("count"))
        .sort(["count", "value"], descending=[True, False], nulls_last=True)
        .head(limit)
        .collect()
    )


def facet_columns(
    frame: pl.LazyFrame, *, max_values: int = 20, sample_rows: int = 20_000
) -> list[str]:
    """Columns with few distinct values (labels, flags, sources), judged on a head sample."""
    schema = frame.collect_schema()
    candidates = [
        n
        for n, t in schema.items()
        if n != ID
        and (
            t in (pl.String, pl.Boolean, pl.Categorical) or t.is_integer() or isinstance(t, pl.Enum)
        )
    ]
    if not candidates:
        return []
    head = frame.select(candidates).head(sample_rows).collect()
    out = []
    for name in candidates:
        series = head[name]
        distinct = series.n_unique()
        if series.dtype == pl.Boolean or 1 <= distinct <= max_values:
            if series.dtype == pl.String and distinct > 1 and distinct >= head.height:
                continue
            out.append(name)
    return out


# -- length and empty ----------------------------------------------------------------------
def text_of(column: str, dtype: pl.DataType) -> pl.Expr:
    """The text of a column: strings as is; chat/ShareGPT turns joined; other values as JSON."""
    col = pl.col(column)
    if dtype == pl.String:
        return col
    if isinstance(dtype, pl.List) and isinstance(dtype.inner, pl.Struct):
        fields = [f.name for f in dtype.inner.fields]
        name = next((f for f in ("content", "value", "text") if f in fields), None)
        if name is not None:
            return col.pipe(
                each_element, pl.element().struct.field(name).cast(pl.String)
            ).list.join("\n")
    if isinstance(dtype, pl.List) and dtype.inner == pl.String:
        return col.list.join("\n")
    if isinstance(dtype, pl.List | pl.Struct | pl.Array):
        return col.cast(pl.String, strict=False)
    return col.cast(pl.String, strict=False)


def length_of(column: str, dtype: pl.DataType, unit: str = "chars") -> pl.Expr:
    text = text_of(column, dtype).fill_null("")
    if unit == "words":
        return text.str.count_matches(r"\S+")
    return text.str.len_chars()


@register("filter.length")
@dataclass(frozen=True, slots=True)
class LengthFilter(Step):
    """Keep rows whose `column` is between `min_len` and `max_len` chars or words (inclusive)."""

    column: str = ""
    min_len: int | None = None
    max_len: int | None = None
    unit: str = "chars"

    def validate(self, schema: pl.Schema) -> None:
        require_columns(schema, self.column)
        if self.unit not in ("chars", "words"):
            raise StepError(f"Length unit must be 'chars' or 'words', not {self.unit!r}.")
        if self.min_len is not None and self.max_len is not None and self.min_len > self.max_len:
            raise StepError(
                f"The minimum length {self.min_len} is above the maximum {self.max_len}."
            )

    def apply(self, frame: pl.LazyFrame) -> pl.LazyFrame:
        if not self.column:
            return frame
        length = length_of(self.column, frame.collect_schema()[self.column], self.unit)
        cond = pl.lit(True)
        if self.min_len is not None:
            cond = cond & (length >= self.min_len)
        if self.max_len is not None:
            cond = cond & (length <= self.max_len)
        return frame.filter(cond)

    def describe(self) -> str:
        if self.min_len is not None and self.max_len is not None:
            span = f"{self.min_len:,} to {self.max_len:,}"
        elif self.min_len is not None:
            span = f"at least {self.min_len:,}"
        elif self.max_len is not None:
            span = f"at most {self.max_len:,}"
        else:
            span = "any number of"
        return f"keep rows where {self.column} has {span} {self.unit}"


def _is_empty(column: str, dtype: pl.DataType) -> pl.Expr:
    col = pl.col(column)
    if dtype == pl.String:
        return col.is_null() | (col.str.strip_chars() == "")
    if isinstance(dtype, pl.List):
        return col.is_null() | (col.list.len() == 0)
    return col.is_null()


def empty_mask(schema: pl.Schema, columns: tuple[str, ...] = ()) -> pl.Expr:
    """True where any of `columns` (default: every column) is null or blank."""
    names = list(columns) or [n for n in schema.names() if n != ID]
    if not names:
        return pl.lit(False)
    return pl.any_horizontal([_is_empty(n, schema[n]) for n in names])


@register("filter.empty")
@dataclass(frozen=True, slots=True)
class EmptyFilter(Step):
    """`keep="nonempty"` drops rows with an empty field (null, blank text, empty list) in
    `columns` (default: any column); `keep="empty"` keeps only those rows."""

    columns: tuple[str, ...] = ()
    keep: str = "nonempty"

    def validate(self, schema: pl.Schema) -> None:
        require_columns(schema, *self.columns)
        if self.keep not in ("empty", "nonempty"):
            raise StepError(f"keep must be 'empty' or 'nonempty', not {self.keep!r}.")

    def apply(self, frame: pl.LazyFrame) -> pl.LazyFrame:
        mask = empty_mask(frame.collect_schema(), self.columns)
        return frame.filter(mask if self.keep == "empty" else ~mask)

    def describe(self) -> str:
        where = ", ".join(self.columns) if self.columns else "any column"
        if self.keep == "empty":
            return f"keep only rows with an empty field in {where}"
        return f"drop rows with an empty field in {where}"


@register("filter.min_score")
@dataclass(frozen=True, slots=True)
class MinScore(Step):
    """Keep rows whose numeric `column` (default `domain_score`) is at least `min_score`."""

    column: str = "domain_score"
    min_score: float = 0.0

    def validate(self, schema: pl.Schema) -> None:
        require_columns(schema, self.column)
        if not schema[self.column].is_numeric():
            raise StepError(f"Column {self.column!r} is not numeric.")

    def apply(self, frame: pl.LazyFrame) -> pl.LazyFrame:
        return frame.filter(pl.col(self.column) >= self.min_score)

    def describe(self) -> str:
        return f"keep rows where {self.column} is at least {self.min_score:g}"


def flag_columns(schema: pl.Schema) -> list[str]:
    """Boolean `flag_<name>` columns that cleaning and quality steps add."""
    return [n for n, t in schema.items() if n.startswith("flag_") and t == pl.Boolean]


def label_balance(
    frame: pl.LazyFrame, column: str
) -> tuple[tuple[Any, int], tuple[Any, int]] | None:
    """For a column with exactly two values: ((larger value, count), (smaller value, count))."""
    counts = (
        frame.group_by(pl.col(column).alias("value"))
        .agg(pl.len().alias("count"))
        .drop_nulls("value")
        .sort(["count", "value"], descending=[True, False])
        .head(3)
        .collect()
    )
    if counts.height != 2:
        return None
    rows = counts.rows()
    return (rows[0][0], rows[0][1]), (rows[1][0], rows[1][1])
