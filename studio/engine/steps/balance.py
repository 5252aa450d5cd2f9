"""Class balance: random over- and undersampling with imbalanced-learn's target rules, per-class
caps, and oversampling by augmentation.

The target counts follow `imblearn.utils.check_sampling_strategy` exactly (re-implemented on the
class counts, so no label array is materialised; `tests/engine/test_balance.py` checks both
agree). Sampling itself is vectorised numpy on row positions: a 1M-row frame resamples in a
fraction of a second, where `RandomOverSampler` needs seconds.

- `balance.over`: copies of minority rows, drawn with replacement (like `RandomOverSampler`).
  Copies get fresh `_id`s and a `copy_of` column (UInt64): the `_id` of the original row they
  copy (if the source was itself a copy, its original). Originals have `copy_of` null.
- `balance.under`: rows of the targeted classes drawn without replacement (like
  `RandomUnderSampler`); the kept rows stay in their original order.
- `balance.cap`: at most N rows per class (drawn without replacement).
- `balance.augment`: like `balance.over`, but the new rows are made by an augmentation method
  (`studio.engine.augment`) and carry `aug_method`, `aug_source`, `aug_similarity`, `aug_model`.

Rows whose label is null are never resampled: they are kept as they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import polars as pl

from studio.engine.errors import StepError
from studio.engine.steps.base import ID, Step, register, require_columns

COPY_OF = "copy_of"
STRATEGY_NAMES = ("auto", "minority", "majority", "not minority", "not majority", "all")
Kind = Literal["over", "under"]
Target = str | float | dict[str, int]


# -- targets (imbalanced-learn's rules) -----------------------------------------------------


def parse_target(text: str | float | Mapping[str, int]) -> Target:
    """`auto`, one of `STRATEGY_NAMES`, a float ratio (`0.5`), or `CLASS=N,CLASS=N`."""
    if isinstance(text, Mapping):
        return {str(k): int(v) for k, v in text.items()}
    if isinstance(text, int | float) and not isinstance(text, bool):
        return float(text)
    value = str(text).strip()
    if not value:
        return "auto"
    lowered = value.lower().replace("_", " ").replace("-", " ")
    if lowered in STRATEGY_NAMES:
        return lowered
    if "=" in value:
        out: dict[str, int] = {}
        for part in value.split(","):
            if not part.strip():
                continue
            name, sep, number = part.rpartition("=")
            if not sep or not name.strip():
                raise StepError(f"Cannot read the target {part.strip()!r}: write CLASS=N.")
            try:
                out[name.strip()] = int(number.strip())
            except ValueError:
                raise StepError(f"The count in {part.strip()!r} is not a whole number.") from None
        return out
    try:
        return float(value)
    except ValueError:
        raise StepError(
            f"Unknown target {value!r}: use auto, {', '.join(STRATEGY_NAMES[1:])}, "
            "a ratio such as 0.5, or CLASS=N,..."
        ) from None


def _key_name(key: object) -> str:
    return str(key)


def sampling_strategy(counts: Mapping[Any, int], target: Target, kind: Kind) -> dict[Any, int]:
    """imbalanced-learn's `check_sampling_strategy` on class counts.

    `counts` maps each class to its row count. Returns, like imblearn, the classes to resample
    with the number of rows to ADD (over) or to KEEP (under). Keys of a dict target are matched
    to classes by their text (`str(class)`), so `1=500` works for integer labels.
    """
    stats = dict(sorted(counts.items(), key=lambda kv: kv[0]))
    if len(stats) <= 1:
        raise StepError(
            f"The label needs more than one class to balance; it has {len(stats)} class."
        )
    n_max = max(stats.values())
    n_min = min(stats.values())
    # like imblearn: ties go to the first class in sorted order
    majority = max(stats, key=stats.__getitem__)
    minority = min(stats, key=stats.__getitem__)
    if isinstance(target, str):
        name = "not majority" if target == "auto" and kind == "over" else target
        name = "not minority" if name == "auto" else name
        if name == "majority" and kind == "over":
            raise StepError("The target 'majority' cannot be used to oversample.")
        if name == "minority" and kind == "under":
            raise StepError("The target 'minority' cannot be used to undersample.")
        chosen = {
            "all": list(stats),
            "majority": [majority],
            "minority": [minority],
            "not majority": [k for k in stats if k != majority],
            "not minority": [k for k in stats if k != minority],
        }.get(name)
        if chosen is None:
            raise StepError(f"Unknown target {target!r}.")
        if kind == "over":
            return {k: n_max - stats[k] for k in chosen}
        return dict.fromkeys(chosen, n_min)
    if isinstance(target, dict):
        by_name = {_key_name(k): k for k in stats}
        unknown = [k for k in target if k not in by_name]
        if unknown:
            raise StepError(
                f"The class {unknown[0]!r} is not in the data; classes are: {', '.join(by_name)}."
            )
        out: dict[Any, int] = {}
        for name, n in target.items():
            key = by_name[name]
            if n < 0:
                raise StepError(f"The target count for {name!r} cannot be negative.")
            if kind == "over":
                if n < stats[key]:
                    raise StepError(
                        f"Oversampling cannot shrink {name!r}: it has {stats[key]:,} rows and "
                        f"{n:,} were asked."
                    )
                out[key] = n - stats[key]
            else:
                if n > stats[key]:
                    raise StepError(
                        f"Undersampling cannot grow {name!r}: it has {stats[key]:,} rows and "
                        f"{n:,} were asked."
                    )
                out[key] = n
        return dict(sorted(out.items(), key=lambda kv: kv[0]))
    ratio = float(target)
    if not 0 < ratio <= 1:
        raise StepError(f"A ratio target must be above 0 and at most 1; got {ratio}.")
    if len(stats) != 2:
        raise StepError(
            "A ratio target works only for two classes; use CLASS=N,... for more classes."
        )
    if kind == "over":
        out = {k: int(n_max * ratio - v) for k, v in stats.items() if k != majority}
        if any(n <= 0 for n in out.values()):
            raise StepError(
                f"The ratio {ratio} would remove minority rows; raise the ratio to oversample."
            )
        return out
    out = {k: int(n_min / ratio) for k in stats if k != minority}
    if any(n > stats[k] for k, n in out.items()):
        raise StepError(f"The ratio {ratio} would need new majority rows; raise the ratio.")
    return out


def planned_counts(counts: Mapping[Any, int], target: Target, kind: Kind) -> dict[Any, int]:
    """Each class's row count after resampling (the preview and `apply` both use this)."""
    strategy = sampling_strategy(counts, target, kind)
    out = {}
    for key, n in counts.items():
        if key not in strategy:
            out[key] = n
        elif kind == "over":
            out[key] = n + strategy[key]
        else:
            out[key] = strategy[key]
    return out


