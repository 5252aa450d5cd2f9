"""Clusters of duplicate rows: labels from keys or pairs, similarity, and which row each keeps.

Everything works on numpy arrays indexed by row position; `Clusters` carries the row ids
(`_id`) so steps can turn positions back into stable identities.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import polars as pl


@dataclass
class Clusters:
    """`label[i]` is the cluster of row i (-1: no duplicate); `kept[c]` the position kept in
    cluster c; `similarity[c]` the lowest verified similarity inside it (1.0 for exact)."""

    ids: np.ndarray  # uint64 row ids, by position
    label: np.ndarray  # int64 cluster per position, -1 for rows without duplicates
    kept: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    similarity: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float64))

    @property
    def count(self) -> int:
        return int(self.label.max()) + 1 if len(self.label) else 0

    def members(self) -> list[np.ndarray]:
        """Positions of each cluster's members, in row order."""
        order = np.argsort(self.label, kind="stable")
        sorted_labels = self.label[order]
        start = np.searchsorted(sorted_labels, 0)
        order, sorted_labels = order[start:], sorted_labels[start:]
        cuts = np.flatnonzero(np.diff(sorted_labels)) + 1
        return np.split(order, cuts) if len(order) else []

    def dropped(self) -> np.ndarray:
        """Positions of rows that lose to their cluster's kept row (boolean mask)."""
        mask = self.label >= 0
        if not mask.any():
            return np.zeros(len(self.label), dtype=bool)
        kept_pos = np.full(len(self.label), -1, dtype=np.int64)
        kept_pos[mask] = self.kept[self.label[mask]]
        return mask & (kept_pos >= 0) & (kept_pos != np.arange(len(self.label)))

    def kept_of(self) -> np.ndarray:
        """For every position, the position of its cluster's kept row (-1 when none)."""
        out = np.full(len(self.label), -1, dtype=np.int64)
        mask = self.label >= 0
        out[mask] = self.kept[self.label[mask]]
        return out

    def cluster_ids(self) -> np.ndarray:
        """A stable cluster id per position: the smallest `_id` of its members (-1: none)."""
        out = np.full(len(self.label), -1, dtype=np.int64)
        if self.count == 0:
            return out
        smallest = np.full(self.count, np.iinfo(np.int64).max, dtype=np.int64)
        mask = self.label >= 0
        np.minimum.at(smallest, self.label[mask], self.ids[mask].astype(np.int64))
        out[mask] = smallest[self.label[mask]]
        return out

    def table(self) -> pl.DataFrame:
        """One row per cluster: cluster, size, similarity, kept id, member ids."""
        members = self.members()
        return pl.DataFrame(
            {
                "cluster": np.arange(len(members), dtype=np.int64),
                "size": np.array([len(m) for m in members], dtype=np.int64),
                "similarity": self.similarity[: len(members)],
                "kept": np.array(
                    [
                        int(self.ids[self.kept[c]]) if self.kept[c] >= 0 else -1
                        for c in range(len(members))
                    ],
                    dtype=np.int64,
                ),
                "members": [self.ids[m].astype(np.int64).tolist() for m in members],
            },
            schema={
                "cluster": pl.Int64,
                "size": pl.Int64,
                "similarity": pl.Float64,
                "kept": pl.Int64,
                "members": pl.List(pl.Int64),
            },
        )


def labels_from_keys(keys: np.ndarray) -> np.ndarray:
    """Rows with equal keys share a label; keys seen once get -1. Labels follow first sight."""
    n = len(keys)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    _, first, inverse, counts = np.unique(
        keys, return_index=True, return_inverse=True, return_counts=True
    )
    dup = counts[inverse] > 1
    return _relabel(np.where(dup, inverse, -1), first)


def _relabel(raw: np.ndarray, first_pos: np.ndarray | None = None) -> np.ndarray:
    """Renumber labels 0..k-1 in order of each cluster's first row; keep -1."""
    out = np.full(len(raw), -1, dtype=np.int64)
    mask = raw >= 0
    if not mask.any():
        return out
    uniq, first = np.unique(raw[mask], return_index=True)
    positions = np.flatnonzero(mask)[first]
    rank = np.empty(len(uniq), dtype=np.int64)
    rank[np.argsort(positions, kind="stable")] = np.arange(len(uniq))
    out[mask] = rank[np.searchsorted(uniq, raw[mask])]
    return out


def labels_from_pairs(n: int, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Connected components of the graph whose edges are the verified pairs.

    Vectorised hook-and-jump (Shiloach-Vishkin style) over the nodes that have edges, in
    numpy: no scipy import (it costs more start-up time than the whole search on small data)."""
    distinct = left != right  # a row paired with itself is no duplicate
    left, right = left[distinct], right[distinct]
    if len(left) == 0:
        return np.full(n, -1, dtype=np.int64)
    nodes, inverse = np.unique(np.concatenate([left, right]).astype(np.int64), return_inverse=True)
    a, b = inverse[: len(left)], inverse[len(left) :]
    parent = np.arange(len(nodes), dtype=np.int64)
    while True:
        pa, pb = parent[a], parent[b]
        if np.array_equal(pa, pb):
            break
        low = np.minimum(pa, pb)
        np.minimum.at(parent, pa, low)
        np.minimum.at(parent, pb, low)
        while True:  # pointer jumping until every node points at its root
            grand = parent[parent]
            if np.array_equal(grand, parent):
                break
            parent = grand
    raw = np.full(n, -1, dtype=np.int64)
    raw[nodes] = parent
    return _relabel(raw)


def cluster_similarity(
    label: np.ndarray, left: np.ndarray, right: np.ndarray, score: np.ndarray
) -> np.ndarray:
    """Lowest pair score inside each cluster (1.0 for clusters without scored pairs)."""
    k = int(label.max()) + 1 if len(label) else 0
    out = np.ones(k, dtype=np.float64)
    if len(left) and k:
        lab = label[left]
        ok = lab >= 0
        np.minimum.at(out, lab[ok], score[ok])
    return out


KEEP_POLICIES = ("first", "last", "longest", "shortest", "complete", "highest", "lowest")


def choose_kept(
    label: np.ndarray,
    score: np.ndarray | None,
    ids: np.ndarray,
    overrides: Sequence[tuple[int, int]] = (),
) -> np.ndarray:
    """Position kept in each cluster: highest `score` (ties: first row), then overrides.

    `score=None` keeps the first row. An override `(member id, kept id)` names any member of a
    cluster and the row it keeps; `kept id = -1` rejects the cluster (all its rows stay).
    """
    k = int(label.max()) + 1 if len(label) else 0
    kept = np.full(k, -1, dtype=np.int64)
    if k == 0:
        return kept
    pos = np.flatnonzero(label >= 0)
    lab = label[pos]
    s = np.zeros(len(pos)) if score is None else np.nan_to_num(score[pos], nan=-np.inf)
    order = np.lexsort((pos, -s, lab))
    first = np.ones(len(order), dtype=bool)
    first[1:] = lab[order][1:] != lab[order][:-1]
    kept[lab[order][first]] = pos[order][first]
    if overrides:
        where = {int(v): i for i, v in enumerate(ids.tolist())} if len(overrides) else {}
        for member, chosen in overrides:
            p = where.get(int(member))
            if p is None or label[p] < 0:
                continue
            c = label[p]
            if int(chosen) < 0:
                kept[c] = -1
                continue
            q = where.get(int(chosen))
            if q is not None and label[q] == c:
                kept[c] = q
    return kept
