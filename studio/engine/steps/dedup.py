"""Deduplication steps: exact, normalized, near (MinHash LSH), semantic, leaks against another
file, and conflicting labels.

Every dedup step is global (it needs all rows), keeps one row per cluster by a keep policy,
lets the user override the kept row of any cluster (`overrides`: pairs of (member `_id`,
kept `_id`), where kept `_id` -1 rejects the cluster and keeps all of it), gives each dropped
row the reason "duplicate of row N", and can add an Int64 cluster column (the smallest `_id`
of the cluster, null for unique rows) instead of, or as well as, dropping.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import polars as pl

from studio.engine.dedup.clusters import KEEP_POLICIES, Clusters, choose_kept
from studio.engine.dedup.text import Normalization
from studio.engine.errors import StepError
from studio.engine.steps.base import ID, Step, register, require_columns

_CACHE: dict[str, tuple[Step, pl.LazyFrame, Any]] = {}


def _cached(step: Step, frame: pl.LazyFrame, compute: Any) -> Any:
    """Reuse one computation for `apply` and `removal_reasons` on the same input frame."""
    hit = _CACHE.get(step.name)
    if hit is not None and hit[0] == step and hit[1] is frame:
        return hit[2]
    value = compute()
    _CACHE[step.name] = (step, frame, value)
    return value


def _keep_score(data: pl.DataFrame, columns: tuple[str, ...], keep: str, keep_column: str):  # noqa: ANN202
    if keep not in KEEP_POLICIES:
        raise StepError(f"Unknown keep policy {keep!r}; use {', '.join(KEEP_POLICIES)}.")
    if keep == "first":
        return None
    if keep == "last":
        return np.arange(data.height, dtype=np.float64)
    if keep in ("longest", "shortest"):
        length = data.select(
            pl.sum_horizontal(
                [pl.col(c).cast(pl.String).str.len_chars().fill_null(0) for c in columns]
            )
        ).to_series()
        values = length.to_numpy().astype(np.float64)
        return values if keep == "longest" else -values
    if keep == "complete":
        cols = [c for c in data.columns if c != ID]
        filled = data.select(
            pl.sum_horizontal(
                [
                    (
                        pl.col(c).is_not_null()
                        & (pl.col(c).cast(pl.String).str.strip_chars() != "").fill_null(True)
                    ).cast(pl.Int64)
                    for c in cols
                ]
            )
        ).to_series()
        return filled.to_numpy().astype(np.float64)
    if not keep_column or keep_column not in data.columns:
        raise StepError(f"The keep policy {keep!r} needs a numeric keep_column.")
    try:
        values = data[keep_column].cast(pl.Float64).to_numpy()
    except pl.exceptions.InvalidOperationError as exc:
        raise StepError(f"Column {keep_column!r} is not numeric.") from exc
    values = np.where(np.isnan(values), -np.inf if keep == "highest" else np.inf, values)
    return values if keep == "highest" else -values


def parse_keep(policy: str) -> tuple[str, str]:
    """`"highest:score"` -> ("highest", "score"); `"longest"` -> ("longest", "")."""
    name, _, column = policy.partition(":")
    name = name.strip().lower()
    if name == "most_complete":
        name = "complete"
    if name not in KEEP_POLICIES:
        raise StepError(f"Unknown keep policy {name!r}; use {', '.join(KEEP_POLICIES)}.")
    return name, column.strip()


class DedupStep(Step):
    """Shared machinery of the dedup steps. Subclasses define `columns_used` and `find`."""

    scope = "global"
    kind: ClassVar[str] = "duplicate"
    row_id_exceptions = ("overrides",)

    # fields every subclass declares: keep, keep_column, overrides, cluster_column, drop
    def columns_used(self) -> tuple[str, ...]:
        raise NotImplementedError

    def find(self, data: pl.DataFrame) -> Clusters:
        """Clusters of duplicate rows in `data` (positions follow `data`'s rows)."""
        raise NotImplementedError

    def group_keys(self) -> tuple[str, ...]:
        return self.columns_used()

    def validate(self, schema: pl.Schema) -> None:
        require_columns(schema, *self.columns_used())
        keep_column = getattr(self, "keep_column", "")
        if getattr(self, "keep", "first") in ("highest", "lowest"):
            require_columns(schema, keep_column)
        if getattr(self, "keep", "first") not in KEEP_POLICIES:
            raise StepError(f"Unknown keep policy {self.keep!r}.")  # type: ignore[attr-defined]

    def clusters(self, data: pl.DataFrame) -> Clusters:
        """Clusters with the kept row of each chosen by the keep policy and the overrides."""
        found = self.find(data)
        score = _keep_score(
            data,
            self.columns_used(),
            getattr(self, "keep", "first"),
            getattr(self, "keep_column", ""),
        )
        found.kept = choose_kept(found.label, score, found.ids, getattr(self, "overrides", ()))
        return found

    def decide(self, frame: pl.LazyFrame) -> tuple[pl.DataFrame, Clusters]:
        def compute() -> tuple[pl.DataFrame, Clusters]:
            data = frame.collect()
            return data, self.clusters(data)

        return _cached(self, frame, compute)

    def apply(self, frame: pl.LazyFrame) -> pl.LazyFrame:
        data, found = self.decide(frame)
        out = data
        column = getattr(self, "cluster_column", "")
        if column:
            ids = found.cluster_ids()
            series = pl.Series(column, ids, dtype=pl.Int64)
            out = out.with_columns(pl.when(series >= 0).then(series).otherwise(None).alias(column))
        if getattr(self, "drop", True):
            out = out.filter(pl.Series(~found.dropped()))
        return out.lazy()

    def removal_reasons(self, before: pl.LazyFrame) -> pl.LazyFrame | None:
        if not getattr(self, "drop", True):
            return None
        _, found = self.decide(before)
        dropped = found.dropped()
        kept_pos = found.kept_of()[dropped]
        sim = found.similarity[found.label[dropped]] if found.count else np.zeros(0)
        reasons = pl.DataFrame(
            {
                ID: found.ids[dropped].astype(np.uint64),
                "kept": found.ids[kept_pos].astype(np.int64),
                "sim": sim,
            }
        )
        prefix = f"{self.kind} of row "
        reason = pl.lit(prefix) + pl.col("kept").cast(pl.String)
        if self.kind != "exact duplicate":
            reason = reason + pl.when(pl.col("sim") < 1.0).then(
                pl.lit(" (similarity ") + pl.col("sim").round(2).cast(pl.String) + pl.lit(")")
            ).otherwise(pl.lit(""))
        return reasons.lazy().select(ID, reason.alias("reason"))

    def _keep_text(self) -> str:
        keep = getattr(self, "keep", "first")
        column = getattr(self, "keep_column", "")
        text = f"keep {keep}" + (f" {column}" if column else "")
        overrides = getattr(self, "overrides", ())
        if overrides:
            text += f", {len(overrides)} cluster override{'s' if len(overrides) != 1 else ''}"
        if not getattr(self, "drop", True):
            text += ", mark only"
        return text


@register("dedup.exact")
@dataclass(frozen=True, slots=True)
class DedupExact(DedupStep):
    """Rows whose values in `columns` are identical (all columns when empty)."""

    kind = "exact duplicate"
    columns: tuple[str, ...] = ()
    keep: str = "first"
    keep_column: str = ""
    overrides: tuple[tuple[int, int], ...] = ()
    cluster_column: str = ""
    drop: bool = True

    def columns_used(self) -> tuple[str, ...]:
        return tuple(self.columns)

    def find(self, data: pl.DataFrame) -> Clusters:
        from studio.engine.dedup.exact import blank_rows, exact_duplicates, exact_keys

        cols = list(self.columns) or [
            c for c in data.columns if c != ID and c != self.cluster_column
        ]
        return exact_duplicates(exact_keys(data, cols), data[ID].to_numpy(), blank_rows(data, cols))

    def describe(self) -> str:
        what = ", ".join(self.columns) if self.columns else "all columns"
        return f"drop exact duplicates on {what} ({self._keep_text()})"


@register("dedup.normalized")
@dataclass(frozen=True, slots=True)
class DedupNormalized(DedupStep):
    """Rows whose `column` is equal after normalization (case, whitespace, punctuation, NFKC)."""

    kind = "normalized duplicate"
    column: str = "text"
    case: bool = True
    whitespace: bool = True
    punctuation: bool = True
    nfkc: bool = True
    keep: str = "first"
    keep_column: str = ""
    overrides: tuple[tuple[int, int], ...] = ()
    cluster_column: str = ""
    drop: bool = True

    @property
    def normalization(self) -> Normalization:
        return Normalization(self.case, self.whitespace, self.punctuation, self.nfkc)

    def columns_used(self) -> tuple[str, ...]:
        return (self.column,)

    def find(self, data: pl.DataFrame) -> Clusters:
        from studio.engine.dedup.exact import blank_rows, exact_duplicates, normalized_keys

        keys = normalized_keys(data[self.column], self.normalization)
        return exact_duplicates(keys, data[ID].to_numpy(), blank_rows(data, [self.column]))

    def describe(self) -> str:
        return (
            f"drop duplicates of {self.column} ignoring {self.normalization.describe()}"
            f" ({self._keep_text()})"
        )


@register("dedup.near")
@dataclass(frozen=True, slots=True)
class DedupNear(DedupStep):
    """Near-duplicates of `column` by MinHash LSH, verified with rapidfuzz."""

    kind = "near duplicate"
    column: str = "text"
    threshold: float = 0.5
    similarity: float = 0.8
    num_perm: int = 64
    shingle: str = "word"
    ngram: int = 3
    bands: int = 0
    rows: int = 0
    seed: int = 1
    keep: str = "first"
    keep_column: str = ""
    overrides: tuple[tuple[int, int], ...] = ()
    cluster_column: str = ""
    drop: bool = True

    def config(self):  # noqa: ANN201
        from studio.engine.dedup.minhash import MinHashConfig

        return MinHashConfig(
            threshold=self.threshold,
            num_perm=self.num_perm,
            shingle=self.shingle,
            ngram=self.ngram,
            bands=self.bands,
            rows=self.rows,
            similarity=self.similarity,
            seed=self.seed,
        )

    def validate(self, schema: pl.Schema) -> None:
        DedupStep.validate(self, schema)
        if self.shingle not in ("word", "char"):
            raise StepError("Shingles are 'word' or 'char'.")
        if not 0 < self.threshold < 1 or not 0 <= self.similarity <= 1:
            raise StepError("The threshold and similarity must be between 0 and 1.")
        if self.num_perm < 2 or self.ngram < 1:
            raise StepError("num_perm must be at least 2 and ngram at least 1.")
        self.config().band_rows()

    def columns_used(self) -> tuple[str, ...]:
        return (self.column,)

    def find(self, data: pl.DataFrame) -> Clusters:
        from studio.engine.dedup.minhash import near_duplicates

        return near_duplicates(data[self.column], data[ID].to_numpy(), self.config())

    def describe(self) -> str:
        bands = f", {self.bands}x{self.rows} bands" if self.bands and self.rows else ""
        return (
            f"drop near duplicates of {self.column} (Jaccard {self.threshold:g}, similarity"
            f" {self.similarity:g}, {self.ngram}-{self.shingle} shingles, {self.num_perm}"
            f" permutations{bands}; {self._keep_text()})"
        )


@register("dedup.semantic")
@dataclass(frozen=True, slots=True)
class DedupSemantic(DedupStep):
    """Rows whose embeddings (a transformers encoder, mean pooled) have cosine >= threshold."""

    kind = "semantic duplicate"
    column: str = "text"
    model: str = ""
    threshold: float = 0.95
    batch_size: int = 64
    max_length: int = 256
    keep: str = "first"
    keep_column: str = ""
    overrides: tuple[tuple[int, int], ...] = ()
    cluster_column: str = ""
    drop: bool = True

    def validate(self, schema: pl.Schema) -> None:
        DedupStep.validate(self, schema)
        if not self.model:
            raise StepError("Semantic dedup needs a model name or a local model folder.")
        if not 0 < self.threshold <= 1:
            raise StepError("The cosine threshold must be above 0 and at most 1.")

    def columns_used(self) -> tuple[str, ...]:
        return (self.column,)

    def find(self, data: pl.DataFrame) -> Clusters:
        from studio.engine.dedup.semantic import semantic_duplicates

        return semantic_duplicates(
            data[self.column],
            self.model,
            data[ID].to_numpy(),
            self.threshold,
            self.batch_size,
            self.max_length,
        )

    def describe(self) -> str:
        name = Path(self.model).name if self.model else "(no model)"
        return (
            f"drop semantic duplicates of {self.column} (cosine {self.threshold:g}, {name};"
            f" {self._keep_text()})"
        )


@register("dedup.against")
@dataclass(frozen=True, slots=True)
class DedupAgainst(Step):
    """Drop rows of this data that duplicate a row of another file (test rows leaking into
    train): exact, normalized or near on `column` (`other_column` in the other file)."""

    scope = "global"
    row_id_exceptions = ("kept",)
    other: str = ""
    column: str = "text"
    other_column: str = ""
    mode: str = "normalized"
    threshold: float = 0.5
    similarity: float = 0.8
    kept: tuple[int, ...] = ()  # `_id`s of matching rows the user chose to keep

    def group_keys(self) -> tuple[str, ...]:
        return (self.column,)

    def validate(self, schema: pl.Schema) -> None:
        require_columns(schema, self.column)
        if self.mode not in ("exact", "normalized", "near"):
            raise StepError("Leak detection mode is exact, normalized or near.")
        if not self.other:
            raise StepError("Name the other file to compare against.")
        if self.mode == "near" and (not 0 < self.threshold < 1 or not 0 <= self.similarity <= 1):
            raise StepError("The threshold and similarity must be between 0 and 1.")

    def _other(self):  # noqa: ANN202
        from studio.engine.io import load_dataset

        dataset = load_dataset(self.other)
        column = self.other_column or self.column
        require_columns(dataset.frame.collect_schema(), column)
        return dataset, dataset.frame.select(ID, pl.col(column).alias("__text")).collect()

    def leaks(self, frame: pl.LazyFrame) -> pl.DataFrame:
        """(`_id`, `other_id`, `other_source`) for each row of `frame` found in the other file."""

        def compute() -> pl.DataFrame:
            return self._leaks(frame)

        return _cached(self, frame, compute)

    def _leaks(self, frame: pl.LazyFrame) -> pl.DataFrame:
        dataset, other = self._other()
        mine = frame.select(ID, pl.col(self.column).alias("__text")).collect()
        empty = pl.DataFrame(
            schema={ID: pl.UInt64, "other_id": pl.UInt64, "other_source": pl.String}
        )
        if mine.height == 0 or other.height == 0:
            return empty
        if self.mode == "near":
            from studio.engine.dedup.minhash import MinHashConfig, near_duplicates

            texts = pl.concat([other["__text"], mine["__text"]])
            found = near_duplicates(
                texts, config=MinHashConfig(threshold=self.threshold, similarity=self.similarity)
            )
            label = found.label
            n_other = other.height
            other_label = label[:n_other]
            mine_label = label[n_other:]
            first_other = np.full(found.count, -1, dtype=np.int64)
            ok = other_label >= 0
            # the first row of the other file in each cluster
            order = np.flatnonzero(ok)[::-1]
            first_other[other_label[order]] = order
            hit = (mine_label >= 0) & (first_other[np.maximum(mine_label, 0)] >= 0)
            pos = np.flatnonzero(hit)
            other_pos = first_other[mine_label[pos]]
            pairs = pl.DataFrame(
                {ID: mine[ID].gather(pos), "other_id": other[ID].gather(other_pos)}
            )
        else:
            if self.mode == "exact":
                mk = mine["__text"].hash(seed=1)
                ok = other["__text"].hash(seed=1)
            else:
                from studio.engine.dedup.exact import normalized_keys

                # keys are comparable within one call only: hash both files together
                both = normalized_keys(pl.concat([mine["__text"], other["__text"]]))
                mk = pl.Series(both[: mine.height])
                ok = pl.Series(both[mine.height :])
            from studio.engine.dedup.exact import blank_rows

            # rows with no text match nothing (as in every other mode)
            mine_text = ~blank_rows(mine, ["__text"])
            other_text = ~blank_rows(other, ["__text"])
            left = pl.DataFrame({ID: mine[ID], "k": mk}).filter(mine_text)
            right = (
                pl.DataFrame({"other_id": other[ID], "k": ok})
                .filter(other_text)
                .group_by("k", maintain_order=True)
                .agg(pl.col("other_id").first())
            )
            pairs = left.join(right, on="k", how="inner", maintain_order="left").select(
                ID, "other_id"
            )
        sources = dataset.source_ids(pairs["other_id"])
        return pairs.with_columns(sources.alias("other_source")).select(
            pl.col(ID).cast(pl.UInt64), pl.col("other_id").cast(pl.UInt64), "other_source"
        )

    def removed(self, frame: pl.LazyFrame) -> pl.DataFrame:
        """The leaks this step drops: all of them but the rows the user kept."""
        leaks = self.leaks(frame)
        if not self.kept:
            return leaks
        kept = pl.Series(ID, [int(i) for i in self.kept], dtype=pl.UInt64)
        return leaks.filter(~pl.col(ID).is_in(kept.implode()))

    def apply(self, frame: pl.LazyFrame) -> pl.LazyFrame:
        leaks = self.removed(frame)
        return frame.join(leaks.lazy().select(ID), on=ID, how="anti", maintain_order="left")

    def removal_reasons(self, before: pl.LazyFrame) -> pl.LazyFrame:
        leaks = self.removed(before)
        return leaks.lazy().select(
            ID, (pl.lit(f"{self.mode} match in ") + pl.col("other_source")).alias("reason")
        )

    def describe(self) -> str:
        text = f"drop rows whose {self.column} also appears in {Path(self.other).name or '?'} ({self.mode})"
        if self.kept:
            text += f", {len(self.kept)} kept by hand"
        return text


RESOLUTIONS = ("majority", "drop", "pick")


@register("labels.conflicts")
@dataclass(frozen=True, slots=True)
class LabelConflicts(Step):
    """The same normalized text under different labels. Resolution: `majority` keeps the rows
    with the most common label of the group (a tie drops the whole group), `drop` drops every
    row of a conflicting group, `pick` keeps the label chosen per group in `choices` (pairs of
    (member `_id`, label); groups without a choice follow the majority)."""

    scope = "global"
    row_id_exceptions = ("choices",)
    column: str = "text"
    label: str = "label"
    resolution: str = "majority"
    choices: tuple[tuple[int, str], ...] = ()
    case: bool = True
    whitespace: bool = True
    punctuation: bool = True
    nfkc: bool = True

    def group_keys(self) -> tuple[str, ...]:
        return (self.column,)

    def validate(self, schema: pl.Schema) -> None:
        require_columns(schema, self.column, self.label)
        if self.resolution not in RESOLUTIONS:
            raise StepError(f"Resolve conflicts by {', '.join(RESOLUTIONS)}.")

    def conflicts(self, frame: pl.LazyFrame | pl.DataFrame) -> pl.DataFrame:
        """One row per member of a conflicting group: `_id`, group, key, label, count of that
        label in the group, and whether the resolution keeps it."""
        from studio.engine.dedup.exact import normalized_keys
        from studio.engine.dedup.text import Normalization, normalize

        data = frame.lazy().select(ID, self.column, self.label).collect()
        options = Normalization(self.case, self.whitespace, self.punctuation, self.nfkc)
        # group by the fast normalized hash; the readable key is built for members only
        key = pl.Series(normalized_keys(data[self.column], options), dtype=pl.UInt64)
        data = data.with_columns(
            key.alias("__key"),
            pl.col(self.label).cast(pl.String).fill_null("").alias("__label"),
        ).with_row_index("__pos")
        groups = (
            data.group_by("__key")
            .agg(
                pl.col("__label").n_unique().alias("__nlabels"),
                pl.col("__pos").min().alias("__first"),
            )
            .filter(pl.col("__nlabels") > 1)
        )
        members = data.join(groups, on="__key", how="inner").sort("__pos")
        members = members.with_columns(
            pl.col("__first").rank("dense").cast(pl.Int64).sub(1).alias("group"),
            pl.len().over("__key", "__label").alias("count"),
        )
        top = members.group_by("group").agg(
            pl.col("count").max().alias("__top"),
            (pl.col("count") == pl.col("count").max()).sum().alias("__ntop"),
        )
        members = members.join(top, on="group", how="left", maintain_order="left")
        # counted per row: rows with the top count; __ntop counts rows, so a tie shows as
        # more than one distinct label reaching the top count
        tie = members.group_by("group").agg(
            pl.col("__label").filter(pl.col("count") == pl.col("__top")).n_unique().alias("__tied")
        )
        members = members.join(tie, on="group", how="left", maintain_order="left")
        majority = (pl.col("count") == pl.col("__top")) & (pl.col("__tied") == 1)
        if self.resolution == "drop":
            keep = pl.lit(False)
        elif self.resolution == "majority" or not self.choices:
            keep = majority
        else:
            picks = pl.DataFrame(
                {
                    "__member": [int(m) for m, _ in self.choices],
                    "__pick": [str(lab) for _, lab in self.choices],
                },
                schema={"__member": pl.UInt64, "__pick": pl.String},
            )
            chosen = (
                members.join(picks, left_on=ID, right_on="__member", how="inner")
                .group_by("group")
                .agg(pl.col("__pick").last())
            )
            members = members.join(chosen, on="group", how="left", maintain_order="left")
            keep = (
                pl.when(pl.col("__pick").is_not_null())
                .then(pl.col("__label") == pl.col("__pick"))
                .otherwise(majority)
            )
        members = members.with_columns(normalize(members[self.column], options).alias("__text_key"))
        return members.select(
            ID,
            "group",
            pl.col("__text_key").alias("key"),
            pl.col(self.label).alias("label"),
            "count",
            keep.alias("keep"),
        )

    def apply(self, frame: pl.LazyFrame) -> pl.LazyFrame:
        found = _cached(self, frame, lambda: self.conflicts(frame))
        gone = found.filter(~pl.col("keep")).select(ID)
        return frame.join(gone.lazy(), on=ID, how="anti", maintain_order="left")

    def removal_reasons(self, before: pl.LazyFrame) -> pl.LazyFrame:
        found = _cached(self, before, lambda: self.conflicts(before))
        return (
            found.filter(~pl.col("keep"))
            .lazy()
            .select(
                ID,
                (
                    pl.lit("conflicting label ")
                    + pl.col("label").cast(pl.String)
                    + pl.lit(f" ({self.resolution})")
                ).alias("reason"),
            )
        )

    def describe(self) -> str:
        how = {
            "majority": "keep the majority label",
            "drop": "drop them all",
            "pick": "keep the picked labels",
        }[self.resolution if self.resolution in RESOLUTIONS else "majority"]
        return f"resolve conflicting {self.label} for the same {self.column}: {how}"
