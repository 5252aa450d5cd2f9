"""Dedup kernels: exact and normalized hashes, MinHash LSH near-duplicates, semantic neighbours.

Kernels work on polars Series and numpy arrays by row position and return `Clusters`; the
steps in `studio.engine.steps.dedup` turn them into kept rows, reasons and cluster columns.
"""

from studio.engine.dedup.clusters import KEEP_POLICIES, Clusters, choose_kept
from studio.engine.dedup.exact import exact_duplicates, exact_keys, normalized_keys
from studio.engine.dedup.minhash import MinHashConfig, near_duplicates, optimal_bands
from studio.engine.dedup.text import Normalization, normalize

__all__ = [
    "KEEP_POLICIES",
    "Clusters",
    "MinHashConfig",
    "Normalization",
    "choose_kept",
    "exact_duplicates",
    "exact_keys",
    "near_duplicates",
    "normalize",
    "normalized_keys",
    "optimal_bands",
]