def cap_counts(counts: Mapping[Any, int], max_rows: int, per_class: str = "") -> dict[Any, int]:
    """Each class's count after capping: `per_class` (`CLASS=N,...`) overrides `max_rows`."""
    caps = parse_target(per_class) if per_class.strip() else {}
    if not isinstance(caps, dict):
        raise StepError("Per-class caps are written CLASS=N,CLASS=N.")
    names = {_key_name(k) for k in counts}
    unknown = [k for k in caps if k not in names]
    if unknown:
        raise StepError(f"The class {unknown[0]!r} is not in the data.")
    out = {}
    for key, n in counts.items():
        cap = caps.get(_key_name(key), max_rows if max_rows > 0 else n)
        if cap < 0:
            raise StepError("A cap cannot be negative.")
        out[key] = min(n, cap)
    return out


# -- class positions ------------------------------------------------------------------------


@dataclass
class Classes:
    """The classes of a label column: sorted keys, counts, and each row's class code."""

    keys: list[Any]
    counts: np.ndarray  # per class
    codes: np.ndarray  # per row: index into keys; len(keys) for null labels
    nulls: int

    def count_map(self) -> dict[Any, int]:
        return {k: int(n) for k, n in zip(self.keys, self.counts, strict=True)}

    def positions(self) -> list[np.ndarray]:
        """Row positions of each class, in row order."""
        order = np.argsort(self.codes, kind="stable")  # radix sort on small unsigned codes
        bounds = np.r_[0, np.cumsum(self.counts)]
        return [order[bounds[i] : bounds[i + 1]] for i in range(len(self.keys))]


