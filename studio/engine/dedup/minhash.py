"""Near-duplicates: MinHash signatures with LSH banding, fully vectorised.

Pipeline (per batch of rows, no Python loop per row or shingle):
1. normalized text (`text.normalize`: lowercase, punctuation and whitespace folded);
2. shingles: word n-grams (polars `str.split` + `hash` on the exploded tokens, then n-gram
   hashes combined with numpy over the token array) or character n-grams (rolling polynomial
   hashes over the UTF-8 bytes);
3. signatures by one-permutation hashing with rotation densification (Shrivastava 2017): each
   shingle hash is mixed once (splitmix64); its top bits pick one of `num_perm` bins and its low
   32 bits compete for that bin's minimum (`np.minimum.at`); empty bins borrow from the next
   filled bin. Equal bins happen with probability ~ Jaccard, like classic MinHash, at the
   cost of one hash per shingle instead of `num_perm`;
4. LSH: `bands` x `rows` bins hashed into band keys; rows sharing a band key are candidates
   (polars' hash-based `is_duplicated` keeps the few shared keys of each band, which are then
   grouped by sorting, each member paired with the group's first row);
   steps 1-4 run per batch of rows on all cores (threads; numpy and polars release the GIL);
5. candidates verified with `rapidfuzz.process.cpdist` (`fuzz.ratio`, in C++, all cores);
6. clusters = connected components of the verified pairs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import polars as pl

from studio.engine.dedup.clusters import Clusters, cluster_similarity, labels_from_pairs
from studio.engine.dedup.text import Normalization, arrow_buffers, normalize, run_parallel
from studio.engine.progress import check_cancelled, report

U64 = np.uint64
MASK32 = np.uint64(0xFFFFFFFF)
EMPTY = np.uint32(0xFFFFFFFF)
BATCH_ROWS = 16_384
"""Rows per hashing batch: keeps every temporary array under glibc's mmap threshold (32 MB), so
batches reuse heap pages instead of faulting fresh ones in (halves the system time)."""


@dataclass(frozen=True, slots=True)
class MinHashConfig:
    """Defaults: word 3-grams, 64 bins, LSH tuned for a shingle Jaccard of 0.5 (bands and rows
    derived: 14 x 4; the S-curve is as steep as 128 bins' 25 x 5 for this threshold, at half
    the signature work), candidates kept when rapidfuzz's `fuzz.ratio` of their normalized texts
    is at least `similarity` (0.8)."""

    threshold: float = 0.5
    num_perm: int = 64
    shingle: str = "word"  # "word" or "char"
    ngram: int = 3  # words (word shingles) or characters (char shingles)
    bands: int = 0  # 0: derived from threshold
    rows: int = 0
    similarity: float = 0.8
    seed: int = 1

    def band_rows(self) -> tuple[int, int]:
        if self.bands > 0 and self.rows > 0:
            if self.bands * self.rows > self.num_perm:
                from studio.engine.errors import StepError

                raise StepError(
                    f"bands x rows ({self.bands * self.rows}) exceeds num_perm ({self.num_perm})."
                )
            return self.bands, self.rows
        return optimal_bands(self.threshold, self.num_perm)

    def verify_at(self) -> float:
        return self.similarity


@lru_cache(maxsize=64)
def optimal_bands(
    threshold: float, num_perm: int, fp_weight: float = 0.5, fn_weight: float = 0.5
) -> tuple[int, int]:
    """(bands, rows) minimising weighted false positive + negative areas (as datasketch)."""
    s = np.linspace(0.0, 1.0, 401)
    best, best_cost = (1, num_perm), math.inf
    t = min(max(threshold, 0.01), 0.99)
    below, above = s <= t, s >= t
    for b in range(1, num_perm + 1):
        r = np.arange(1, num_perm // b + 1)
        if len(r) == 0:
            break
        prob = 1.0 - (1.0 - s[None, :] ** r[:, None]) ** b
        fp = np.trapezoid(np.where(below, prob, 0.0), s, axis=1)
        fn = np.trapezoid(np.where(above, 1.0 - prob, 0.0), s, axis=1)
        cost = fp_weight * fp + fn_weight * fn
        i = int(np.argmin(cost))
        if cost[i] < best_cost:
            best_cost, best = float(cost[i]), (b, int(r[i]))
    return best


def _mix(h: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser (in place on a uint64 array)."""
    h ^= h >> U64(30)
    h *= U64(0xBF58476D1CE4E5B9)
    h ^= h >> U64(27)
    h *= U64(0x94D049BB133111EB)
    h ^= h >> U64(31)
    return h


