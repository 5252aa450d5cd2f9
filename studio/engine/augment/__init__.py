"""Augmentation: methods that make new rows from existing ones, with provenance and quality gates.

A method is registered in `METHODS` under a name (`eda` here; the Augment issue adds
`paraphrase` and `backtranslate` beside it). It turns a batch of texts, each keyed by
(source id, variant index), into (variant text or None, method label) pairs. `augment_frame`
is the shared driver: it picks the source rows (all rows, chosen classes, or until each class
reaches a count), calls the method in batches, drops variants that are identical to their
source, too close (similarity above `max_similarity`), too far (below `min_similarity`),
duplicates of an original row or of another new row (exact or after normalising case,
punctuation and spaces), or near duplicates of an original row other than the source or of
another new row (MinHash candidates verified with rapidfuzz: `augment.near`), and returns the
frame with the new rows appended. The duplicate gates compare against all the originals
(`originals`), not only the rows picked as sources.

New rows copy every column of their source row except the augmented one, get fresh `_id`s, and
carry `aug_method` (e.g. `eda.swap`), `aug_source` (the source `_id`) and `aug_similarity`
(rapidfuzz `fuzz.ratio` to the source, 0-100). Originals are never changed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import polars as pl

from studio.engine.errors import StepError
from studio.engine.progress import check_cancelled, report
from studio.engine.steps.base import ID, fresh_ids, require_columns

AUG_METHOD = "aug_method"
AUG_SOURCE = "aug_source"
AUG_SIMILARITY = "aug_similarity"
PROVENANCE = {AUG_METHOD: pl.String, AUG_SOURCE: pl.UInt64, AUG_SIMILARITY: pl.Float64}
DROP_REASONS = (
    "no change possible",
    "identical",
    "too close",
    "too far",
    "duplicate",
    "near duplicate",
)


class AugmentMethod(Protocol):
    name: str

    def generate(
        self, texts: Sequence[str], keys: Sequence[tuple[int, int]], seed: int
    ) -> list[tuple[str | None, str]]: ...

    def notes(self) -> list[str]: ...


@dataclass(frozen=True)
class AugmentConfig:
    method: str = "eda"
    column: str = ""
    seed: int = 0
    per_row: int = 1
    alpha: float = 0.1
    ops: tuple[str, ...] = ("swap", "delete", "insert", "synonym")
    max_similarity: float = 98.0
    min_similarity: float = 40.0
    max_variants: int = 30
    """In target mode, at most this many variants are tried per source row."""
    check_duplicates: bool = True
    check_near_duplicates: bool = True
    """MinHash near duplicates of other originals and of other new rows (needs check_duplicates)."""
    options: Mapping[str, Any] = field(default_factory=dict)
    """Method-specific settings (model names...) for methods added later."""


MethodFactory = Callable[[AugmentConfig], AugmentMethod]
METHODS: dict[str, MethodFactory] = {}


def register_method(name: str) -> Callable[[MethodFactory], MethodFactory]:
    def wrap(factory: MethodFactory) -> MethodFactory:
        METHODS[name] = factory
        return factory

    return wrap


@register_method("eda")
def _eda(config: AugmentConfig) -> AugmentMethod:
    from studio.engine.augment.eda import Eda

    synonyms = config.options.get("synonyms")
    return Eda(ops=tuple(config.ops), alpha=config.alpha, synonyms=synonyms)  # type: ignore[return-value]


def make_method(config: AugmentConfig) -> AugmentMethod:
    try:
        factory = METHODS[config.method]
    except KeyError:
        raise StepError(
            f"Unknown augmentation method {config.method!r}; known: {', '.join(sorted(METHODS))}."
        ) from None
    return factory(config)


@dataclass
class AugmentReport:
    """The result of a run: the full frame (originals + new rows) and what happened."""

    frame: pl.DataFrame
    added: int = 0
    tried: int = 0
    dropped: dict[str, int] = field(default_factory=lambda: dict.fromkeys(DROP_REASONS, 0))
    wanted: dict[Any, int] = field(default_factory=dict)
    """Target mode: new rows wanted per class."""
    made: dict[Any, int] = field(default_factory=dict)
    """New rows added per class (or per source label in per-row mode)."""
    notes: list[str] = field(default_factory=list)
    column: str = ""
    checked: bool = False
    """The duplicate and near-duplicate gates ran (against every original row)."""

    def new_rows(self) -> pl.DataFrame:
        return self.frame.tail(self.added) if self.added else self.frame.clear()

    def summary(self) -> str:
        drops = ", ".join(f"{v:,} {k}" for k, v in self.dropped.items() if v)
        short = [
            f"{k}: {self.made.get(k, 0):,}/{w:,}"
            for k, w in self.wanted.items()
            if self.made.get(k, 0) < w
        ]
        text = f"{self.added:,} new rows from {self.tried:,} variants"
        if drops:
            text += f"; dropped {drops}"
        if self.checked and not (
            self.dropped.get("duplicate") or self.dropped.get("near duplicate")
        ):
            text += "; no duplicates or near duplicates"
        if short:
            text += f"; short of target: {', '.join(short)}"
        return text


def default_column(frame: pl.DataFrame | pl.LazyFrame) -> str:
    """The field augmented by default: instruction data -> `instruction`; else the text column."""
    from studio.engine.shape import detect_shape

    shape = detect_shape(frame)
    if shape.kind == "alpaca":
        for col, role in shape.roles.items():
            if role == "instruction":
                return col
    if shape.kind == "preference":
        for col, role in shape.roles.items():
            if role == "prompt":
                return col
    if shape.kind in ("classification", "text") and shape.text:
        return shape.text
    raise StepError("Choose the text column to augment: no plain text column was detected.")


def _normal(expr: pl.Expr) -> pl.Expr:
    return expr.str.to_lowercase().str.replace_all(r"[\W_]+", "")


def _similarities(a: Sequence[str], b: Sequence[str]) -> np.ndarray:
    from rapidfuzz import fuzz
    from rapidfuzz.process import cpdist

    if not a:
        return np.zeros(0)
    return np.asarray(cpdist(list(a), list(b), scorer=fuzz.ratio, workers=1), dtype=np.float64)


class _Generator:
    """Runs the method on (source position, variant) pairs and applies the quality gates."""

    def __init__(
        self,
        df: pl.DataFrame,
        column: str,
        config: AugmentConfig,
        originals: pl.Series | None = None,
    ) -> None:
        self.config = config
        self.method = make_method(config)
        self.texts = df[column]
        self.ids = df[ID].to_numpy()
        self.dropped = dict.fromkeys(DROP_REASONS, 0)
        self.tried = 0
        self.seen: set[str] = set()
        self.seen_normal: set[str] = set()
        self.near = None
        everything = self.texts if originals is None else originals
        if config.check_duplicates:
            self.seen = set(everything.drop_nulls().to_list())
            self.seen_normal = set(
                everything.drop_nulls().to_frame("t").select(_normal(pl.col("t")))["t"].to_list()
            )
            if config.check_near_duplicates:
                from studio.engine.augment.near import NearDuplicateGate

                self.near = NearDuplicateGate(everything)

    def run(
        self, positions: np.ndarray, variants: np.ndarray
    ) -> tuple[list[int], list[str], list[str], list[float]]:
        """Accepted (source position, text, method label, similarity), in input order."""
        sources = self.texts.gather(positions).to_list()
        keys = [(int(self.ids[p]), int(v)) for p, v in zip(positions, variants, strict=True)]
        outs = self.method.generate([s or "" for s in sources], keys, self.config.seed)
        self.tried += len(outs)
        cand = [(i, t, m) for i, (t, m) in enumerate(outs) if t is not None and sources[i]]
        self.dropped["no change possible"] += len(outs) - len(cand)
        sims = _similarities([t for _, t, _ in cand], [sources[i] for i, _, _ in cand])
        passed: list[tuple[int, str, str, float]] = []
        normals = (
            pl.Series([t for _, t, _ in cand], dtype=pl.String)
            .to_frame("t")
            .select(_normal(pl.col("t")))["t"]
            .to_list()
            if self.config.check_duplicates
            else [None] * len(cand)
        )
        for (i, text, label), sim, normal in zip(cand, sims, normals, strict=True):
            if text == sources[i]:
                self.dropped["identical"] += 1
            elif sim > self.config.max_similarity:
                self.dropped["too close"] += 1
            elif sim < self.config.min_similarity:
                self.dropped["too far"] += 1
            elif self.config.check_duplicates and (text in self.seen or normal in self.seen_normal):
                self.dropped["duplicate"] += 1
            else:
                if self.config.check_duplicates:
                    self.seen.add(text)
                    self.seen_normal.add(normal)  # type: ignore[arg-type]
                passed.append((i, text, label, round(float(sim), 2)))
        if self.near is not None:
            near = self.near.check([t for _, t, _, _ in passed], [sources[i] for i, *_ in passed])
            self.dropped["near duplicate"] += sum(near)
            passed = [p for p, n in zip(passed, near, strict=True) if not n]
        return (
            [int(positions[i]) for i, *_ in passed],
            [t for _, t, _, _ in passed],
            [m for _, _, m, _ in passed],
            [s for *_, s in passed],
        )


def _with_provenance(df: pl.DataFrame) -> pl.DataFrame:
    missing = [pl.lit(None, dtype=t).alias(c) for c, t in PROVENANCE.items() if c not in df.columns]
    out = df.with_columns(missing) if missing else df
    return out.with_columns(pl.col(c).cast(t) for c, t in PROVENANCE.items())


def augment_frame(
    df: pl.DataFrame,
    config: AugmentConfig,
    *,
    label: str | None = None,
    only_labels: Sequence[str] = (),
    needs: Mapping[Any, int] | None = None,
    batch: int = 2048,
    originals: pl.Series | None = None,
) -> AugmentReport:
    """Augment `df` (with `_id`). Modes:

    - `needs` given (class -> new rows wanted, needs `label`): variants of each class's rows,
      cycling through the rows in a seeded order, until each class has its new rows or every
      row has been tried `max_variants` times.
    - otherwise: `per_row` variants of every row (of the classes in `only_labels` if given).

    `originals`: the augmented column of every original row, when `df` holds only the rows
    picked as sources; the duplicate gates compare against it (default: `df[column]`).
    """
    column = config.column or default_column(df)
    require_columns(df.schema, column)
    if df.schema[column] != pl.String:
        raise StepError(f"The column {column!r} is not text; choose a text column to augment.")
    if label:
        require_columns(df.schema, label)
    if config.per_row < 1:
        raise StepError("Ask for at least one variant per row.")
    if not 0 <= config.min_similarity <= config.max_similarity <= 100:
        raise StepError("Similarity limits must satisfy 0 <= floor <= limit <= 100.")
    gen = _Generator(df, column, config, originals)
    report_ = AugmentReport(frame=df, notes=gen.method.notes(), column=column)
    picked: list[tuple[list[int], list[str], list[str], list[float]]] = []
    label_values = df[label].cast(pl.String) if label else None

    if needs is not None:
        if not label:
            raise StepError("Choose the label column to augment up to a target count.")
        from studio.engine.steps.balance import classes_of

        classes = classes_of(df[label])
        total = sum(max(0, n) for n in needs.values())
        done = 0
        for index, (key, positions) in enumerate(
            zip(classes.keys, classes.positions(), strict=True)
        ):
            want = int(needs.get(key, 0))
            if want <= 0:
                continue
            report_.wanted[key] = want
            rng = np.random.default_rng([config.seed, index])
            order = positions[rng.permutation(len(positions))]
            limit = len(order) * max(1, config.max_variants)
            cursor = 0
            got = 0
            while got < want and cursor < limit:
                check_cancelled()
                size = min(limit - cursor, max(64, int((want - got) * 1.3) + 8), batch)
                steps = np.arange(cursor, cursor + size)
                cursor += size
                accepted = gen.run(order[steps % len(order)], steps // len(order))
                take = min(want - got, len(accepted[0]))
                picked.append(tuple(part[:take] for part in accepted))  # type: ignore[arg-type]
                got += take
                report(done + got, total, f"augmenting {key}")
            report_.made[key] = got
            done += want
    else:
        mask = np.ones(df.height, dtype=bool)
        if only_labels:
            if label_values is None:
                raise StepError("Choose the label column to augment chosen classes.")
            mask = (
                label_values.is_in(pl.Series(list(only_labels), dtype=pl.String).implode())
                .fill_null(False)
                .to_numpy()
            )
        positions = np.repeat(np.flatnonzero(mask), config.per_row)
        variants = np.tile(np.arange(config.per_row), int(mask.sum()))
        for start in range(0, len(positions), batch):
            check_cancelled()
            picked.append(
                gen.run(positions[start : start + batch], variants[start : start + batch])
            )
            report(min(start + batch, len(positions)), len(positions), "augmenting")

    report_.tried = gen.tried
    report_.checked = gen.near is not None
    report_.dropped = gen.dropped
    pos = [p for part in picked for p in part[0]]
    base = _with_provenance(df)
    if not pos:
        report_.frame = base
        return report_
    from studio.engine.steps.balance import take_rows

    new = take_rows(base, np.asarray(pos, dtype=np.int64)).with_columns(
        pl.Series(column, [t for part in picked for t in part[1]], dtype=pl.String),
        pl.Series(AUG_METHOD, [m for part in picked for m in part[2]], dtype=pl.String),
        pl.col(ID).alias(AUG_SOURCE),
        pl.Series(AUG_SIMILARITY, [s for part in picked for s in part[3]], dtype=pl.Float64),
    )
    if "copy_of" in new.columns:
        new = new.with_columns(pl.lit(None, dtype=new.schema["copy_of"]).alias("copy_of"))
    new = fresh_ids(base.lazy(), new.lazy()).select(base.columns).collect()
    report_.added = new.height
    if needs is None and label:
        counts = new.group_by(label).len()
        report_.made = dict(zip(counts[label].to_list(), counts["len"].to_list(), strict=True))
    report_.frame = pl.concat([base, new])
    return report_
