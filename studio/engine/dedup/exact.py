"""Exact and normalized duplicates: one 64-bit hash per row, grouped with numpy."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl

from studio.engine.dedup.clusters import Clusters, labels_from_keys
from studio.engine.dedup.text import Normalization, normalize

SEED = 0x5EED


def exact_keys(frame: pl.DataFrame, columns: Sequence[str]) -> np.ndarray:
    """A uint64 hash of the values in `columns` for each row (equal values, equal hash)."""
    if len(columns) == 1:
        series = frame[columns[0]]
    else:
        series = frame.select(pl.struct([pl.col(c) for c in columns]).alias("k"))["k"]
    return series.hash(seed=SEED).to_numpy()


def normalized_keys(series: pl.Series, options: Normalization | None = None) -> np.ndarray:
    return normalize(series, options).hash(seed=SEED).to_numpy()


def exact_duplicates(keys: np.ndarray, ids: np.ndarray | None = None) -> Clusters:
    ids = np.arange(len(keys), dtype=np.uint64) if ids is None else ids
    label = labels_from_keys(keys)
    k = int(label.max()) + 1 if len(label) else 0
    return Clusters(ids=ids, label=label, similarity=np.ones(k))
