"""`split.assign`: train / validation / test by ratios or counts, stratified, grouped, seeded.

Writes a `split` column (`train`, `validation`, `test`); the Export step writes one file per
value. Units of assignment are groups: rows sharing a value of `group` (e.g. `dup_cluster` from
Clean) always land in the same split. Stratification allocates each class separately: a class
of n rows gets round(n * ratio) rows of each split (within one row), in a seeded random order.

Rows made from other rows (oversampled copies with `copy_of`, augmented rows with
`aug_source`) must never let their source leak into evaluation. Two policies (`copies`):

- `train` (default): only original rows are split by the ratios; a derived row goes to train
  when its source row is in train and is dropped otherwise (a copy of a validation or test row
  would be a duplicate of evaluation data). Validation and test keep the real distribution.
- `group`: a derived row is grouped with its source row, so they share a split (copies can
  then reach validation/test together with their source).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from studio.engine.errors import StepError
from studio.engine.steps.base import ID, Step, register, require_columns

SPLIT = "split"
SPLITS = ("train", "validation", "test")
PARENT_COLUMNS = ("copy_of", "aug_source")


def _dense(series: pl.Series) -> np.ndarray:
    """Integer codes of a column's values (equal values, equal codes); each null gets its own."""
    nulls = series.is_null().to_numpy()
    if series.dtype.is_integer():
        values = series.fill_null(0).to_numpy()
    else:
        values = series.hash(seed=0).to_numpy()
    _, codes = np.unique(values, return_inverse=True)
    codes = codes.astype(np.int64)
    if nulls.any():
        codes[nulls] = int(codes.max()) + 1 + np.arange(int(nulls.sum()))
    return codes


def root_ids(df: pl.DataFrame) -> np.ndarray:
    """For each row, the `_id` of the original row it derives from (itself for originals),
    following `copy_of` / `aug_source` links through copies of augmented rows and so on."""
    ids = df[ID].cast(pl.Int64).to_numpy()
    parent = np.full(df.height, -1, dtype=np.int64)
    for col in PARENT_COLUMNS:
        if col in df.columns:
            values = df[col].cast(pl.Int64).fill_null(-1).to_numpy()
            parent = np.where(parent < 0, values, parent)
    root = np.where(parent < 0, ids, parent)
    if not (parent >= 0).any():
        return root
    order = np.argsort(ids, kind="stable")
    sorted_ids = ids[order]
    for _ in range(16):  # chains are short: a copy of an augmented row of an original
        at = np.searchsorted(sorted_ids, root)
        at = np.clip(at, 0, len(sorted_ids) - 1)
        found = sorted_ids[at] == root
        up = np.where(found, parent[order[at]], -1)
        moved = up >= 0
        if not moved.any():
            break
        root = np.where(moved, up, root)
    return root


