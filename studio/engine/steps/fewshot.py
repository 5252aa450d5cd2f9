"""`fewshot.pack`: the rows of a few-shot prompt pack, as a step a recipe can replay.

The step keeps only the pack's rows: the exemplars (in prompt order), then the evaluation
rows, with a `fewshot` column (`exemplar` / `eval`). Its parameters hold everything the pack
needs (mode, k, label column, seed, evaluation size, templates, tokenizer), so the recipe
written beside a pack (`fewshot.recipe.json`) replays to the same rows with `studio run`, and
`studio fewshot PATH --recipe R -o DIR` rewrites the same files. See `studio.engine.fewshot`.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from studio.engine import fewshot as fs
from studio.engine.errors import StepError
from studio.engine.steps.base import Step, register, require_columns


@register("fewshot.pack")
@dataclass(frozen=True, slots=True)
class FewShotPack(Step):
    scope = "global"
    row_id_fields = ("ids",)
    k: int = 4
    mode: str = "random"
    per_label: str = ""
    ids: tuple[int, ...] = ()
    input: str = ""
    output: str = ""
    eval_n: int = 20
    seed: int = 0
    template: str = fs.DEFAULT_TEMPLATE
    exemplar_format: str = fs.DEFAULT_EXEMPLAR
    tokenizer: str = ""
    context: int = 0

    def group_keys(self) -> tuple[str, ...]:
        return (self.per_label,) if self.per_label else ()

    # the input/output columns: given, else from the detected shape
    def input_source(self, schema: pl.Schema) -> str:
        return self.input or self._defaults(schema)[0]

    def output_source(self, schema: pl.Schema) -> str:
        return self.output or self._defaults(schema)[1]

    def _defaults(self, schema: pl.Schema) -> tuple[str, str]:
        from studio.engine.shape import detect_shape

        return fs.default_fields(detect_shape(pl.LazyFrame(schema=schema)), schema, self.per_label)

    def validate(self, schema: pl.Schema) -> None:
        if self.mode not in fs.MODES:
            raise StepError(f"Unknown exemplar mode {self.mode!r}; use {', '.join(fs.MODES)}.")
        if self.k < 1 and self.mode != "marked":
            raise StepError("k (exemplars) must be at least 1.")
        if self.eval_n < 0:
            raise StepError("The evaluation size cannot be negative.")
        if self.context < 0:
            raise StepError("The context size cannot be negative.")
        if self.per_label:
            require_columns(schema, self.per_label)
        fs.check_templates(self.template, self.exemplar_format)
        fs.check_fields(schema, self.input_source(schema), self.output_source(schema))

    def apply(self, frame: pl.LazyFrame) -> pl.LazyFrame:
        selection = fs.select_pack(frame, self)
        return fs.pack_frame(frame, selection)

    def describe(self) -> str:
        if self.mode == "marked":
            what = f"{len(self.ids)} marked exemplars"
        else:
            per = f" per {self.per_label}" if self.per_label else ""
            how = "diverse" if self.mode == "diverse" else "random"
            what = f"{self.k} {how} exemplars{per}"
        return f"few-shot pack: {what}, {self.eval_n} evaluation rows (seed {self.seed})"
