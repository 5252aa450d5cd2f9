"""Column summaries: dtype, nulls, distinct values, lengths, numeric range, top values.

One lazy query per call computes every column's figures; the top values are a second query
only for low-cardinality columns. Meant to run in a worker on the whole current frame.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from studio.engine.steps.base import ID

TOP_VALUES = 10
LOW_CARDINALITY = 50
"""Columns with at most this many distinct values get a top-values list."""


@dataclass
class ColumnSummary:
    name: str
    dtype: str
    rows: int
    nulls: int
    distinct: int
    kind: str
    """"text", "number", "list", "bool", "other"."""
    min_length: int | None = None
    mean_length: float | None = None
    max_length: int | None = None
    empty: int | None = None
    """Text: empty or whitespace-only values."""
    minimum: Any = None
    mean: float | None = None
    maximum: Any = None
    top: list[tuple[Any, int]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if v is not None and k != "top"}
        out["top"] = [{"value": v, "count": c} for v, c in self.top]
        return out


def _kind(dtype: pl.DataType) -> str:
    if dtype == pl.String or isinstance(dtype, pl.Categorical | pl.Enum):
        return "text"
    if dtype == pl.Boolean:
        return "bool"
    if dtype.is_numeric():
        return "number"
    if isinstance(dtype, pl.List | pl.Array):
        return "list"
    return "other"


def _hashable(expr: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """A column n_unique can work on (nested values are compared by their JSON)."""
    if isinstance(dtype, pl.Struct):
        return expr.struct.json_encode()
    if isinstance(dtype, pl.List | pl.Array):
        wrapped = pl.struct(expr.alias("v")).struct.json_encode()
        return wrapped.str.strip_prefix('{"v":').str.strip_suffix("}")
    return expr


def summarize(frame: pl.LazyFrame, columns: Sequence[str] | None = None) -> list[ColumnSummary]:
    """Summaries of `columns` (default: every column but `_id`) of `frame`."""
    schema = frame.collect_schema()
    names = [c for c in (columns if columns is not None else schema.names()) if c != ID]
    if not names:
        return []
    exprs: list[pl.Expr] = [pl.len().alias("__rows")]
    for i, name in enumerate(names):
        col, dtype, kind = pl.col(name), schema[name], _kind(schema[name])
        exprs += [
            col.null_count().alias(f"{i}:nulls"),
            _hashable(col, dtype).n_unique().alias(f"{i}:distinct"),
        ]
        if kind == "text":
            length = col.cast(pl.String).str.len_chars()
            exprs += [
                length.min().alias(f"{i}:min_length"),
                length.mean().alias(f"{i}:mean_length"),
                length.max().alias(f"{i}:max_length"),
                (col.cast(pl.String).str.strip_chars() == "").sum().alias(f"{i}:empty"),
            ]
        elif kind == "list":
            length = col.list.len() if isinstance(dtype, pl.List) else col.arr.len()
            exprs += [
                length.min().alias(f"{i}:min_length"),
                length.mean().alias(f"{i}:mean_length"),
                length.max().alias(f"{i}:max_length"),
            ]
        elif kind == "number":
            exprs += [
                col.min().alias(f"{i}:minimum"),
                col.mean().alias(f"{i}:mean"),
                col.max().alias(f"{i}:maximum"),
            ]
        elif kind == "bool":
            exprs += [col.cast(pl.Int8).mean().alias(f"{i}:mean")]
    figures = frame.select(exprs).collect().row(0, named=True)
    rows = int(figures["__rows"])
    out = []
    for i, name in enumerate(names):
        got = {k.split(":", 1)[1]: v for k, v in figures.items() if k.startswith(f"{i}:")}
        summary = ColumnSummary(
            name=name,
            dtype=str(schema[name]),
            rows=rows,
            nulls=int(got.pop("nulls")),
            distinct=int(got.pop("distinct")),
            kind=_kind(schema[name]),
            **got,
        )
        if summary.distinct <= LOW_CARDINALITY and summary.kind != "list":
            summary.top = top_values(frame, name, schema[name])
        out.append(summary)
    return out


def top_values(
    frame: pl.LazyFrame, column: str, dtype: pl.DataType | None = None, limit: int = TOP_VALUES
) -> list[tuple[Any, int]]:
    """The most frequent values of a column with their counts (ties by value order)."""
    dtype = dtype if dtype is not None else frame.collect_schema()[column]
    expr = _hashable(pl.col(column), dtype).alias("value")
    counts = (
        frame.select(expr)
        .group_by("value")
        .agg(pl.len().alias("count"))
        .sort(["count", "value"], descending=[True, False], nulls_last=True)
        .head(limit)
        .collect()
    )
    return [(row[0], int(row[1])) for row in counts.iter_rows()]