def _components(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Connected components of rows linked when they share a code in `a` or in `b`."""
    label = np.arange(len(a), dtype=np.int64)
    for _ in range(64):
        prev = label
        for codes in (a, b):
            best = np.full(int(codes.max()) + 1 if len(codes) else 0, np.iinfo(np.int64).max)
            np.minimum.at(best, codes, label)
            label = best[codes]
        if np.array_equal(label, prev):
            break
    return label


def _targets(ratios: tuple[float, ...], counts: tuple[int, ...], total: int) -> np.ndarray:
    """Cumulative boundaries as fractions of the whole (a unit goes to the first split whose
    boundary lies above its midpoint)."""
    if counts:
        if len(counts) not in (2, 3) or any(c < 0 for c in counts):
            raise StepError("Give two or three split counts (train, validation[, test]) >= 0.")
        if sum(counts) > total:
            raise StepError(
                f"The split counts add up to {sum(counts):,}, more than {total:,} rows."
            )
        padded = [*counts, 0][:3]
        return np.cumsum(np.asarray(padded, dtype=np.float64)) / max(total, 1)
    if len(ratios) not in (2, 3) or any(r < 0 for r in ratios):
        raise StepError("Give two or three split ratios (train, validation[, test]) >= 0.")
    if abs(sum(ratios) - 1.0) > 1e-6:
        raise StepError(f"The split ratios must add up to 1; they add up to {sum(ratios):g}.")
    bounds = np.cumsum(np.asarray(ratios, dtype=np.float64))
    bounds[-1] = 1.0
    return bounds


def assign_splits(
    df: pl.DataFrame,
    *,
    ratios: tuple[float, ...] = (0.8, 0.1, 0.1),
    counts: tuple[int, ...] = (),
    stratify: str = "",
    group: str = "",
    copies: str = "train",
    seed: int = 0,
) -> np.ndarray:
    """Each row's split index (0 train, 1 validation, 2 test, 3 none: dropped)."""
    if copies not in ("train", "group"):
        raise StepError("The copies policy is 'train' or 'group'.")
    n = df.height
    out = np.full(n, 3, dtype=np.int8)
    if n == 0:
        return out
    roots = root_ids(df)
    ids = df[ID].cast(pl.Int64).to_numpy()
    derived = roots != ids
    base = ~derived if copies == "train" and derived.any() else np.ones(n, dtype=bool)
    rows = np.flatnonzero(base)
    m = len(rows)
    bounds = _targets(ratios, counts, m)
    # units: groups of rows that must share a split
    grouped = bool(group) or (copies == "group" and bool(derived.any()))
    if grouped:
        root_codes = _dense(pl.Series(roots[rows]))
        if group:
            group_codes = _dense(df[group].gather(rows))
            unit = _components(group_codes, root_codes)
        else:
            unit = root_codes
        unit = _dense(pl.Series(unit))
        n_units = int(unit.max()) + 1
        first = np.full(n_units, m, dtype=np.int64)
        np.minimum.at(first, unit, np.arange(m))
        sizes: np.ndarray | None = np.bincount(unit, minlength=n_units).astype(np.float64)
    else:
        unit = first = np.arange(m, dtype=np.int64)
        n_units = m
        sizes = None  # every unit is one row
    rng = np.random.default_rng(seed)
    if stratify:
        from studio.engine.steps.balance import classes_of

        labels = df[stratify] if m == n else df[stratify].gather(rows)
        strata = classes_of(labels.gather(first) if grouped else labels)
        groups = [*strata.positions(), np.flatnonzero(strata.codes == len(strata.keys))]
    else:
        groups = [np.arange(n_units)]
    unit_split = np.full(n_units, 3, dtype=np.int8)
    for members in groups:
        if len(members) == 0:
            continue
        # a seeded random order of the stratum's units; a unit goes to the first split whose
        # boundary (scaled to the stratum's rows) lies above the unit's midpoint
        order = members[rng.permutation(len(members))]
        if sizes is None:
            mid = np.arange(len(order), dtype=np.float64) + 0.5
            total = float(len(order))
        else:
            size = sizes[order]
            cum = np.cumsum(size)
            mid = cum - size / 2.0
            total = float(cum[-1])
        index = np.zeros(len(order), dtype=np.int8)
        for bound in bounds:
            index += mid >= bound * total
        unit_split[order] = index
    if grouped:
        out[rows] = unit_split[unit]
    elif m == n:
        out = unit_split
    else:
        out[rows] = unit_split
    if copies == "train" and derived.any():
        pos = np.argsort(ids, kind="stable")
        at = np.clip(np.searchsorted(ids[pos], roots[derived]), 0, n - 1)
        found = ids[pos][at] == roots[derived]
        source_split = np.where(found, out[pos[at]], 0)
        out[np.flatnonzero(derived)] = np.where(source_split == 0, 0, 3)
    return out


@register("split.assign")
@dataclass(frozen=True, slots=True)
class SplitAssign(Step):
    """Write a `split` column: train/validation/test by `ratios` (or `counts`), stratified by
    `stratify`, grouped by `group`, seeded. With `counts` summing to less than the rows, the
    rows left over are dropped. See the module docstring for the `copies` policy."""

    scope = "global"
    ratios: tuple[float, ...] = (0.8, 0.1, 0.1)
    counts: tuple[int, ...] = ()
    stratify: str = ""
    group: str = ""
    copies: str = "train"
    seed: int = 0

    def group_keys(self) -> tuple[str, ...]:
        return ()

    def validate(self, schema: pl.Schema) -> None:
        require_columns(schema, self.stratify, self.group)
        if self.copies not in ("train", "group"):
            raise StepError("The copies policy is 'train' or 'group'.")
        if not self.counts:
            _targets(self.ratios, (), 1)

    def apply(self, frame: pl.LazyFrame) -> pl.LazyFrame:
        df = frame.collect()
        index = assign_splits(
            df,
            ratios=tuple(self.ratios),
            counts=tuple(self.counts),
            stratify=self.stratify,
            group=self.group,
            copies=self.copies,
            seed=self.seed,
        )
        names = pl.Series(SPLIT, [*SPLITS, None], dtype=pl.String)
        split = names.gather(index.astype(np.uint32))
        out = df.drop(SPLIT, strict=False).with_columns(split)
        if (index == 3).any():
            out = out.filter(pl.col(SPLIT).is_not_null())
        return out.lazy()

    def describe(self) -> str:
        if self.counts:
            how = "/".join(f"{c:,}" for c in self.counts) + " rows"
        else:
            how = "/".join(f"{r:g}" for r in self.ratios)
        extra = []
        if self.stratify:
            extra.append(f"stratified by {self.stratify}")
        if self.group:
            extra.append(f"grouped by {self.group}")
        extra.append("copies in train only" if self.copies == "train" else "copies with source")
        return f"split train/validation/test {how} ({', '.join(extra)}, seed {self.seed})"


def split_counts(frame: pl.LazyFrame | pl.DataFrame, label: str = "") -> pl.DataFrame:
    """Rows per class (rows) and split (columns train/validation/test/total)."""
    lazy = frame.lazy() if isinstance(frame, pl.DataFrame) else frame
    schema = lazy.collect_schema()
    if SPLIT not in schema:
        raise StepError("The data has no split column yet; apply a split first.")
    key = label if label and label in schema else None
    by = [key] if key else []
    counts = lazy.group_by([*by, SPLIT]).agg(pl.len().alias("n")).collect()
    if key is None:
        counts = counts.with_columns(pl.lit("all").alias("class"))
        key_name = "class"
    else:
        counts = counts.with_columns(pl.col(key).cast(pl.String).fill_null("(none)"))
        key_name = key
    classes = sorted(set(counts[key_name].to_list()))
    rows = []
    for c in classes:
        part = counts.filter(pl.col(key_name) == c)
        got = dict(zip(part[SPLIT].to_list(), part["n"].to_list(), strict=True))
        values = [int(got.get(s, 0)) for s in SPLITS]
        rows.append({key_name: c, **dict(zip(SPLITS, values, strict=True)), "total": sum(values)})
    table = pl.DataFrame(
        rows, schema={key_name: pl.String, **dict.fromkeys(SPLITS, pl.Int64), "total": pl.Int64}
    )
    total = {key_name: "total", **{s: int(table[s].sum()) for s in (*SPLITS, "total")}}
    return pl.concat([table, pl.DataFrame([total], schema=table.schema)])