def _small(codes: np.ndarray, k: int) -> np.ndarray:
    dtype = np.uint8 if k < 255 else np.uint16 if k < 65535 else np.uint32
    return codes.astype(dtype, copy=False)


def classes_of(series: pl.Series) -> Classes:
    """Sorted class keys (imbalanced-learn's `np.unique` order) and per-row codes."""
    nulls = series.null_count()
    present = series.drop_nulls() if nulls else series
    if series.dtype in (pl.String, pl.Categorical) or isinstance(series.dtype, pl.Enum):
        text = series.cast(pl.String)
        keys = sorted(present.cast(pl.String).unique().to_list())
        physical = text.cast(pl.Enum(keys)).to_physical()
        if nulls:
            physical = physical.fill_null(len(keys))
        codes = _small(physical.to_numpy(), len(keys))
    else:
        keys = present.unique().sort().to_list()
        values = series.to_numpy()
        codes = np.searchsorted(np.asarray(keys), values) if keys else np.zeros(len(values))
        if nulls:
            codes = np.where(series.is_null().to_numpy(), len(keys), codes)
        codes = _small(np.asarray(codes), len(keys))
    counts = np.bincount(codes, minlength=len(keys) + 1)[: len(keys)].astype(np.int64)
    return Classes(keys=keys, counts=counts, codes=codes, nulls=int(nulls))


def class_counts(frame: pl.LazyFrame | pl.DataFrame, label: str) -> pl.DataFrame:
    """`label`, `count`, `share` per class (nulls last), most frequent first."""
    lazy = frame.lazy() if isinstance(frame, pl.DataFrame) else frame
    out = (
        lazy.group_by(label)
        .agg(pl.len().alias("count"))
        .sort(["count", label], descending=[True, False], nulls_last=True)
        .collect()
    )
    total = out["count"].sum() or 1
    return out.with_columns((pl.col("count") / total).alias("share"))


def imbalance_ratio(counts: Mapping[Any, int]) -> float:
    values = [v for v in counts.values() if v > 0]
    return max(values) / min(values) if values else float("nan")


def take_rows(df: pl.DataFrame, idx: np.ndarray) -> pl.DataFrame:
    """`df.gather(idx)`, rechunking multi-chunk columns first: polars' gather on a string
    column of many chunks (a Parquet scan gives one per row group) is ~30x slower."""
    if all(c.n_chunks() == 1 for c in df.get_columns()):
        return df.gather(idx)
    return pl.DataFrame([c.rechunk() if c.n_chunks() > 1 else c for c in df.get_columns()]).gather(
        idx
    )


def _ensure_copy_of(frame: pl.DataFrame) -> pl.DataFrame:
    if COPY_OF in frame.columns:
        return frame.with_columns(pl.col(COPY_OF).cast(pl.UInt64))
    return frame.with_columns(pl.lit(None, dtype=pl.UInt64).alias(COPY_OF))


def _check_label(schema: pl.Schema, label: str) -> None:
    if not label:
        raise StepError("Choose the label column to balance.")
    require_columns(schema, label)
    dtype = schema[label]
    if isinstance(dtype, pl.List | pl.Struct | pl.Array):
        raise StepError(f"The label column {label!r} holds lists; pick a single-value column.")


