"""`transfer.stages`: the target task's rows as stage 2 of a transfer-learning run.

Applied to the target, the step keeps its rows and writes their `split` (train / validation /
test; see `studio.engine.transfer.split_target`), so `studio run` on the recipe written beside
the stages (`transfer.recipe.json`) replays stage 2's rows. Its parameters also name the
stage-1 sources, the leak check and the output format, so `studio transfer --recipe R
--target TGT -o DIR` rewrites every file of the stages.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

import polars as pl

from studio.engine.errors import StepError
from studio.engine.steps.base import Step, register, require_columns


def _renamed_source(text: str, names: Mapping[str, str | None]) -> str:
    """A `PATH:task=NAME,...` source text with its task renamed by `names` (a task gone from
    the workspace is still a stage-1 file: its name stays)."""

    def swap(match: re.Match[str]) -> str:
        name = match.group(2)
        return match.group(1) + (names.get(name) or name)

    return re.sub(r"([:,]task=)([^,:]+)(?=$|[,:])", swap, text)


@register("transfer.stages")
@dataclass(frozen=True, slots=True)
class TransferStages(Step):
    scope = "global"
    sources: tuple[str, ...] = ()
    test: str = ""
    ratios: tuple[float, ...] = (0.8, 0.1, 0.1)
    stratify: str = "auto"
    seed: int = 0
    check: str = "near"
    threshold: float = 0.5
    similarity: float = 0.8
    shape: str = "auto"
    tokenizer: str = ""
    format: str = "jsonl"

    def validate(self, schema: pl.Schema) -> None:
        from studio.engine.transfer import CHECKS, FORMATS

        if self.check not in CHECKS:
            raise StepError(f"The leak check is one of {', '.join(CHECKS)}.")
        if self.format not in FORMATS:
            raise StepError(f"Unknown format {self.format!r}; use {', '.join(FORMATS)}.")
        if len(self.ratios) not in (2, 3) or any(r < 0 for r in self.ratios):
            raise StepError("Give two or three split ratios (train, validation[, test]) >= 0.")
        if abs(sum(self.ratios) - 1.0) > 1e-6:
            raise StepError(
                f"The split ratios must add up to 1; they add up to {sum(self.ratios):g}."
            )
        if self.stratify not in ("", "auto"):
            require_columns(schema, self.stratify)
        if self.test and not Path(self.test).exists():
            raise StepError(f"{self.test}: no such test file.")

    def with_values_renamed(self, column: str, names: Mapping[str, str | None]) -> Step:
        """Stage-1 sources named `PATH:task=OLD` (e.g. added from the open sources) follow a
        task renamed in the Sources view."""
        from studio.engine.sources import TASK

        if column != TASK:
            return self
        sources = tuple(_renamed_source(s, names) for s in self.sources)
        return self if sources == self.sources else replace(self, sources=sources)

    def apply(self, frame: pl.LazyFrame) -> pl.LazyFrame:
        from studio.engine.transfer import split_target

        out, _ = split_target(frame.collect(), self)
        return out.lazy()

    def describe(self) -> str:
        names = ", ".join(Path(s.split(":")[0]).name for s in self.sources) or "?"
        test = f", test set {Path(self.test).name}" if self.test else ""
        return f"transfer stages: stage 1 from {names}{test}; target split, {self.check} leak check (seed {self.seed})"
