"""Multi-task mixture steps over a combined workspace (see `studio.engine.mix`).

- `mix.tasks`: resample each task to its share of the mixture (counts, percent,
  examples-proportional with a cap, temperature), seeded; repeated rows get fresh ids and
  `copy_of`.
- `mix.dedup_across`: drop rows that duplicate (exactly or nearly) a row of another task.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from studio.engine.errors import StepError
from studio.engine.mix import (
    RULES,
    Plan,
    cross_task_duplicates,
    plan_mixture,
    sample_mixture,
    task_sizes,
)
from studio.engine.progress import check_cancelled, report
from studio.engine.steps.base import ID, Step, register, require_columns


@register("mix.tasks")
@dataclass(frozen=True, slots=True)
class MixTasks(Step):
    """Resample each task of `column` to its share of a multi-task mixture."""

    rule: str = "proportional"  # counts | percent | proportional | temperature
    counts: tuple[tuple[str, int], ...] = ()  # rule "counts": task -> rows
    weights: tuple[tuple[str, float], ...] = ()  # rule "percent": task -> weight
    total: int = 0  # rows in the mixture (0: as many as max_repeat allows)
    cap: int = 0  # K of examples-proportional (and of temperature); 0: no cap
    temperature: float = 1.0
    max_repeat: float = 1.0  # the most passes over a task's rows (1: never repeat)
    column: str = "task"
    seed: int = 0

    scope = "global"
    value_fields = (("counts", "column"), ("weights", "column"))

    def group_keys(self) -> tuple[str, ...]:
        return (self.column,)

    def validate(self, schema: pl.Schema) -> None:
        require_columns(schema, self.column)
        if self.rule not in RULES:
            raise StepError(f"Unknown mixture rule {self.rule!r}: use {', '.join(RULES)}.")
        if self.rule == "counts" and not self.counts:
            raise StepError("The counts rule needs a row count per task (TASK=N).")
        if self.rule == "percent" and not self.weights:
            raise StepError("The percent rule needs a weight per task (TASK=WEIGHT).")

    def plan(self, frame: pl.LazyFrame | pl.DataFrame) -> Plan:
        return plan_mixture(
            task_sizes(frame, self.column),
            self.rule,
            counts=dict(self.counts),
            weights=dict(self.weights),
            total=self.total,
            cap=self.cap,
            temperature=self.temperature,
            max_repeat=self.max_repeat,
        )

    def apply(self, frame: pl.LazyFrame) -> pl.LazyFrame:
        df = frame.collect()
        check_cancelled()
        plan = self.plan(df)
        report(1, 2, "sampling tasks")
        out = sample_mixture(df, self.column, plan.targets, self.seed)
        report(2, 2, "sampling tasks")
        return out.lazy()

    def describe(self) -> str:
        if self.rule == "counts":
            what = "counts " + ", ".join(f"{t}={n:,}" for t, n in self.counts)
        elif self.rule == "percent":
            what = "weights " + ", ".join(f"{t}={w:g}" for t, w in self.weights)
        elif self.rule == "proportional":
            what = "examples-proportional" + (f", cap {self.cap:,}" if self.cap else "")
        else:
            what = f"temperature {self.temperature:g}" + (f", cap {self.cap:,}" if self.cap else "")
        extra = f", total {self.total:,}" if self.total else ""
        if self.max_repeat > 1:
            extra += f", up to {self.max_repeat:g} passes"
        return f"mix tasks of {self.column} by {what}{extra} (seed {self.seed})"


@register("mix.dedup_across")
@dataclass(frozen=True, slots=True)
class DedupAcross(Step):
    """Drop rows that duplicate a row of another task; the first task (in row order) keeps it."""

    column: str = "task"
    fields: tuple[str, ...] = ()  # compared text (default: every text column)
    method: str = "exact"  # exact | normalized | near
    similarity: float = 0.8  # near: rapidfuzz ratio to accept a candidate
    threshold: float = 0.5  # near: MinHash Jaccard of candidates

    scope = "global"

    def group_keys(self) -> tuple[str, ...]:
        return (self.column,)

    def validate(self, schema: pl.Schema) -> None:
        require_columns(schema, self.column, *self.fields)
        if self.method not in ("exact", "normalized", "near"):
            raise StepError(f"Unknown method {self.method!r}: use exact, normalized or near.")

    def leaks(self, df: pl.DataFrame) -> pl.DataFrame:
        return cross_task_duplicates(
            df, self.column, self.fields, self.method, self.similarity, self.threshold
        )

    def _leaks_of(self, frame: pl.LazyFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
        from studio.engine.steps.dedup import _cached

        def compute() -> tuple[pl.DataFrame, pl.DataFrame]:
            df = frame.collect()
            return df, self.leaks(df)

        return _cached(self, frame, compute)

    def apply(self, frame: pl.LazyFrame) -> pl.LazyFrame:
        df, leaks = self._leaks_of(frame)
        if leaks.height == 0:
            return df.lazy()
        return df.lazy().join(leaks.lazy().select(ID), on=ID, how="anti", maintain_order="left")

    def removal_reasons(self, before: pl.LazyFrame) -> pl.LazyFrame | None:
        _, leaks = self._leaks_of(before)
        return leaks.lazy().select(
            ID,
            (
                pl.lit(f"{self.method} duplicate of row ")
                + pl.col("dup_of").cast(pl.String)
                + pl.lit(" in task ")
                + pl.col("dup_task")
            ).alias("reason"),
        )

    def describe(self) -> str:
        return f"drop {self.method} duplicates across tasks of {self.column}"