def oversample(df: pl.DataFrame, label: str, target: Target, seed: int) -> pl.DataFrame:
    classes = classes_of(df[label])
    strategy = sampling_strategy(classes.count_map(), target, "over")
    rng = np.random.default_rng(seed)
    picks = []
    for key, positions in zip(classes.keys, classes.positions(), strict=True):
        k = strategy.get(key, 0)
        if k > 0:
            picks.append(positions[rng.integers(0, len(positions), size=k)])
    df = _ensure_copy_of(df)
    if not picks:
        return df
    # sorted row positions (counting sort): a cache-friendly gather, copies in row order
    multiplicity = np.bincount(np.concatenate(picks), minlength=df.height)
    idx = np.repeat(np.arange(df.height), multiplicity)
    start = int(df[ID].max() or 0) + 1 if df.height else 0  # the ids `fresh_ids` would give
    copies = take_rows(df, idx).with_columns(
        pl.coalesce(COPY_OF, ID).alias(COPY_OF),
        pl.Series(ID, np.arange(start, start + len(idx), dtype=np.uint64)),
    )
    return pl.concat([df, copies])


def keep_counts(df: pl.DataFrame, label: str, keep: Mapping[Any, int], seed: int) -> pl.DataFrame:
    """Keep `keep[class]` random rows of each listed class (all rows of the others)."""
    classes = classes_of(df[label])
    rng = np.random.default_rng(seed)
    mask = np.ones(df.height, dtype=bool)
    for key, positions in zip(classes.keys, classes.positions(), strict=True):
        if key not in keep or keep[key] >= len(positions):
            continue
        mask[positions] = False
        chosen = rng.choice(len(positions), size=int(keep[key]), replace=False)
        mask[positions[chosen]] = True
    if mask.all():
        return df
    return df.filter(pl.Series(mask))


def undersample(df: pl.DataFrame, label: str, target: Target, seed: int) -> pl.DataFrame:
    classes = classes_of(df[label])
    return keep_counts(df, label, sampling_strategy(classes.count_map(), target, "under"), seed)


# -- steps ----------------------------------------------------------------------------------


class _Balance(Step):
    scope = "global"
    value_fields = (("target", "label"),)

    def group_keys(self) -> tuple[str, ...]:
        return ()

    def validate(self, schema: pl.Schema) -> None:
        _check_label(schema, self.label)  # type: ignore[attr-defined]
        parse_target(self.target)  # type: ignore[attr-defined]

    def plan(self, counts: Mapping[Any, int]) -> dict[Any, int]:
        """Each class's count after this step, from the counts before (the preview)."""
        raise NotImplementedError


@register("balance.over")
@dataclass(frozen=True, slots=True)
class Oversample(_Balance):
    """Random oversampling (`RandomOverSampler` semantics); copies are marked `copy_of`."""

    label: str = "label"
    target: str = "auto"
    seed: int = 0

    def plan(self, counts: Mapping[Any, int]) -> dict[Any, int]:
        return planned_counts(counts, parse_target(self.target), "over")

    def apply(self, frame: pl.LazyFrame) -> pl.LazyFrame:
        df = frame.collect()
        return oversample(df, self.label, parse_target(self.target), self.seed).lazy()

    def describe(self) -> str:
        return f"oversample {self.label} (target {self.target}, seed {self.seed})"


@register("balance.under")
@dataclass(frozen=True, slots=True)
class Undersample(_Balance):
    """Random undersampling (`RandomUnderSampler` semantics)."""

    label: str = "label"
    target: str = "auto"
    seed: int = 0

    def plan(self, counts: Mapping[Any, int]) -> dict[Any, int]:
        return planned_counts(counts, parse_target(self.target), "under")

    def apply(self, frame: pl.LazyFrame) -> pl.LazyFrame:
        df = frame.collect()
        return undersample(df, self.label, parse_target(self.target), self.seed).lazy()

    def describe(self) -> str:
        return f"undersample {self.label} (target {self.target}, seed {self.seed})"

    def removal_reasons(self, before: pl.LazyFrame) -> pl.LazyFrame | None:
        return None  # the runner names the step as the reason


