"""The first steps: keep or drop marked rows, drop or rename a column, sort."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from studio.engine.steps.base import ID, Step, id_in, register, require_columns


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


@register("rows.keep")
@dataclass(frozen=True, slots=True)
class KeepRows(Step):
    """Keep only the rows whose `_id` is listed (the marked rows)."""

    row_id_fields = ("ids",)
    ids: tuple[int, ...] = ()

    def apply(self, frame: pl.LazyFrame) -> pl.LazyFrame:
        return frame.filter(id_in(self.ids))

    def describe(self) -> str:
        return f"keep {_plural(len(self.ids), 'marked row')}"


@register("rows.drop")
@dataclass(frozen=True, slots=True)
class DropRows(Step):
    """Drop the rows whose `_id` is listed (the marked rows), with a reason."""

    row_id_fields = ("ids",)
    ids: tuple[int, ...] = ()
    reason: str = "dropped by hand"

    def apply(self, frame: pl.LazyFrame) -> pl.LazyFrame:
        return frame.filter(~id_in(self.ids))

    def describe(self) -> str:
        return f"drop {_plural(len(self.ids), 'marked row')} ({self.reason})"

    def removal_reasons(self, before: pl.LazyFrame) -> pl.LazyFrame:
        return before.filter(id_in(self.ids)).select(ID, pl.lit(self.reason).alias("reason"))


@register("columns.drop")
@dataclass(frozen=True, slots=True)
class DropColumns(Step):
    columns: tuple[str, ...] = ()

    def validate(self, schema: pl.Schema) -> None:
        require_columns(schema, *self.columns)

    def apply(self, frame: pl.LazyFrame) -> pl.LazyFrame:
        return frame.drop([c for c in self.columns if c != ID])

    def describe(self) -> str:
        return f"drop column{'s' if len(self.columns) != 1 else ''} {', '.join(self.columns)}"


@register("columns.rename")
@dataclass(frozen=True, slots=True)
class RenameColumn(Step):
    old: str = ""
    new: str = ""

    def validate(self, schema: pl.Schema) -> None:
        require_columns(schema, self.old)
        if self.new in schema and self.new != self.old:
            from studio.engine.errors import StepError

            raise StepError(f"A column named {self.new!r} already exists.")

    def apply(self, frame: pl.LazyFrame) -> pl.LazyFrame:
        return frame.rename({self.old: self.new})

    def describe(self) -> str:
        return f"rename column {self.old} to {self.new}"


@register("rows.sort")
@dataclass(frozen=True, slots=True)
class Sort(Step):
    """Sort by columns; stable, so ties keep their current order."""

    scope = "global"
    columns: tuple[str, ...] = ()
    descending: tuple[bool, ...] = ()

    def validate(self, schema: pl.Schema) -> None:
        require_columns(schema, *self.columns)

    def group_keys(self) -> tuple[str, ...]:
        return ()

    def apply(self, frame: pl.LazyFrame) -> pl.LazyFrame:
        desc = list(self.descending) or [False] * len(self.columns)
        return frame.sort(list(self.columns), descending=desc, maintain_order=True, nulls_last=True)

    def describe(self) -> str:
        desc = list(self.descending) or [False] * len(self.columns)
        parts = [
            f"{c} {'descending' if d else 'ascending'}"
            for c, d in zip(self.columns, desc, strict=False)
        ]
        return "sort by " + ", ".join(parts)
