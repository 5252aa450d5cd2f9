from __future__ import annotations

import json
from collections import Counter

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from imblearn.over_sampling import RandomOverSampler
from imblearn.under_sampling import RandomUnderSampler
from imblearn.utils import check_sampling_strategy

from studio.engine.errors import StepError
from studio.engine.io import load_dataset
from studio.engine.recipe import Recipe, run_recipe
from studio.engine.steps.augment import AugmentEda
from studio.engine.steps.balance import (
    COPY_OF,
    AugmentOversample,
    CapClasses,
    Oversample,
    Undersample,
    class_counts,
    classes_of,
    imbalance_ratio,
    parse_target,
    sampling_strategy,
)
from studio.engine.steps.base import ID, Step
from studio.engine.steps.split import SplitAssign
from studio.engine.workspace import Workspace


def frame(labels: list, **extra: list) -> pl.DataFrame:
    n = len(labels)
    return pl.DataFrame(
        {
            ID: pl.Series(range(n), dtype=pl.UInt64),
            "text": [f"row {i} says hello to the world number {i}" for i in range(n)],
            "label": labels,
            **extra,
        }
    )


def imbalanced(seed: int = 0, n: int = 500, classes=("a", "b", "c", "d")) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    shares = np.array([0.7, 0.2, 0.08, 0.02])[: len(classes)]
    labels = rng.choice(list(classes), size=n, p=shares / shares.sum()).tolist()
    return frame(labels)


def counts_of(df: pl.DataFrame, col: str = "label") -> dict:
    return dict(Counter(df[col].to_list()))


def imblearn_counts(df: pl.DataFrame, sampler) -> dict:  # noqa: ANN001
    x = np.arange(df.height).reshape(-1, 1)
    _, y = sampler.fit_resample(x, df["label"].to_numpy())
    return {k: int(v) for k, v in Counter(y.tolist()).items()}


STRING_TARGETS = ["auto", "all", "not minority", "not majority"]


@pytest.mark.parametrize("target", [*STRING_TARGETS, "minority"])
def test_oversampling_counts_match_imbalanced_learn(target: str) -> None:
    df = imbalanced(1)
    ours = Oversample(label="label", target=target, seed=3).apply(df.lazy()).collect()
    peer = imblearn_counts(df, RandomOverSampler(sampling_strategy=target, random_state=3))
    assert counts_of(ours) == peer


@pytest.mark.parametrize("target", [*STRING_TARGETS, "majority"])
def test_undersampling_counts_match_imbalanced_learn(target: str) -> None:
    df = imbalanced(2)
    ours = Undersample(label="label", target=target, seed=3).apply(df.lazy()).collect()
    peer = imblearn_counts(df, RandomUnderSampler(sampling_strategy=target, random_state=3))
    assert counts_of(ours) == peer


def test_dict_and_ratio_targets_match_imbalanced_learn() -> None:
    df = imbalanced(3)
    have = counts_of(df)
    over = {"c": have["c"] + 17, "d": have["a"]}
    ours = Oversample(target=",".join(f"{k}={v}" for k, v in over.items())).apply(df.lazy())
    peer = imblearn_counts(df, RandomOverSampler(sampling_strategy=over, random_state=0))
    assert counts_of(ours.collect()) == peer
    under = {"a": 40, "b": have["b"]}
    ours = Undersample(target="a=40,b=" + str(have["b"])).apply(df.lazy()).collect()
    assert counts_of(ours) == imblearn_counts(
        df, RandomUnderSampler(sampling_strategy=under, random_state=0)
    )
    binary = imbalanced(4, classes=("neg", "pos"))
    for ratio in (0.5, 0.75, 1.0):
        ours = Oversample(target=str(ratio)).apply(binary.lazy()).collect()
        peer = imblearn_counts(binary, RandomOverSampler(sampling_strategy=ratio))
        assert counts_of(ours) == peer
        ours = Undersample(target=str(ratio)).apply(binary.lazy()).collect()
        assert counts_of(ours) == imblearn_counts(
            binary, RandomUnderSampler(sampling_strategy=ratio)
        )


