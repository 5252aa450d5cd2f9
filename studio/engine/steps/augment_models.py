"""`augment.model`: new rows from a paraphrase model or back-translation, with provenance.

Scope: every row, the rows of chosen classes (`only_labels`), chosen rows (`only_ids`, e.g.
the marked rows), or until each chosen class reaches `target_count`. `max_sources` limits the
run to the first N eligible rows (a cancelled run whose rows the user kept replays with it).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from studio.engine.augment import AugmentConfig, AugmentReport, augment_frame, resolve_columns
from studio.engine.augment import models as _models  # noqa: F401  (registers the methods)
from studio.engine.errors import StepError
from studio.engine.steps.base import ID, Step, fresh_ids, id_in, register, require_columns

MODEL_METHODS = ("paraphrase", "backtranslate", "eda")
"""eda here gives rule-based variants with this step's row scope (marked rows, first N)."""


@register("augment.model")
@dataclass(frozen=True, slots=True)
class AugmentModel(Step):
    scope = "global"
    row_id_fields = ("only_ids",)
    value_fields = (("only_labels", "label"),)
    method: str = "paraphrase"
    model: str = ""
    pivot_model: str = ""
    prefix: str = ""
    column: str = ""
    columns: tuple[str, ...] = ()
    """Several fields augmented together in each new row (wins over `column`)."""
    per_row: int = 1
    temperature: float = 1.0
    top_p: float = 0.95
    num_beams: int = 1
    max_new_tokens: int = 128
    batch_size: int = 16
    label: str = ""
    only_labels: tuple[str, ...] = ()
    only_ids: tuple[int, ...] = ()
    target_count: int = 0
    max_similarity: float = 98.0
    min_similarity: float = 40.0
    max_sources: int = 0
    seed: int = 0

    def validate(self, schema: pl.Schema) -> None:
        require_columns(schema, self.column, *self.columns, self.label)
        if self.method not in MODEL_METHODS:
            raise StepError(
                f"Unknown model method {self.method!r}; use {' or '.join(MODEL_METHODS)}."
            )
        if (self.only_labels or self.target_count) and not self.label:
            raise StepError("Choose the label column to augment chosen classes.")

    def config(self) -> AugmentConfig:
        return AugmentConfig(
            method=self.method,
            column=self.column,
            columns=tuple(self.columns),
            seed=self.seed,
            per_row=self.per_row,
            max_similarity=self.max_similarity,
            min_similarity=self.min_similarity,
            options={
                "model": self.model,
                "pivot_model": self.pivot_model,
                "prefix": self.prefix,
                "temperature": self.temperature,
                "top_p": self.top_p,
                "num_beams": self.num_beams,
                "max_new_tokens": self.max_new_tokens,
                "batch_size": self.batch_size,
            },
        )

    def eligible(self, df: pl.DataFrame) -> pl.DataFrame:
        sub = df
        if self.only_ids:
            sub = sub.filter(id_in(self.only_ids))
        if self.only_labels:
            sub = sub.filter(
                pl.col(self.label)
                .cast(pl.String)
                .is_in(pl.Series(list(self.only_labels), dtype=pl.String).implode())
            )
        if self.max_sources > 0:
            sub = sub.head(self.max_sources)
        return sub

    def run(self, frame: pl.LazyFrame | pl.DataFrame) -> AugmentReport:
        df = frame.collect() if isinstance(frame, pl.LazyFrame) else frame
        sub = self.eligible(df)
        needs = None
        if self.target_count > 0:
            counts = df.group_by(pl.col(self.label).cast(pl.String)).len()
            chosen = set(self.only_labels)
            needs = {
                k: self.target_count - n
                for k, n in counts.iter_rows()
                if k is not None and (not chosen or k in chosen) and n < self.target_count
            }
            sub = sub.with_columns(pl.col(self.label).cast(pl.String))
        columns = resolve_columns(df, self.config())
        result = augment_frame(
            sub,
            self.config(),
            label=self.label or None,
            needs=needs,
            batch=self.batch_size * 4,
            originals=df.select(columns) if set(columns) <= set(df.columns) else None,
        )
        new = result.new_rows()
        base = result.frame.head(0)
        full = (
            pl.concat([df, base], how="diagonal_relaxed").select(base.columns)
            if set(base.columns) - set(df.columns)
            else df
        )
        if new.height:
            new = new.with_columns(
                pl.col(c).cast(full.schema[c]) for c in new.columns if c in full.columns and c != ID
            )
            new = fresh_ids(full.lazy(), new.lazy()).select(full.columns).collect()
        result.frame = pl.concat([full, new]) if new.height else full
        result.added = new.height
        return result

    def apply(self, frame: pl.LazyFrame) -> pl.LazyFrame:
        return self.run(frame).frame.lazy()

    def describe(self) -> str:
        models = {"paraphrase": self.model, "eda": "rule-based"}.get(
            self.method, f"{self.model} → {self.pivot_model}"
        )
        if self.target_count > 0:
            what = f"until each class has {self.target_count:,} rows"
        else:
            what = f"{self.per_row} variant{'s' if self.per_row != 1 else ''} per row"
        scope = ""
        if self.only_labels:
            scope = f" of {', '.join(self.only_labels)}"
        if self.only_ids:
            scope += f" of {len(self.only_ids):,} chosen rows"
        if self.max_sources:
            scope += f" (first {self.max_sources:,} rows)"
        field = " + ".join(self.columns) or self.column or "the default text field"
        return f"augment {field} by {self.method} ({models}): {what}{scope}, seed {self.seed}"
