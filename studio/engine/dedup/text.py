"""Byte-level text kernels shared by the dedup modes (numpy over Arrow buffers, no per-row Python).

`normalize` builds the normalized key of every row of a string column: ASCII case folding,
whitespace collapsing and punctuation removal run as numpy operations on the UTF-8 bytes; rows
with non-ASCII characters first go through polars' Unicode NFKC and lowercasing (only those
rows), so the common all-ASCII case never pays for Unicode tables.
"""

from __future__ import annotations

import contextvars
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import polars as pl
import pyarrow as pa

CHUNK_BYTES = 1 << 22
"""Bytes per numpy batch: small enough to stay in cache, large enough to amortise calls."""

WORKERS = max(1, min(os.cpu_count() or 1, 4))
"""Threads for chunked kernels: numpy and polars release the GIL inside their loops."""


def run_parallel(fn: Callable[..., object], items: Iterable[tuple], workers: int = 0) -> list:
    """`fn(*item)` for every item, on `workers` threads (in order; inline for one item)."""
    items = list(items)
    workers = min(workers or WORKERS, len(items))
    if workers <= 1:
        return [fn(*item) for item in items]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        # each task runs in a copy of the caller's context, so progress and cancellation
        # (context variables of `studio.engine.progress`) reach the runner
        futures = [pool.submit(contextvars.copy_context().run, fn, *item) for item in items]
        try:
            return [future.result() for future in futures]
        except BaseException:
            for future in futures:
                future.cancel()
            raise


@dataclass(frozen=True, slots=True)
class Normalization:
    """What the normalized key ignores. Defaults: everything a person would call cosmetic."""

    case: bool = True
    whitespace: bool = True
    punctuation: bool = True
    nfkc: bool = True

    @classmethod
    def parse(cls, spec: str) -> Normalization:
        """`"case,whitespace"` -> only those on; `"all"` or `""` -> every option."""
        names = {p.strip().lower() for p in spec.split(",") if p.strip()}
        if not names or names == {"all"}:
            return cls()
        known = {"case", "whitespace", "punctuation", "nfkc"}
        unknown = names - known
        if unknown:
            from studio.engine.errors import StepError

            raise StepError(
                f"Unknown normalization {sorted(unknown)[0]!r}; use {', '.join(sorted(known))}."
            )
        return cls(**{k: k in names for k in known})

    def describe(self) -> str:
        on = [n for n in ("case", "whitespace", "punctuation", "nfkc") if getattr(self, n)]
        return ", ".join(on) if on else "nothing"


def arrow_buffers(series: pl.Series) -> tuple[np.ndarray, np.ndarray]:
    """(bytes uint8, offsets int64 of length n+1) of a string column; nulls become ""."""
    # the oldest compat level gives large_string directly (no pyarrow.compute cast)
    array = series.cast(pl.String).fill_null("").to_arrow(compat_level=pl.CompatLevel.oldest())
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if array.type != pa.large_string():
        array = array.cast(pa.large_string())
    _, offsets_buf, data_buf = array.buffers()
    n = len(array)
    offsets = np.frombuffer(offsets_buf, dtype=np.int64, count=n + 1, offset=array.offset * 8)
    data = (
        np.frombuffer(data_buf, dtype=np.uint8)
        if data_buf is not None
        else np.zeros(0, dtype=np.uint8)
    )
    return data, offsets


def from_buffers(data: np.ndarray, offsets: np.ndarray, name: str = "key") -> pl.Series:
    array = pa.Array.from_buffers(
        pa.large_string(),
        len(offsets) - 1,
        [None, pa.py_buffer(np.ascontiguousarray(offsets)), pa.py_buffer(data)],
    )
    # through the Arrow C data interface: `pl.from_arrow` would import pyarrow.compute
    # (0.12 s of start-up) to coerce an array that needs no coercion
    return pl.Series(name, _ArrowArray(array))


class _ArrowArray:
    """Exposes only `__arrow_c_array__`, so polars takes the zero-copy capsule path."""

    def __init__(self, array: pa.Array) -> None:
        self.array = array

    def __arrow_c_array__(self, requested_schema: object = None) -> tuple[object, object]:
        return self.array.__arrow_c_array__(requested_schema)


def _doc_chunks(offsets: np.ndarray, budget: int = CHUNK_BYTES) -> Iterator[tuple[int, int]]:
    """Consecutive row ranges [i0, i1) holding about `budget` bytes each."""
    n = len(offsets) - 1
    if n == 0:
        return
    marks = np.searchsorted(offsets, np.arange(offsets[0], offsets[-1], budget), side="right")
    bounds = np.unique(np.concatenate(([0], np.clip(marks - 1, 0, n), [n])))
    for i0, i1 in zip(bounds[:-1], bounds[1:], strict=True):
        if i1 > i0:
            yield int(i0), int(i1)


