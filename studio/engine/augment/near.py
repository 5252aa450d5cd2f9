"""Near-duplicate gate for new variants, on the MinHash kernels of `studio.engine.dedup.minhash`.

A variant is a near duplicate when its normalized text reaches `MinHashConfig.similarity`
(rapidfuzz `fuzz.ratio` / 100, default 0.8) against an ORIGINAL row other than its own source,
or against another new variant already kept. Candidates come from the same LSH banding as the
Clean pane's near-duplicate finder (word 3-grams, 128 bins, tuned for Jaccard 0.5); only the
candidates are verified. Closeness to the variant's own source is the similarity gate's job,
so originals whose normalized text equals the source's (the source and its exact twins) are
not counted against it.

The originals are hashed once (band keys sorted per band); each batch of variants is looked
up with `searchsorted`, and the kept variants join a per-band sorted index.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl

from studio.engine.dedup.minhash import MinHashConfig, band_keys, candidate_pairs, signatures
from studio.engine.dedup.text import normalize


class _BandIndex:
    """Per-band sorted keys with the item number behind each key."""

    def __init__(self, bands: int) -> None:
        self.keys = [np.zeros(0, dtype=np.uint64) for _ in range(bands)]
        self.items = [np.zeros(0, dtype=np.int64) for _ in range(bands)]

    def add(self, keys: np.ndarray, items: np.ndarray) -> None:
        """`keys` (bands, m) for items numbered `items` (m,)."""
        if keys.shape[1] == 0:
            return
        for b in range(keys.shape[0]):
            order = np.argsort(keys[b], kind="stable")
            new_keys, new_items = keys[b][order], items[order]
            at = np.searchsorted(self.keys[b], new_keys, side="right")
            # a merge, linear in the index size (the index grows batch by batch)
            self.keys[b] = np.insert(self.keys[b], at, new_keys)
            self.items[b] = np.insert(self.items[b], at, new_items)

    def matches(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Unique (query position, item) pairs sharing at least one band key."""
        queries, items = [], []
        for b in range(keys.shape[0]):
            if len(self.keys[b]) == 0:
                continue
            lo = np.searchsorted(self.keys[b], keys[b], side="left")
            hi = np.searchsorted(self.keys[b], keys[b], side="right")
            counts = hi - lo
            hit = np.flatnonzero(counts)
            if len(hit) == 0:
                continue
            reps = counts[hit]
            q = np.repeat(hit, reps)
            starts = np.repeat(lo[hit], reps)
            offset = np.arange(len(q)) - np.repeat(np.cumsum(reps) - reps, reps)
            queries.append(q)
            items.append(self.items[b][starts + offset])
        if not queries:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty
        q, item = np.concatenate(queries), np.concatenate(items)
        span = int(item.max()) + 1
        pair = np.unique(q.astype(np.int64) * span + item)
        return pair // span, pair % span


def _ratios(a: Sequence[str], b: Sequence[str]) -> np.ndarray:
    if not a:
        return np.zeros(0)
    from rapidfuzz import fuzz
    from rapidfuzz.process import cpdist

    return np.asarray(cpdist(list(a), list(b), scorer=fuzz.ratio, workers=1)) / 100.0


class NearDuplicateGate:
    def __init__(self, originals: pl.Series, config: MinHashConfig | None = None) -> None:
        self.config = config or MinHashConfig()
        self.bands, self.rows = self.config.band_rows()
        self.original_norm = normalize(originals).to_list()
        self.originals = _BandIndex(self.bands)
        keys, has = self._keys(originals)
        active = np.flatnonzero(has)
        self.originals.add(keys[:, active], active)
        self.variants = _BandIndex(self.bands)
        self.variant_norm: list[str] = []

    def _keys(self, texts: pl.Series) -> tuple[np.ndarray, np.ndarray]:
        sig, has = signatures(normalize(texts), self.config)
        return band_keys(sig, self.bands, self.rows), has

    def check(self, texts: Sequence[str], sources: Sequence[str]) -> list[bool]:
        """Whether each variant is a near duplicate (of an original other than its source, of a
        kept variant, or of an earlier variant in this batch that is kept); the ones that are not
        are added to the kept variants."""
        m = len(texts)
        if m == 0:
            return []
        series = pl.Series(list(texts), dtype=pl.String)
        norm = normalize(series).to_list()
        source_norm = normalize(pl.Series(list(sources), dtype=pl.String)).to_list()
        keys, has = self._keys(series)
        keys_active = np.where(has[None, :], keys, np.uint64(0))
        near = np.zeros(m, dtype=bool)
        threshold = self.config.verify_at() - 1e-9

        q, item = self.originals.matches(keys_active)
        keep = has[q]
        q, item = q[keep], item[keep]
        other = [self.original_norm[i] != source_norm[j] for j, i in zip(q, item, strict=True)]
        q, item = q[other], item[other]
        score = _ratios([norm[j] for j in q], [self.original_norm[i] for i in item])
        near[q[score >= threshold]] = True

        q, item = self.variants.matches(keys_active)
        keep = has[q]
        q, item = q[keep], item[keep]
        score = _ratios([norm[j] for j in q], [self.variant_norm[i] for i in item])
        near[q[score >= threshold]] = True

        # pairs inside the batch: the later one is near only if the earlier one is kept
        left, right = candidate_pairs(keys, has)
        score = _ratios([norm[i] for i in left], [norm[j] for j in right])
        partners: dict[int, list[int]] = {}
        for lo, hi in zip(left[score >= threshold], right[score >= threshold], strict=True):
            partners.setdefault(int(hi), []).append(int(lo))
        kept = np.zeros(m, dtype=bool)
        for j in range(m):
            if not near[j] and any(kept[i] for i in partners.get(j, ())):
                near[j] = True
            kept[j] = not near[j]
        fresh = np.flatnonzero(kept & has)
        base = len(self.variant_norm)
        self.variant_norm.extend(norm)
        self.variants.add(keys[:, fresh], base + fresh)
        return near.tolist()
