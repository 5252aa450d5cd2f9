"""The workspace: a loaded dataset, the steps applied to it, undo/redo and the journal.

The TUI and the tests drive this object; it never imports textual. Long calls (`apply`,
`undo`, `redo`, `restore`) are meant to run in a worker thread.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from studio.engine.dataset import Dataset
from studio.engine.journal import Journal
from studio.engine.recipe import Recipe, StepResult, apply_step
from studio.engine.steps.base import ID, Step

CHECKPOINTS = 3
"""How many materialised frames after steps are kept for fast undo."""
SCANNED_SUFFIXES = (".parquet", ".arrow", ".ipc", ".feather")
"""Formats opened as lazy scans (the others are read into memory when opened)."""
EXPANSION = 3
"""In-memory bytes per byte of a compressed columnar file (a generous guess)."""


def memory_budget() -> int:
    """Bytes the source rows may take in memory: `STUDIO_MEMORY_MB`, else an eighth of the
    machine's RAM, at most 4 GB."""
    env = os.environ.get("STUDIO_MEMORY_MB", "").strip()
    if env.isdigit():
        return int(env) * 2**20
    try:
        ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        ram = 8 * 2**30
    return min(ram // 8, 4 * 2**30)


@dataclass
class _Entry:
    step: Step
    result: StepResult
    frame: pl.DataFrame | None


class Workspace:
    def __init__(self, dataset: Dataset, *, journal: Journal | None = None) -> None:
        self.dataset = dataset
        self.journal = journal
        self._entries: list[_Entry] = []
        self._redo: list[tuple[Step, tuple[int, ...]]] = []
        self.restored: dict[int, tuple[int, ...]] = {}
        self._base: pl.DataFrame | None = None
        self._lock = threading.RLock()
        self.generation = 0
        """Bumped on every change, so views can drop caches."""

    # -- state ---------------------------------------------------------------------------
    @property
    def steps(self) -> list[Step]:
        return [e.step for e in self._entries]

    @property
    def results(self) -> list[StepResult]:
        return [e.result for e in self._entries]

    @property
    def can_undo(self) -> bool:
        return bool(self._entries)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    @property
    def rows(self) -> int:
        return self._entries[-1].result.rows_out if self._entries else self.dataset.rows

    @property
    def frame(self) -> pl.LazyFrame:
        """The current data (after every applied step), lazily."""
        with self._lock:
            return self._frame_at(len(self._entries)).lazy() if self._entries else self._source()

    def _source(self) -> pl.LazyFrame:
        """The opened rows: in memory once `hold_in_memory` has read them, else the scan."""
        return self._base.lazy() if self._base is not None else self.dataset.frame

    def source_bytes_estimate(self) -> int | None:
        """Estimated in-memory size of a lazily scanned source; None when it is in memory."""
        paths = [Path(p) for p in self.dataset.paths]
        if not paths or not any(p.suffix.lower() in SCANNED_SUFFIXES for p in paths):
            return None
        try:
            return sum(p.stat().st_size for p in paths) * EXPANSION
        except OSError:
            return None

    def hold_in_memory(self, budget: int | None = None) -> bool:
        """Read a scanned source (Parquet, Arrow) into memory once, when its estimated size
        fits `budget` (default `memory_budget()`), so steps on the original rows stop
        re-reading and decompressing the file (2 s of CPU for 1M rows of text). The rows are
        the same, so the generation does not change. Meant for a background worker."""
        if self._base is not None:
            return True
        estimate = self.source_bytes_estimate()
        if estimate is None or estimate > (memory_budget() if budget is None else budget):
            return False
        base = self.dataset.frame.collect()
        with self._lock:
            self._base = base
        return True

    @property
    def in_memory(self) -> bool:
        return self._base is not None

    @property
    def columns(self) -> list[str]:
        return [c for c in self.frame.collect_schema().names() if c != ID]

    def recipe(self) -> Recipe:
        return Recipe(
            steps=self.steps,
            source=self.dataset.recipe_source(),
            restored={k: v for k, v in self.restored.items() if k < len(self._entries) and v},
        )

    # -- changes -------------------------------------------------------------------------
    def apply(self, step: Step, *, restore: tuple[int, ...] = ()) -> StepResult:
        """Apply a step to the current data (putting back the rows `restore` names that it
        removes, as a replayed recipe does); clears the redo list."""
        with self._lock:
            result = self._push(step, tuple(restore))
            self._redo.clear()
            self._changed()
            return result

    def undo(self) -> Step | None:
        with self._lock:
            if not self._entries:
                return None
            index = len(self._entries) - 1
            entry = self._entries.pop()
            self._redo.append((entry.step, self.restored.pop(index, ())))
            self._changed()
            return entry.step

    def redo(self) -> StepResult | None:
        with self._lock:
            if not self._redo:
                return None
            step, restore = self._redo.pop()
            result = self._push(step, restore)
            self._changed()
            return result

    def replay(self, recipe: Recipe) -> list[StepResult]:
        """Apply a saved recipe's steps (resume a journal, open a recipe)."""
        with self._lock:
            out = []
            for index, step in enumerate(recipe.steps):
                out.append(self._push(step, recipe.restored.get(index, ())))
            self._redo.clear()
            self._changed()
            return out

    def restore(self, step_index: int, ids: list[int] | tuple[int, ...]) -> None:
        """Put back rows that step `step_index` removed; later steps are re-run."""
        with self._lock:
            if not 0 <= step_index < len(self._entries):
                raise IndexError(step_index)
            merged = tuple(sorted(set(self.restored.get(step_index, ())) | {int(i) for i in ids}))
            later = [
                (e.step, self.restored.get(i, ()))
                for i, e in enumerate(self._entries)
                if i >= step_index
            ]
            del self._entries[step_index:]
            for offset, (step, restore) in enumerate(later):
                keep = merged if offset == 0 else restore
                self._push(step, keep)
            self._changed()

    def removed(self) -> pl.DataFrame:
        """Every removed row: its id, source (file:line), the step index, step and reason."""
        parts = []
        for index, entry in enumerate(self._entries):
            if entry.result.removed.height:
                parts.append(
                    entry.result.removed.with_columns(
                        pl.lit(index, dtype=pl.Int64).alias("step_index"),
                        pl.lit(entry.step.describe()).alias("step"),
                    )
                )
        if not parts:
            return pl.DataFrame(
                schema={
                    ID: pl.UInt64,
                    "reason": pl.String,
                    "step_index": pl.Int64,
                    "step": pl.String,
                    "source": pl.String,
                }
            )
        out = pl.concat(parts)
        return out.with_columns(self.dataset.source_ids(out[ID]).alias("source"))

    def removed_rows(self) -> pl.DataFrame:
        """The removed rows with all their original columns and a `removed_by` column."""
        removed = self.removed()
        originals = self.dataset.frame.join(
            removed.lazy().select(ID, "reason", "step"), on=ID, how="inner"
        )
        return (
            originals.with_columns(
                (pl.col("step") + pl.lit(": ") + pl.col("reason")).alias("removed_by")
            )
            .drop("reason", "step")
            .collect()
        )

    # -- internals -----------------------------------------------------------------------
    def _push(self, step: Step, restore: tuple[int, ...]) -> StepResult:
        before = self.frame
        out, result = apply_step(before, step, restore=restore, rows_in=self.rows)
        self._entries.append(_Entry(step, result, out))
        if restore:
            self.restored[len(self._entries) - 1] = restore
        # keep only the newest checkpoints in memory
        for entry in self._entries[:-CHECKPOINTS]:
            entry.frame = None
        return result

    def _frame_at(self, count: int) -> pl.DataFrame:
        """The materialised frame after the first `count` steps (recomputed if evicted)."""
        entry = self._entries[count - 1]
        if entry.frame is not None:
            return entry.frame
        start = count - 1
        while start > 0 and self._entries[start - 1].frame is None:
            start -= 1
        current = self._entries[start - 1].frame.lazy() if start > 0 else self._source()  # type: ignore[union-attr]
        out: pl.DataFrame | None = None
        for i in range(start, count):
            out, _ = apply_step(current, self._entries[i].step, restore=self.restored.get(i, ()))
            current = out.lazy()
        assert out is not None
        entry.frame = out
        return out

    def _changed(self) -> None:
        self.generation += 1
        if self.journal is not None:
            self.journal.save(self.recipe())