def _is_punct(b: np.ndarray, *, lowered: bool) -> np.ndarray:
    """ASCII punctuation (printable, not a letter or digit), with uint8 arithmetic only."""
    printable = (b - np.uint8(33)) < np.uint8(94)
    digit = (b - np.uint8(48)) < np.uint8(10)
    lower = (b - np.uint8(97)) < np.uint8(26)
    out = printable & ~digit & ~lower
    if not lowered:
        out &= ~((b - np.uint8(65)) < np.uint8(26))
    return out


def _unicode_pass(series: pl.Series, options: Normalization) -> pl.Series:
    """NFKC, Unicode lowercase and Unicode punctuation, only on rows that are not plain ASCII."""
    if not (options.nfkc or options.case or options.punctuation):
        return series
    wide = (series.str.len_bytes() != series.str.len_chars()).fill_null(False)
    if not wide.any():
        return series
    index = wide.arg_true()
    sub = series.gather(index)
    if options.nfkc:
        sub = sub.str.normalize("NFKC")
    if options.case:
        sub = sub.str.to_lowercase()
    if options.punctuation:
        sub = sub.str.replace_all(r"\p{P}+", " " if options.whitespace else "")
    if options.whitespace:
        sub = sub.str.replace_all(r"\s+", " ")
    out = series.clone()
    out.scatter(index, sub)
    return out


def normalize(series: pl.Series, options: Normalization | None = None) -> pl.Series:
    """The normalized key of each row (a String series of the same length; null -> "")."""
    options = options or Normalization()
    series = series.cast(pl.String).fill_null("")
    series = _unicode_pass(series, options)
    data, offsets = arrow_buffers(series)
    if not (options.case or options.whitespace or options.punctuation):
        return series.rename("key")
    out_parts: list[np.ndarray] = []
    counts = np.zeros(len(offsets) - 1, dtype=np.int64)
    for i0, i1 in _doc_chunks(offsets):
        lo, hi = int(offsets[i0]), int(offsets[i1])
        b = data[lo:hi]
        if options.case:
            upper = (b - np.uint8(65)) < np.uint8(26)
            b = b + (upper.view(np.uint8) << np.uint8(5))
        starts = offsets[i0:i1] - lo
        ends = offsets[i0 + 1 : i1 + 1] - lo
        if options.whitespace:
            sep = _separators(b, options)
            keep = _one_space_per_run(sep, starts, ends)
            # separators become a space: b - (b - 32) * sep, without a select
            b = b - (b - np.uint8(32)) * sep.view(np.uint8)
        elif options.punctuation:
            keep = ~_is_punct(b, lowered=options.case)
        else:
            keep = np.ones(len(b), dtype=bool)
        kept = b[keep]
        # kept bytes per row (a padding byte makes every start a valid reduceat index)
        padded = np.zeros(len(keep) + 1, dtype=np.uint8)
        padded[:-1] = keep
        wide = np.int32 if len(keep) < 2**31 else np.int64
        chunk_counts = np.add.reduceat(padded, starts, dtype=wide)
        chunk_counts[ends == starts] = 0
        counts[i0:i1] = chunk_counts
        out_parts.append(kept)
    new_data = np.concatenate(out_parts) if out_parts else np.zeros(0, dtype=np.uint8)
    new_offsets = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
    return from_buffers(new_data, new_offsets, "key")


def _separators(b: np.ndarray, options: Normalization) -> np.ndarray:
    """Bytes the whitespace collapsing folds into one space (whitespace and control bytes, and
    punctuation when that is ignored too); `b` is already lowercased when case is ignored."""
    if options.punctuation and options.case:
        # lowered ASCII: everything below DEL but digits and lowercase letters
        return (
            (b < np.uint8(127))
            & ((b - np.uint8(48)) >= np.uint8(10))
            & ((b - np.uint8(97)) >= np.uint8(26))
        )
    sep = b <= np.uint8(32)
    if options.punctuation:
        sep |= _is_punct(b, lowered=options.case)
    return sep


