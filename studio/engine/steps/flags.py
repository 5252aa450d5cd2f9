"""The quality-flags step: adds Boolean `flag_<name>` columns (see `studio.engine.quality_flags`
for each flag and its default threshold). The Filter pane shows every `flag_*` column as a
facet; nothing is dropped here."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from studio.engine.errors import StepError
from studio.engine.quality_flags import FLAG_NAMES, FlagConfig, flag_columns, text_of
from studio.engine.steps.base import Step, register, require_columns


@register("flags.add")
@dataclass(frozen=True, slots=True)
class AddFlags(Step):
    """Add `flag_*` columns. `column` is the text the text flags read (the answer, usually);
    `fields` the columns `flag_empty` checks (all text columns when empty); `flags` which flags
    (all when empty)."""

    column: str = "text"
    fields: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()
    min_words: int = 3
    max_words: int = 2000
    max_duplicate_lines: float = 0.30
    max_duplicate_ngrams: float = 0.20
    ngram: int = 3
    min_alpha_words: float = 0.80

    def config(self) -> FlagConfig:
        return FlagConfig(
            min_words=self.min_words,
            max_words=self.max_words,
            max_duplicate_lines=self.max_duplicate_lines,
            max_duplicate_ngrams=self.max_duplicate_ngrams,
            ngram=self.ngram,
            min_alpha_words=self.min_alpha_words,
        )

    def validate(self, schema: pl.Schema) -> None:
        require_columns(schema, self.column, *self.fields)
        text_of(self.column, schema)  # a text column or a conversation, else a clear error
        unknown = [f for f in self.flags if f not in FLAG_NAMES]
        if unknown:
            raise StepError(f"Unknown flag {unknown[0]!r}; flags are: {', '.join(FLAG_NAMES)}.")

    def apply(self, frame: pl.LazyFrame) -> pl.LazyFrame:
        return flag_columns(
            frame, self.column, tuple(self.fields), self.config(), tuple(self.flags) or FLAG_NAMES
        )

    def describe(self) -> str:
        which = ", ".join(self.flags) if self.flags else "all quality flags"
        return f"add {which} for {self.column}"
