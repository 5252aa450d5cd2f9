"""Expressions over list columns (chat `messages`, token lists, split words)."""

from __future__ import annotations

import polars as pl


def each_element(lists: pl.Expr, expr: pl.Expr) -> pl.Expr:
    """Run a polars expression built on `pl.element()` over every element of each list; the
    result is a list per row. `expr` maps or filters elements (it must not aggregate them).

    This is polars' `Expr.list.agg`: the query engine applies a polars expression; nothing,
    least of all user text, is evaluated as Python. Every list mapping goes through here."""
    return lists.list.agg(expr)
