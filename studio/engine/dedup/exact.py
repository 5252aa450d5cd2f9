"""Exact and normalized duplicates: one 64-bit hash per row, grouped with numpy."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl

from studio.engine.dedup.clusters import Clusters, labels_from_keys
from studio.engine.dedup.text import Normalization, cheap_keys, normalize

SEED = 0x5EED


def blank_rows(frame: pl.DataFrame, columns: Sequence[str]) -> np.ndarray:
    """True where every one of `columns` is null, or text that is empty or only whitespace.

    Blank rows are never duplicates of each other: rows with no text are not copies of one
    another (the `empty` quality flag and the "drop empty" cleaning op are for them)."""
    blank = pl.lit(True)
    for column in columns:
        dtype = frame.schema[column]
        value = pl.col(column)
        if dtype == pl.String:
            cell = value.is_null() | (value.str.strip_chars().str.len_bytes() == 0)
        else:
            cell = value.is_null()
        blank = blank & cell
    return frame.select(blank.alias("b"))["b"].to_numpy()


def exact_keys(frame: pl.DataFrame, columns: Sequence[str]) -> np.ndarray:
    """A uint64 hash of the values in `columns` for each row (equal values, equal hash)."""
    if len(columns) == 1:
        series = frame[columns[0]]
    else:
        series = frame.select(pl.struct([pl.col(c) for c in columns]).alias("k"))["k"]
    return series.hash(seed=SEED).to_numpy()


def normalized_keys(series: pl.Series, options: Normalization | None = None) -> np.ndarray:
    """A uint64 per row, equal for rows whose normalized texts are equal (comparable only
    within one call: keys of rows whose text is unique may be cheaper stand-ins).

    Fast path: an order-free sum of byte weights that equal normalized texts share
    (`cheap_keys`) is computed for every row on all cores; only the rows whose cheap key
    collides with another row's, and the non-ASCII rows, go through the full `normalize`."""
    options = options or Normalization()
    series = series.cast(pl.String).fill_null("")
    n = len(series)
    if n == 0:
        return np.zeros(0, dtype=np.uint64)
    wide = (series.str.len_bytes() != series.str.len_chars()).to_numpy()
    keys = cheap_keys(series, options)
    if wide.any():
        index = np.flatnonzero(wide)
        keys[index] = cheap_keys(normalize(series.gather(index), options), options)
    collides = pl.Series(keys).is_duplicated().to_numpy()
    if collides.any():
        index = np.flatnonzero(collides)
        keys[index] = normalize(series.gather(index), options).hash(seed=SEED).to_numpy()
    return keys


def reference_normalized_keys(
    series: pl.Series, options: Normalization | None = None
) -> np.ndarray:
    """The plain definition: hash of every row's normalized text (what the fast path equals)."""
    return normalize(series, options).hash(seed=SEED).to_numpy()


def exact_duplicates(
    keys: np.ndarray, ids: np.ndarray | None = None, blank: np.ndarray | None = None
) -> Clusters:
    """Rows with equal keys form a cluster; rows marked in `blank` join none."""
    ids = np.arange(len(keys), dtype=np.uint64) if ids is None else ids
    if blank is not None and blank.any():
        label = np.full(len(keys), -1, dtype=np.int64)
        label[~blank] = labels_from_keys(keys[~blank])
    else:
        label = labels_from_keys(keys)
    k = int(label.max()) + 1 if len(label) else 0
    return Clusters(ids=ids, label=label, similarity=np.ones(k))