@settings(max_examples=150, deadline=None)
@given(
    counts=st.lists(st.integers(1, 60), min_size=2, max_size=5),
    target=st.sampled_from([*STRING_TARGETS, "minority", "majority", 0.3, 0.9, "dict"]),
    kind=st.sampled_from(["over", "under"]),
)
def test_targets_equal_check_sampling_strategy(counts: list[int], target, kind: str) -> None:  # noqa: ANN001
    keys = [f"k{i}" for i in range(len(counts))]
    y = np.repeat(np.array(keys, dtype=object), counts)
    stats = dict(zip(keys, counts, strict=True))
    if target == "dict":
        target = {keys[0]: counts[0] + 5} if kind == "over" else {keys[0]: counts[0] // 2}
    sampling = "over-sampling" if kind == "over" else "under-sampling"
    try:
        expected = dict(check_sampling_strategy(target, y, sampling))
    except ValueError:
        with pytest.raises(StepError):
            sampling_strategy(stats, parse_target(target), kind)  # type: ignore[arg-type]
        return
    assert sampling_strategy(stats, parse_target(target), kind) == expected  # type: ignore[arg-type]


def test_every_copy_is_marked_and_points_to_an_identical_row() -> None:
    df = imbalanced(5)
    out = Oversample(seed=9).apply(df.lazy()).collect()
    assert out[ID].n_unique() == out.height
    originals = out.filter(pl.col(COPY_OF).is_null())
    copies = out.filter(pl.col(COPY_OF).is_not_null())
    assert originals.drop(COPY_OF).equals(df)
    assert copies.height == out.height - df.height > 0
    assert copies[ID].min() > df[ID].max()
    joined = copies.join(df, left_on=COPY_OF, right_on=ID, suffix="_src")
    assert joined.height == copies.height
    assert (joined["text"] == joined["text_src"]).all()
    assert (joined["label"] == joined["label_src"]).all()
    # oversampling again: a copy of a copy still names the original row
    again = Oversample(target="c=" + str(counts_of(out)["c"] + 50), seed=1).apply(out.lazy())
    again = again.collect().filter(pl.col(COPY_OF).is_not_null())
    assert set(again[COPY_OF].to_list()) <= set(df[ID].to_list())


def test_seeded_runs_repeat_and_seeds_differ() -> None:
    df = imbalanced(6)
    for step in (Oversample(seed=4), Undersample(seed=4), CapClasses(max_rows=30, seed=4)):
        a = step.apply(df.lazy()).collect()
        b = step.apply(df.lazy()).collect()
        assert a.equals(b)
    a = Undersample(seed=1).apply(df.lazy()).collect()
    b = Undersample(seed=2).apply(df.lazy()).collect()
    assert not a.equals(b)


def test_undersampling_keeps_row_order_and_rows_unchanged() -> None:
    df = imbalanced(7)
    out = Undersample(seed=0).apply(df.lazy()).collect()
    assert out[ID].is_sorted()
    assert out.join(df, on=ID).select((pl.col("text") == pl.col("text_right")).all()).item()


def test_preview_plan_equals_applied_counts() -> None:
    df = imbalanced(8)
    counts = classes_of(df["label"]).count_map()
    steps: list = [
        Oversample(target="auto"),
        Oversample(target="all"),
        Undersample(target="not majority"),
        Undersample(target="a=50"),
        CapClasses(max_rows=40),
        CapClasses(max_rows=100, per_class="b=10"),
    ]
    for step in steps:
        out = step.apply(df.lazy()).collect()
        assert step.plan(counts) == counts_of(out), step.describe()


def test_cap_limits_each_class() -> None:
    df = imbalanced(9)
    out = CapClasses(max_rows=30, per_class="d=2").apply(df.lazy()).collect()
    got = counts_of(out)
    have = counts_of(df)
    assert got["d"] == min(2, have["d"])
    assert all(got[k] == min(30, have[k]) for k in ("a", "b", "c"))


def test_null_labels_are_kept_untouched() -> None:
    df = frame(["a", "a", "a", None, "b"])
    over = Oversample().apply(df.lazy()).collect()
    assert counts_of(over) == {"a": 3, "b": 3, None: 1}
    under = Undersample().apply(df.lazy()).collect()
    assert counts_of(under) == {"a": 1, "b": 1, None: 1}


def test_integer_labels_and_keys_by_text() -> None:
    df = frame([0, 0, 0, 0, 1, 1, 2])
    out = Oversample(target="1=4,2=3").apply(df.lazy()).collect()
    assert counts_of(out) == {0: 4, 1: 4, 2: 3}


def test_bad_targets_say_so() -> None:
    df = imbalanced(10)
    with pytest.raises(StepError, match="not in the data"):
        Oversample(target="zzz=5").apply(df.lazy())
    with pytest.raises(StepError, match="cannot shrink"):
        Oversample(target="a=1").apply(df.lazy())
    with pytest.raises(StepError, match="two classes"):
        Oversample(target="0.5").apply(df.lazy())
    with pytest.raises(StepError, match="Unknown target"):
        parse_target("lots")
    with pytest.raises(StepError, match="No column"):
        Oversample(label="nope").validate(df.schema)


def test_class_counts_and_ratio() -> None:
    df = frame(["a"] * 6 + ["b"] * 2)
    table = class_counts(df, "label")
    assert table["label"].to_list() == ["a", "b"]
    assert table["count"].to_list() == [6, 2]
    assert table["share"].to_list() == [0.75, 0.25]
    assert imbalance_ratio({"a": 6, "b": 2}) == 3


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    labels=st.lists(st.sampled_from(["x", "y", "z", "w"]), min_size=2, max_size=60),
    kind=st.sampled_from(["over", "under", "cap"]),
    seed=st.integers(0, 1000),
)
def test_balance_keeps_every_label(labels: list[str], kind: str, seed: int) -> None:
    df = frame(labels)
    if len(set(labels)) < 2:
        with pytest.raises(StepError):
            Oversample(seed=seed).apply(df.lazy())
        return
    step: Step = {
        "over": Oversample(seed=seed),
        "under": Undersample(seed=seed),
        "cap": CapClasses(max_rows=3, seed=seed),
    }[kind]
    out = step.apply(df.lazy()).collect()
    assert set(out["label"].to_list()) == set(labels)
    assert out[ID].n_unique() == out.height


