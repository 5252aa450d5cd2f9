"""Near-duplicate gate of augmentation: a variant near a DIFFERENT original, or near another new
variant, is dropped and counted; a variant merely near its own source is kept."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl
import pytest

from studio.engine.augment import METHODS, AugmentConfig, augment_frame
from studio.engine.augment.near import NearDuplicateGate
from studio.engine.steps.base import ID

BUDGET = "the committee approved the new budget for the city library after a long debate"
TOMATO = "please remember to water the tomato plants in the garden every single evening"
SALES = "our team will meet on friday morning to review the quarterly sales figures"

# crafted variants per (source text, variant index)
VARIANTS = {
    # nearly the TOMATO original, made from BUDGET: caught
    (BUDGET, 0): "please remember to water the tomato plants in the garden every single night",
    # near its own source only: kept
    (SALES, 0): "our team will meet on friday morning to review the quarterly sales numbers",
    # two variants of TOMATO, near each other: the second is dropped
    (TOMATO, 0): "remember to water all the tomato plants in the yard each evening please",
    (TOMATO, 1): "remember to water all the tomato plants in the yard each evening thanks",
}


class Fixed:
    name = "fixed"

    def generate(
        self, texts: Sequence[str], keys: Sequence[tuple[int, int]], seed: int
    ) -> list[tuple[str | None, str]]:
        return [(VARIANTS.get((t, v)), "fixed") for t, (_, v) in zip(texts, keys, strict=True)]

    def notes(self) -> list[str]:
        return []


@pytest.fixture(autouse=True)
def fixed_method():  # noqa: ANN201
    METHODS["fixed"] = lambda config: Fixed()  # type: ignore[assignment,return-value]
    yield
    METHODS.pop("fixed", None)


def frame(texts: list[str]) -> pl.DataFrame:
    return pl.DataFrame(
        {ID: pl.Series(range(len(texts)), dtype=pl.UInt64), "text": texts, "label": "x"}
    )


def config(**kw) -> AugmentConfig:  # noqa: ANN003
    base = dict(method="fixed", column="text", min_similarity=0, max_similarity=98)
    return AugmentConfig(**{**base, **kw})  # type: ignore[arg-type]


def test_variant_near_a_different_original_is_dropped_near_own_source_is_kept() -> None:
    df = frame([BUDGET, SALES, TOMATO])
    report = augment_frame(df.filter(pl.col(ID) < 2), config(), originals=df["text"])
    new = report.new_rows()
    assert report.dropped["near duplicate"] == 1
    assert new["text"].to_list() == [VARIANTS[(SALES, 0)]]
    assert new["aug_source"].to_list() == [1]
    assert "1 near duplicate" in report.summary()


def test_only_the_rows_picked_as_sources_would_miss_it() -> None:
    # without `originals`, the TOMATO row is not among the sources, so nothing is near
    df = frame([BUDGET, SALES, TOMATO])
    report = augment_frame(df.filter(pl.col(ID) < 2), config())
    assert report.dropped["near duplicate"] == 0 and report.added == 2
    assert report.summary().endswith("; no duplicates or near duplicates")


def test_variants_near_each_other_keep_the_first() -> None:
    df = frame([TOMATO, SALES])
    report = augment_frame(df, config(per_row=2))
    tomato = report.new_rows().filter(pl.col("aug_source") == 0)["text"].to_list()
    assert tomato == [VARIANTS[(TOMATO, 0)]]
    assert report.dropped["near duplicate"] == 1


def test_exact_twin_of_the_source_does_not_count() -> None:
    df = frame([SALES, SALES.upper(), BUDGET])
    report = augment_frame(df.head(1), config(), originals=df["text"])
    assert report.dropped["near duplicate"] == 0 and report.added == 1


def test_gate_can_be_switched_off() -> None:
    df = frame([BUDGET, SALES, TOMATO])
    report = augment_frame(df.head(1), config(check_near_duplicates=False), originals=df["text"])
    assert report.added == 1 and report.dropped["near duplicate"] == 0
    assert "near duplicates" not in report.summary()  # not checked: not claimed


def test_gate_across_batches_and_far_texts() -> None:
    gate = NearDuplicateGate(pl.Series([BUDGET, SALES]))
    assert gate.check([TOMATO], [BUDGET]) == [False]  # far from everything: kept
    # a later batch: near the kept TOMATO variant, and near an original other than its source
    assert gate.check([TOMATO + " ok", SALES + " ok"], [SALES, BUDGET]) == [True, True]
    assert gate.check([SALES + " ok"], [SALES]) == [False]