@register("balance.cap")
@dataclass(frozen=True, slots=True)
class CapClasses(_Balance):
    """At most `max_rows` rows per class (`per_class` = `CLASS=N,...` overrides), seeded."""

    value_fields = (("per_class", "label"),)
    label: str = "label"
    max_rows: int = 0
    per_class: str = ""
    seed: int = 0

    def validate(self, schema: pl.Schema) -> None:
        _check_label(schema, self.label)
        if self.max_rows < 0:
            raise StepError("The cap cannot be negative.")

    def plan(self, counts: Mapping[Any, int]) -> dict[Any, int]:
        return cap_counts(counts, self.max_rows, self.per_class)

    def apply(self, frame: pl.LazyFrame) -> pl.LazyFrame:
        df = frame.collect()
        classes = classes_of(df[self.label])
        keep = self.plan(classes.count_map())
        return keep_counts(df, self.label, keep, self.seed).lazy()

    def describe(self) -> str:
        parts = []
        if self.max_rows > 0:
            parts.append(f"{self.max_rows:,} rows")
        if self.per_class:
            parts.append(self.per_class)
        return f"cap each {self.label} class at {' / '.join(parts) or 'no limit'}"


@register("balance.augment")
@dataclass(frozen=True, slots=True)
class AugmentOversample(_Balance):
    """Oversampling by augmentation: new rows made by `method` until each class reaches its
    target (imbalanced-learn's oversampling targets). New rows carry provenance."""

    label: str = "label"
    target: str = "auto"
    method: str = "eda"
    column: str = ""
    seed: int = 0
    alpha: float = 0.1
    max_similarity: float = 98.0
    min_similarity: float = 40.0
    max_variants: int = 30

    def validate(self, schema: pl.Schema) -> None:
        _Balance.validate(self, schema)
        if self.column:
            require_columns(schema, self.column)

    def plan(self, counts: Mapping[Any, int]) -> dict[Any, int]:
        """The target counts; a class can fall short when too few distinct variants pass."""
        return planned_counts(counts, parse_target(self.target), "over")

    def run(self, frame: pl.LazyFrame):  # noqa: ANN201
        """The new rows frame and the augmentation report (the pane shows both)."""
        from studio.engine.augment import AugmentConfig, augment_frame

        df = frame.collect()
        classes = classes_of(df[self.label])
        strategy = sampling_strategy(classes.count_map(), parse_target(self.target), "over")
        config = AugmentConfig(
            method=self.method,
            column=self.column,
            seed=self.seed,
            alpha=self.alpha,
            max_similarity=self.max_similarity,
            min_similarity=self.min_similarity,
            max_variants=self.max_variants,
        )
        return augment_frame(df, config, label=self.label, needs=strategy)

    def apply(self, frame: pl.LazyFrame) -> pl.LazyFrame:
        return self.run(frame).frame.lazy()

    def describe(self) -> str:
        return (
            f"oversample {self.label} by {self.method} augmentation "
            f"(target {self.target}, seed {self.seed})"
        )


def plan_for(step: Step, counts: Mapping[Any, int]) -> dict[Any, int]:
    """The per-class counts `step` will produce from `counts` (for previews)."""
    if isinstance(step, _Balance):
        return step.plan(counts)
    raise StepError(f"{step.describe()} is not a balance step.")


__all__ = [
    "COPY_OF",
    "STRATEGY_NAMES",
    "AugmentOversample",
    "CapClasses",
    "Classes",
    "Oversample",
    "Undersample",
    "cap_counts",
    "class_counts",
    "classes_of",
    "imbalance_ratio",
    "keep_counts",
    "oversample",
    "parse_target",
    "plan_for",
    "planned_counts",
    "sampling_strategy",
    "undersample",
]
