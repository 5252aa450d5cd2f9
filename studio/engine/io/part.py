"""What each format reader returns for one file: rows, where they came from, and problems."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import polars as pl

from studio.engine.dataset import Problem

if TYPE_CHECKING:
    import numpy as np  # numpy is imported where used: it costs start-up time


@dataclass
class Part:
    """One file's rows (no `_id` yet). `lines[i]` is the 1-based line of row i, or None when
    row i sits on line `first_line + i` (or is row number `first_line + i` of a binary file)."""

    frame: pl.LazyFrame
    rows: int
    format: str
    problems: list[Problem] = field(default_factory=list)
    lines: np.ndarray | None = None
    first_line: int = 1
    scan: str | None = None
    """"parquet" or "ipc" when `frame` is a plain lazy scan of the file: the loader then numbers
    rows inside the scan, so that slices of a huge file still read only the rows they need."""


def compact_lines(lines: np.ndarray, first_line: int = 1) -> tuple[np.ndarray | None, int]:
    """Drop the line array when it is just consecutive numbers."""
    import numpy as np

    if len(lines) == 0:
        return None, first_line
    start = int(lines[0])
    if int(lines[-1]) - start == len(lines) - 1 and bool(np.all(np.diff(lines) == 1)):
        return None, start
    return lines.astype(np.int64), first_line