def _word_shingles(norm: pl.Series, ngram: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(row position, shingle hash) for every word n-gram of every row."""
    tokens = norm.str.split(" ")
    lens = tokens.list.len().fill_null(0).to_numpy().astype(np.int64)
    empty = norm.str.len_bytes().to_numpy() == 0
    lens[empty] = 0
    flat = tokens.explode()
    hashes = flat.hash(seed=seed).to_numpy()
    row_of = np.repeat(np.arange(len(norm), dtype=np.int64), lens + empty.astype(np.int64))
    if empty.any():  # split("") gives [""]: drop those placeholder tokens
        keep = ~empty[row_of]
        hashes, row_of = hashes[keep], row_of[keep]
    if ngram <= 1 or len(hashes) == 0:
        return row_of, hashes
    n = ngram
    m = len(hashes) - n + 1
    if m > 0:
        h = hashes[:m].copy()
        for t in range(1, n):
            h *= U64(0x9E3779B97F4A7C15)
            h += hashes[t : t + m]
        full = row_of[:m] == row_of[n - 1 : n - 1 + m]
        rows, out = row_of[:m][full], h[full]
    else:
        rows, out = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.uint64)
    if ((lens > 0) & (lens < n)).any():  # rows with fewer than n words: their words count
        short = lens[row_of] < n
        rows = np.concatenate([rows, row_of[short]])
        out = np.concatenate([out, hashes[short]])
    return rows, out


def _char_shingles(norm: pl.Series, ngram: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(row position, shingle hash) for every `ngram`-byte window of every row."""
    data, offsets = arrow_buffers(norm)
    n = len(offsets) - 1
    lens = np.diff(offsets)
    m = len(data) - ngram + 1
    if m <= 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.uint64)
    h = np.full(m, U64(seed), dtype=np.uint64)
    for t in range(ngram):
        h *= U64(0x100000001B3)
        h += data[t : t + m].astype(np.uint64)
    row_of = np.repeat(np.arange(n, dtype=np.int64), lens)[:m]
    pos = np.arange(m, dtype=np.int64)
    full = pos + ngram <= offsets[1:][row_of]
    return row_of[full], h[full]


def signatures(norm: pl.Series, config: MinHashConfig) -> tuple[np.ndarray, np.ndarray]:
    """(signatures uint32 of shape (num_perm, rows), has_shingles bool per row).

    Bins are the first axis so that densification and banding run over contiguous rows."""
    n, k = len(norm), config.num_perm
    if config.shingle == "char":
        rows, hashes = _char_shingles(norm, max(config.ngram, 1), config.seed)
    else:
        rows, hashes = _word_shingles(norm, max(config.ngram, 1), config.seed)
    hv = _mix(hashes ^ U64(config.seed * 0x9E3779B97F4A7C15 % (1 << 64)))
    top = hv >> U64(32)
    # the bin is the top half modulo k (a mask when k is a power of two: same values)
    bins = (top & U64(k - 1) if k & (k - 1) == 0 else top % U64(k)).astype(np.int64)
    vals = (hv & MASK32).astype(np.uint32)
    sig = np.full(k * n, EMPTY, dtype=np.uint32)
    np.minimum.at(sig, bins * n + rows, vals)
    sig = sig.reshape(k, n)
    filled = sig != EMPTY
    has = filled.any(axis=0)
    if not filled[:, has].all():
        sig = _densify(sig, filled, k)
    return sig, has


DENSIFY_STEP = np.uint32(0x9E3779B1)


def _densify(sig: np.ndarray, filled: np.ndarray, k: int) -> np.ndarray:
    """Empty bins take the next filled bin (circularly) plus a distance-dependent offset:
    bin j empty, next filled bin j + d (mod k) -> sig[j + d] + d * DENSIFY_STEP (mod 2**32).

    Computed as a recurrence from the last bin down (one contiguous bin across all texts at a
    time): an empty bin is its successor's value plus one step, and the successor of the last
    bin is the first filled bin seen one turn later (its value plus its index in steps). Texts
    without any shingle (no filled bin) keep their empty bins."""
    n = sig.shape[1]
    out = np.empty_like(sig)
    first = np.argmax(filled, axis=0)
    columns = np.arange(n)
    nxt = sig[first, columns] + first.astype(np.uint32) * DENSIFY_STEP
    keep = filled.astype(np.uint32)
    np.negative(keep, out=keep)  # all ones where a bin is filled, zeros elsewhere
    for j in range(k - 1, -1, -1):
        nxt += DENSIFY_STEP
        nxt ^= (nxt ^ sig[j]) & keep[j]  # a filled bin keeps its own value
        out[j] = nxt
    has = filled[first, columns]
    if not has.all():
        out[:, ~has] = sig[:, ~has]
    return out


