from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from studio.engine.errors import StepError
from studio.engine.steps.balance import AugmentOversample, Oversample
from studio.engine.steps.base import ID
from studio.engine.steps.split import SPLIT, SPLITS, SplitAssign, root_ids, split_counts


def frame(n: int, seed: int = 0, **extra) -> pl.DataFrame:  # noqa: ANN003
    rng = np.random.default_rng(seed)
    labels = rng.choice(["a", "b", "c", "d"], size=n, p=[0.7, 0.2, 0.08, 0.02])
    return pl.DataFrame(
        {
            ID: pl.Series(range(n), dtype=pl.UInt64),
            "text": [f"text number {i} with a few more words" for i in range(n)],
            "label": labels.tolist(),
            **extra,
        }
    )


def test_stratified_split_is_within_one_row_per_class() -> None:
    df = frame(2003, seed=1)
    ratios = (0.7, 0.2, 0.1)
    out = SplitAssign(ratios=ratios, stratify="label", seed=3).apply(df.lazy()).collect()
    assert out.height == df.height
    assert set(out[SPLIT].unique().to_list()) == set(SPLITS)
    for label, part in out.group_by("label"):
        n = part.height
        for name, ratio in zip(SPLITS, ratios, strict=True):
            got = part.filter(pl.col(SPLIT) == name).height
            assert abs(got - n * ratio) <= 1, (label, name, got, n * ratio)


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 300),
    seed=st.integers(0, 100),
    ratios=st.sampled_from([(0.8, 0.1, 0.1), (0.5, 0.25, 0.25), (0.9, 0.1), (1 / 3, 1 / 3, 1 / 3)]),
)
def test_stratification_property(n: int, seed: int, ratios: tuple[float, ...]) -> None:
    df = frame(n, seed=seed)
    out = SplitAssign(ratios=ratios, stratify="label", seed=seed).apply(df.lazy()).collect()
    assert out.height == n
    for _, part in out.group_by("label"):
        for name, ratio in zip(SPLITS, ratios, strict=False):
            got = part.filter(pl.col(SPLIT) == name).height
            assert abs(got - part.height * ratio) <= 1


def test_grouped_split_never_puts_a_group_in_two_splits() -> None:
    rng = np.random.default_rng(2)
    df = frame(1500, seed=2, dup_cluster=rng.integers(0, 200, 1500).tolist())
    df = df.with_columns(
        pl.when(pl.col(ID) % 3 == 0)
        .then(None)
        .otherwise(pl.col("dup_cluster"))
        .alias("dup_cluster")
    )
    out = SplitAssign(stratify="label", group="dup_cluster", seed=1).apply(df.lazy()).collect()
    per_group = out.drop_nulls("dup_cluster").group_by("dup_cluster").agg(pl.col(SPLIT).n_unique())
    assert (per_group[SPLIT] == 1).all()
    shares = out[SPLIT].value_counts(normalize=True)
    train = shares.filter(pl.col(SPLIT) == "train")["proportion"].item()
    assert 0.7 < train < 0.9


def test_copies_stay_out_of_validation_and_test() -> None:
    df = frame(400, seed=3)
    over = Oversample(label="label", seed=1).apply(df.lazy()).collect()
    out = SplitAssign(stratify="label", seed=4).apply(over.lazy()).collect()
    copies = out.filter(pl.col("copy_of").is_not_null())
    assert copies.height > 0 and (copies[SPLIT] == "train").all()
    # every copy kept has its source in train; copies of evaluation rows were dropped
    kept = copies.join(out.select(ID, pl.col(SPLIT).alias("src")), left_on="copy_of", right_on=ID)
    assert (kept["src"] == "train").all()
    originals = out.filter(pl.col("copy_of").is_null())
    assert originals.height == df.height
    for _, part in originals.group_by("label"):
        assert abs(part.filter(pl.col(SPLIT) == "test").height - part.height * 0.1) <= 1


def test_copies_grouped_with_source() -> None:
    df = frame(300, seed=5)
    over = Oversample(label="label", seed=1).apply(df.lazy()).collect()
    out = SplitAssign(stratify="label", copies="group", seed=4).apply(over.lazy()).collect()
    assert out.height == over.height
    roots = pl.Series(root_ids(out))
    per_root = out.with_columns(roots.alias("root")).group_by("root").agg(pl.col(SPLIT).n_unique())
    assert (per_root[SPLIT] == 1).all()


def test_augmented_rows_follow_their_source() -> None:
    df = frame(120, seed=6)
    aug = AugmentOversample(label="label", column="text", seed=2).apply(df.lazy()).collect()
    assert aug["aug_source"].drop_nulls().len() > 0
    out = SplitAssign(stratify="label", copies="group", seed=1).apply(aug.lazy()).collect()
    pairs = out.filter(pl.col("aug_source").is_not_null()).join(
        out.select(ID, pl.col(SPLIT).alias("src")), left_on="aug_source", right_on=ID
    )
    assert (pairs[SPLIT] == pairs["src"]).all()


def test_counts_and_seeds() -> None:
    df = frame(1000, seed=7)
    out = SplitAssign(counts=(600, 150, 100), seed=2).apply(df.lazy()).collect()
    assert out[SPLIT].value_counts().sort(SPLIT).rows() == [
        ("test", 100),
        ("train", 600),
        ("validation", 150),
    ]
    a = SplitAssign(stratify="label", seed=9).apply(df.lazy()).collect()
    b = SplitAssign(stratify="label", seed=9).apply(df.lazy()).collect()
    c = SplitAssign(stratify="label", seed=10).apply(df.lazy()).collect()
    assert a.equals(b)
    assert not a.equals(c)


def test_split_counts_table() -> None:
    df = frame(100, seed=8)
    out = SplitAssign(stratify="label", seed=0).apply(df.lazy()).collect()
    table = split_counts(out, "label")
    assert table.columns == ["label", "train", "validation", "test", "total"]
    assert table.row(-1) == ("total", 80, 10, 10, 100)
    no_label = split_counts(out)
    assert no_label.row(-1)[1:] == (80, 10, 10, 100)


def test_bad_ratios_say_so() -> None:
    df = frame(10)
    with pytest.raises(StepError, match="add up to 1"):
        SplitAssign(ratios=(0.5, 0.2, 0.1)).validate(df.schema)
    with pytest.raises(StepError, match="more than"):
        SplitAssign(counts=(10, 5, 5)).apply(df.lazy())
    with pytest.raises(StepError, match="No column"):
        SplitAssign(stratify="nope").validate(df.schema)
