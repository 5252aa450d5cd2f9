"""Augmentation steps. `augment.eda`: rule-based variants (swap, delete, insert, synonym).

The model-based methods (paraphrase, back-translation) of the Augment issue register their own
methods in `studio.engine.augment.METHODS` and can add steps beside this one.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from studio.engine.augment import AugmentConfig, AugmentReport, augment_frame
from studio.engine.augment.eda import OPS
from studio.engine.errors import StepError
from studio.engine.steps.base import Step, register, require_columns


@register("augment.eda")
@dataclass(frozen=True, slots=True)
class AugmentEda(Step):
    """New rows made by EDA operations, with provenance; originals are unchanged.

    Modes: `per_row` variants of every row, or of the rows whose `label` is in `only_labels`;
    or, with `target_count` > 0, new rows for each class (of `only_labels`, or all) below that
    count until it reaches it. `column` empty = the default field for the dataset's shape;
    `columns` (e.g. instruction and response) augments several fields in each new row and wins
    over `column` (gates per field: see `studio.engine.augment`).
    """

    scope = "global"
    value_fields = (("only_labels", "label"),)
    column: str = ""
    columns: tuple[str, ...] = ()
    ops: tuple[str, ...] = OPS
    alpha: float = 0.1
    per_row: int = 1
    label: str = ""
    only_labels: tuple[str, ...] = ()
    target_count: int = 0
    max_similarity: float = 98.0
    min_similarity: float = 40.0
    max_variants: int = 30
    seed: int = 0

    def group_keys(self) -> tuple[str, ...]:
        return ()

    def validate(self, schema: pl.Schema) -> None:
        require_columns(schema, self.column, *self.columns, self.label)
        unknown = [o for o in self.ops if o not in OPS]
        if unknown:
            raise StepError(f"Unknown EDA operation {unknown[0]!r}; use {', '.join(OPS)}.")
        if not self.ops:
            raise StepError("Choose at least one EDA operation.")
        if (self.only_labels or self.target_count) and not self.label:
            raise StepError("Choose the label column to augment chosen classes.")

    def config(self) -> AugmentConfig:
        return AugmentConfig(
            method="eda",
            column=self.column,
            columns=tuple(self.columns),
            seed=self.seed,
            per_row=self.per_row,
            alpha=self.alpha,
            ops=tuple(self.ops),
            max_similarity=self.max_similarity,
            min_similarity=self.min_similarity,
            max_variants=self.max_variants,
        )

    def run(self, frame: pl.LazyFrame | pl.DataFrame) -> AugmentReport:
        """The augmented frame with the report (counts dropped per reason, notes)."""
        df = frame.collect() if isinstance(frame, pl.LazyFrame) else frame
        needs = None
        if self.target_count > 0:
            from studio.engine.steps.balance import classes_of

            counts = classes_of(df[self.label]).count_map()
            chosen = set(self.only_labels)
            needs = {
                k: self.target_count - n
                for k, n in counts.items()
                if (not chosen or str(k) in chosen) and n < self.target_count
            }
        return augment_frame(
            df,
            self.config(),
            label=self.label or None,
            only_labels=self.only_labels,
            needs=needs,
        )

    def apply(self, frame: pl.LazyFrame) -> pl.LazyFrame:
        return self.run(frame).frame.lazy()

    def describe(self) -> str:
        what = f"{self.per_row} EDA variant{'s' if self.per_row != 1 else ''} per row"
        if self.target_count > 0:
            what = f"EDA variants until each class has {self.target_count:,} rows"
        scope = f" of {', '.join(self.only_labels)}" if self.only_labels else ""
        field = " + ".join(self.columns) or self.column or "the default text field"
        return f"augment {field}: {what}{scope} ({'/'.join(self.ops)}, seed {self.seed})"