def _one_space_per_run(sep: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Which bytes stay when every run of separators inside a row becomes one space and runs
    at a row's start or end vanish.

    Each run keeps its last byte when a kept byte follows it in the row (so a run at the end
    of a row, the common case of a closing full stop, is dropped with no second pass); a run at
    the start of a row then still keeps its last byte, which is dropped afterwards (rare)."""
    n = len(sep)
    keep = np.empty(n, dtype=bool)
    if n == 0:
        return keep
    nonempty = ends > starts
    # keep = ~(sep & next_is_sep), where a row's end counts as a separator
    keep[:-1] = sep[1:]
    keep[ends[nonempty] - 1] = True
    keep &= sep
    np.logical_not(keep, out=keep)
    rows = np.flatnonzero(nonempty & sep[np.minimum(starts, n - 1)])
    if len(rows):
        _drop_leading_space(keep, sep, starts[rows], ends[rows])
    return keep


def _drop_leading_space(
    keep: np.ndarray, sep: np.ndarray, starts: np.ndarray, ends: np.ndarray
) -> None:
    """Rows that start with separators: drop the byte kept for that first run (the one before
    the row's first other byte; a row of separators only kept none)."""
    pos = starts.copy()
    for _ in range(8):  # short runs (a quote, a bullet and a space) resolve in a few steps
        inside = pos < ends
        pos[inside] += sep[pos[inside]]
        more = (pos < ends) & sep[np.minimum(pos, len(sep) - 1)]
        if not more.any():
            break
    else:
        for r in np.flatnonzero((pos < ends) & sep[np.minimum(pos, len(sep) - 1)]).tolist():
            run = sep[pos[r] : ends[r]]
            pos[r] += int(np.argmin(run)) if not run.all() else len(run)
    found = pos < ends
    keep[pos[found] - 1] = False


@lru_cache(maxsize=16)
def _byte_weights(options: Normalization) -> np.ndarray:
    """A random 64-bit weight per byte value, 0 for bytes the normalization removes and the
    lowercase letter's weight for an uppercase one (when case is ignored)."""
    weights = np.random.default_rng(0x5EED).integers(1, 2**63, 256, dtype=np.uint64)
    every = np.arange(256, dtype=np.uint8)
    if options.case:
        weights[65:91] = weights[97:123]
    if options.whitespace:
        weights[:33] = 0
    if options.punctuation:
        weights[_is_punct(every, lowered=False)] = 0
    return weights


@lru_cache(maxsize=16)
def _pair_weights(options: Normalization) -> np.ndarray:
    """The summed weights of two bytes, indexed by the pair read as one uint16 (symmetric in the
    two bytes, so the same on either endianness)."""
    weights = _byte_weights(options)
    pair = np.arange(1 << 16, dtype=np.uint32)
    return weights[pair & 0xFF] + weights[pair >> 8]


def cheap_keys(series: pl.Series, options: Normalization) -> np.ndarray:
    """A uint64 per row that equal normalized texts share: the sum of the weights of the bytes
    the normalization keeps (order-free, so unequal texts may share it too).

    Valid as is for all-ASCII rows (normalization only lowercases, drops and collapses ASCII
    bytes there); callers pass other rows already normalized.

    The bytes are read two at a time (a uint16 view, one lookup in `_pair_weights` per pair):
    half the gathers of a per-byte lookup. A row's sum is that of the pairs from the one holding
    its first byte to the one holding the next row's first byte, plus its first byte when that
    is the second of its pair (that pair was left out), minus the next row's first byte when
    that is the second of its pair (that pair was counted). Sums wrap modulo 2**64."""
    data, offsets = arrow_buffers(series)
    weights = _byte_weights(options)
    pairs = _pair_weights(options)
    out = np.zeros(len(offsets) - 1, dtype=np.uint64)
    zero = np.uint64(0)

    def chunk(i0: int, i1: int) -> None:
        lo, hi = int(offsets[i0]), int(offsets[i1])
        if hi == lo:
            return
        base, end = lo & ~1, hi + (hi & 1)  # pair-aligned in the whole buffer
        if end <= len(data):
            buf = data[base:end]
        else:  # the buffer ends mid-pair: pad a copy of this chunk with a zero byte
            buf = np.zeros(end - base, dtype=np.uint8)
            buf[: hi - base] = data[base:hi]
        values = pairs[buf.view(np.uint16)]
        bounds = offsets[i0 : i1 + 1] - base
        first = (bounds + 1) >> 1  # first pair counted for the row starting at each bound
        odd = np.where(bounds & 1, weights[buf[np.minimum(bounds, len(buf) - 1)]], zero)
        correction = odd[:-1] - odd[1:]
        nonempty = bounds[1:] > bounds[:-1]
        # trailing rows start past the last pair: they hold at most their first byte
        inside = int(np.searchsorted(first[:-1], len(values)))
        sums = np.add.reduceat(values, first[:inside])
        sums = np.where(first[1 : inside + 1] > first[:inside], sums, zero)  # no pair in row
        correction[:inside] += sums
        out[i0:i1] = np.where(nonempty, correction, zero)

    run_parallel(chunk, _doc_chunks(offsets))
    return out