def test_augment_oversampling_reaches_target_with_provenance() -> None:
    labels = ["big"] * 12 + ["small"] * 3
    df = frame(labels)
    step = AugmentOversample(label="label", target="auto", column="text", seed=2)
    report = step.run(df.lazy())
    out = report.frame
    assert counts_of(out) == {"big": 12, "small": 12}
    new = out.filter(pl.col("aug_source").is_not_null())
    assert new.height == 9
    assert set(new["aug_source"].to_list()) <= set(df.filter(pl.col("label") == "small")[ID])
    assert new["aug_method"].str.starts_with("eda.").all()
    assert new["aug_similarity"].is_between(step.min_similarity, step.max_similarity).all()
    assert not new["text"].is_in(df["text"].implode()).any()
    assert (
        out.head(df.height)
        .drop("aug_method", "aug_source", "aug_similarity", "aug_model")
        .equals(df)
    )
    assert step.apply(df.lazy()).collect().equals(out)


def test_replay_from_saved_recipe_gives_the_same_rows(write_file, tmp_path) -> None:  # noqa: ANN001
    rows = [
        {"text": f"item {i} with several words here", "label": "a" if i % 4 else "b"}
        for i in range(40)
    ]
    path = write_file("d.jsonl", "\n".join(json.dumps(r) for r in rows) + "\n")
    dataset = load_dataset(path)
    ws = Workspace(dataset)
    ws.apply(Oversample(label="label", seed=5))
    ws.apply(Undersample(label="label", target="a=25,b=25", seed=6))
    ws.apply(AugmentOversample(label="label", target="a=30,b=30", column="text", seed=7))
    ws.apply(AugmentEda(column="text", label="label", only_labels=("b",), per_row=2, seed=8))
    ws.apply(SplitAssign(ratios=(0.6, 0.2, 0.2), stratify="label", copies="group", seed=9))
    live = ws.frame.collect()
    recipe_path = tmp_path / "r.recipe.json"
    ws.recipe().save(recipe_path)
    replayed, _ = run_recipe(load_dataset(path).frame, Recipe.load(recipe_path))
    assert replayed.equals(live)
    assert counts_of(live)["a"] == 30 and counts_of(live)["b"] > 30
    assert set(live["split"].to_list()) == {"train", "validation", "test"}
