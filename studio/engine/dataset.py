"""A loaded dataset: a lazy frame with stable row ids, where each row came from, and problems."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from studio.engine.shape import Shape
from studio.engine.steps.base import ID

if TYPE_CHECKING:
    import numpy as np  # numpy is imported where used: it costs start-up time


@dataclass(frozen=True, slots=True)
class Problem:
    """Something wrong in the input: a file, a 1-based line (or row) when known, and why."""

    file: str
    line: int | None
    reason: str

    def to_json(self) -> dict[str, object]:
        return {"file": self.file, "line": self.line, "reason": self.reason}

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.reason}"


@dataclass(slots=True)
class Origin:
    """Rows `first_id .. first_id + count - 1` came from `path`.

    `lines[i]` is the 1-based line (text formats) or row number of row `first_id + i`; when
    `lines` is None the rows are consecutive starting at `first_line`.
    """

    path: str
    first_id: int
    count: int
    lines: np.ndarray | None = None
    first_line: int = 1

    def line_of(self, row_id: int) -> int:
        offset = row_id - self.first_id
        if self.lines is not None:
            return int(self.lines[offset])
        return self.first_line + offset


@dataclass
class Dataset:
    """What a loader returns. `frame` always has the `_id` column (UInt64) first."""

    frame: pl.LazyFrame
    format: str
    paths: list[str]
    rows: int
    shape: Shape
    problems: list[Problem] = field(default_factory=list)
    origins: list[Origin] = field(default_factory=list)
    options: dict[str, object] = field(default_factory=dict)
    combined: dict[str, object] | None = None
    """Set when the dataset combines several sources (`studio.engine.sources.combine`): the
    source specs and the common shape, so a recipe can reopen them."""

    @property
    def name(self) -> str:
        if self.combined:
            n = len(self.combined.get("sources") or ())  # type: ignore[arg-type]
            return f"{n} source{'' if n == 1 else 's'}"
        if len(self.paths) == 1:
            return Path(self.paths[0]).name
        return f"{Path(self.paths[0]).parent.name or '.'} ({len(self.paths)} files)"

    def recipe_source(self) -> dict[str, object]:
        """What a recipe records to reopen this dataset (`Recipe.source`)."""
        source: dict[str, object] = {"paths": list(self.paths), "options": dict(self.options)}
        if self.combined:
            source.update(self.combined)
        return source

    @property
    def columns(self) -> list[str]:
        return [c for c in self.frame.collect_schema().names() if c != ID]

    def source_of(self, row_id: int) -> str:
        """`file:line` for a row id (rows added by steps have no source line)."""
        for origin in self.origins:
            if origin.first_id <= row_id < origin.first_id + origin.count:
                return f"{Path(origin.path).name}:{origin.line_of(row_id)}"
        return f"new:{row_id}"

    def source_ids(self, ids: pl.Series) -> pl.Series:
        """Vectorised `source_of` for a column of ids."""
        import numpy as np

        values = ids.cast(pl.Int64).to_numpy()
        out = (
            np.array([f"new:{v}" for v in values], dtype=object)
            if len(values)
            else np.array([], dtype=object)
        )
        for origin in self.origins:
            mask = (values >= origin.first_id) & (values < origin.first_id + origin.count)
            if not mask.any():
                continue
            offsets = values[mask] - origin.first_id
            lines = (
                origin.lines[offsets] if origin.lines is not None else offsets + origin.first_line
            )
            name = Path(origin.path).name
            out[mask] = [f"{name}:{int(line)}" for line in lines]
        return pl.Series("source", out.tolist(), dtype=pl.String)
