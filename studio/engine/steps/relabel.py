"""`edit.cells`: set several cells of one column, each row from its old to its new value.

The bulk form of `edit.cell` (one row), used to relabel many likely label errors at once:
row `ids[i]` goes from `old[i]` to `new[i]`; the old values are kept for the record.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import polars as pl

from studio.engine.errors import StepError
from studio.engine.steps.base import ID, Step, id_in, register, require_columns


@register("edit.cells")
@dataclass(frozen=True, slots=True)
class EditCells(Step):
    row_id_fields = ("ids",)
    column: str = ""
    ids: tuple[int, ...] = ()
    old: tuple[Any, ...] = ()
    new: tuple[Any, ...] = ()
    note: str = ""
    """Why (e.g. "likely label errors"), shown in the description."""

    def with_row_ids(self, move: Callable[[int], int | None]) -> Step | None:
        # `old` and `new` run parallel to `ids`: an edit of a row that is gone goes with it
        kept = [(m, o, n) for m, o, n in zip(map(move, self.ids), self.old, self.new, strict=False)]
        kept = [k for k in kept if k[0] is not None]
        if self.ids and not kept:
            return None
        return replace(
            self,
            ids=tuple(int(k[0]) for k in kept),  # type: ignore[arg-type]
            old=tuple(k[1] for k in kept),
            new=tuple(k[2] for k in kept),
        )

    def validate(self, schema: pl.Schema) -> None:
        require_columns(schema, self.column)
        if self.column == ID:
            raise StepError("The row id cannot be edited.")
        if not len(self.ids) == len(self.old) == len(self.new):
            raise StepError("Each edited row needs one old and one new value.")
        if len(set(self.ids)) != len(self.ids):
            raise StepError("A row is listed twice in one edit.")
        dtype = schema[self.column]
        for value in {v for v in self.new if v is not None}:
            try:
                pl.Series([value]).cast(dtype, strict=True)
            except Exception as exc:  # noqa: BLE001
                raise StepError(
                    f"{str(value)[:30]!r} is not a valid value for {self.column} ({dtype})."
                ) from exc

    def apply(self, frame: pl.LazyFrame) -> pl.LazyFrame:
        if not self.column or not self.ids:
            return frame
        dtype = frame.collect_schema()[self.column]
        by_value: dict[Any, list[int]] = {}
        for row, value in zip(self.ids, self.new, strict=True):
            by_value.setdefault(value, []).append(int(row))
        expr = pl.col(self.column)
        for value, rows in by_value.items():
            new = None if value is None else pl.Series([value]).cast(dtype, strict=True)[0]
            expr = pl.when(id_in(rows)).then(pl.lit(new, dtype=dtype)).otherwise(expr)
        return frame.with_columns(expr.alias(self.column))

    def describe(self) -> str:
        n = len(self.ids)
        values = sorted({str(v) for v in self.new})
        to = values[0] if len(values) == 1 else f"{len(values)} values"
        why = f" ({self.note})" if self.note else ""
        return f"edit {self.column} of {n:,} row{'s' if n != 1 else ''} → {to}{why}"