def band_keys(sig: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """(bands, n) uint64 keys; equal keys mean equal bins in that band."""
    n = sig.shape[1]
    out = np.zeros((bands, n), dtype=np.uint64)
    for b in range(bands):
        h = np.full(n, U64(b + 1), dtype=np.uint64)
        for r in range(rows):
            h *= U64(0x100000001B3)
            h += sig[b * rows + r]
        out[b] = _mix(h)
    return out


def candidate_pairs(keys: np.ndarray, active: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unique (left < right) position pairs sharing at least one band key.

    Band keys are seeded per band, so all bands are grouped together: one sort of every key
    (numpy's vectorised sort; a hash-based `is_duplicated` costs twice its CPU), then each key
    shared by several rows pairs its members with the one of smallest (band, row) index.
    (Equal keys across bands are possible but rare: they only add a candidate that
    verification rejects.)"""
    positions = np.flatnonzero(active)
    m = len(positions)
    empty = np.zeros(0, dtype=np.int64)
    if m < 2:
        return empty, empty
    sub = keys if m == keys.shape[1] else keys[:, positions]
    flat = sub.reshape(-1)
    order = np.argsort(flat)
    sk = flat[order]
    same = sk[1:] == sk[:-1]
    shared = np.zeros(len(sk), dtype=bool)
    shared[1:] = same
    shared[:-1] |= same
    at = np.flatnonzero(shared)  # members of groups of equal keys, group after group
    if len(at) == 0:
        return empty, empty
    index = order[at]  # their (band, row) index into `flat`
    new = np.ones(len(at), dtype=bool)
    new[1:] = ~same[at[1:] - 1]
    starts = np.flatnonzero(new)
    head = np.minimum.reduceat(index, starts)[np.cumsum(new) - 1]
    member = index != head
    left, right = positions[head[member] % m], positions[index[member] % m]
    distinct = left != right
    left, right = left[distinct], right[distinct]
    lo, hi = np.minimum(left, right), np.maximum(left, right)
    n = int(keys.shape[1])
    pair = np.unique(lo * n + hi)
    return pair // n, pair % n


def verify(texts: pl.Series, left: np.ndarray, right: np.ndarray, workers: int = -1) -> np.ndarray:
    """rapidfuzz `fuzz.ratio` / 100 for each pair of positions (vectorised in C++)."""
    if len(left) == 0:
        return np.zeros(0, dtype=np.float64)
    from rapidfuzz import fuzz, process

    needed = np.unique(np.concatenate([left, right]))
    values = texts.gather(needed).to_list()
    where = np.searchsorted(needed, left), np.searchsorted(needed, right)
    a = [values[i] for i in where[0].tolist()]
    b = [values[i] for i in where[1].tolist()]
    scores = process.cpdist(a, b, scorer=fuzz.ratio, workers=workers, dtype=np.float32)
    return np.asarray(scores, dtype=np.float64) / 100.0


def near_duplicates(
    texts: pl.Series,
    ids: np.ndarray | None = None,
    config: MinHashConfig | None = None,
    normalization: Normalization | None = None,
) -> Clusters:
    """Cluster rows of `texts` whose normalized text is a near-duplicate of another row's."""
    n = len(texts)
    config = config or MinHashConfig()
    normalization = normalization or Normalization()
    ids = np.arange(n, dtype=np.uint64) if ids is None else ids
    bands, rows = config.band_rows()
    keys = np.zeros((bands, n), dtype=np.uint64)
    active = np.zeros(n, dtype=bool)
    done = [0]

    def batch(start: int) -> None:
        check_cancelled()
        part = normalize(texts.slice(start, BATCH_ROWS), normalization)
        sig, has = signatures(part, config)
        keys[:, start : start + len(part)] = band_keys(sig, bands, rows)
        active[start : start + len(part)] = has
        done[0] += len(part)
        report(done[0], n, "hashing")

    # batches are independent: one per thread (numpy and polars release the GIL)
    run_parallel(batch, [(start,) for start in range(0, n, BATCH_ROWS)])
    check_cancelled()
    left, right = candidate_pairs(keys, active)
    report(0, max(len(left), 1), "verifying candidates")
    norm_needed = np.unique(np.concatenate([left, right])) if len(left) else left
    norm = pl.Series("key", [""] * 0, dtype=pl.String)
    if len(norm_needed):
        norm = normalize(texts.gather(norm_needed), normalization)
        li, ri = np.searchsorted(norm_needed, left), np.searchsorted(norm_needed, right)
        score = verify(norm, li, ri)
    else:
        score = np.zeros(0)
    ok = score >= config.verify_at() - 1e-9
    left, right, score = left[ok], right[ok], score[ok]
    label = labels_from_pairs(n, left, right)
    check_cancelled()
    return Clusters(ids=ids, label=label, similarity=cluster_similarity(label, left, right, score))
