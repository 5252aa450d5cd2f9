"""Multi-task mixtures: each rule's counts against its formula, seeded sampling, repeats, leaks."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from studio.engine.errors import StepError, StudioError
from studio.engine.mix import (
    cross_task_duplicates,
    largest_remainder,
    parse_weights,
    plan_mixture,
    preview,
)
from studio.engine.recipe import Recipe, apply_step, run_recipe
from studio.engine.steps.base import ID, Step
from studio.engine.steps.mix import DedupAcross, MixTasks

SIZES = {"big": 10_000, "mid": 1_000, "small": 100, "tiny": 7}


def frame_of(sizes: dict[str, int]) -> pl.DataFrame:
    tasks = [t for t, n in sizes.items() for _ in range(n)]
    return pl.DataFrame(
        {
            ID: np.arange(len(tasks), dtype=np.uint64),
            "instruction": [f"{t} question {i}" for i, t in enumerate(tasks)],
            "output": [f"answer {i} " + "x" * (len(t) * 4) for i, t in enumerate(tasks)],
            "task": tasks,
        }
    )


def counts_of(df: pl.DataFrame) -> dict[str, int]:
    return {k: v for k, v in df.group_by("task").len().iter_rows()}


def test_largest_remainder_sums_and_rounds() -> None:
    out = largest_remainder({"a": 1.5, "b": 1.5, "c": 7.0}, 10)
    assert sum(out.values()) == 10
    assert out["c"] == 7 and sorted([out["a"], out["b"]]) == [1, 2]


@given(
    st.lists(st.integers(1, 5000), min_size=1, max_size=8),
    st.integers(1, 20_000),
)
@settings(max_examples=60, deadline=None)
def test_rate_rules_within_one_row(sizes: list[int], total: int) -> None:
    named = {f"t{i}": n for i, n in enumerate(sizes)}
    for rule, kwargs in (
        ("proportional", {"cap": 300}),
        ("temperature", {"temperature": 2.5}),
        ("percent", {"weights": {t: i + 1.0 for i, t in enumerate(named)}}),
    ):
        plan = plan_mixture(named, rule, total=total, max_repeat=1e6, **kwargs)
        assert sum(plan.targets.values()) == total
        for t in named:
            assert abs(plan.targets[t] - plan.quotas[t]) <= 1


def test_proportional_with_cap_is_t5() -> None:
    plan = plan_mixture(SIZES, "proportional", cap=500)
    assert plan.targets == {"big": 500, "mid": 500, "small": 100, "tiny": 7}
    s = 500 + 500 + 100 + 7
    plan = plan_mixture(SIZES, "proportional", cap=500, total=2000, max_repeat=10)
    for t, n in SIZES.items():
        assert abs(plan.targets[t] - 2000 * min(n, 500) / s) <= 1


def test_temperature_formula() -> None:
    t = 3.0
    plan = plan_mixture(SIZES, "temperature", temperature=t, total=5000, max_repeat=100)
    z = sum(n ** (1 / t) for n in SIZES.values())
    for task, n in SIZES.items():
        assert abs(plan.targets[task] - 5000 * n ** (1 / t) / z) <= 1
    assert sum(plan.targets.values()) == 5000


def test_default_total_respects_max_repeat() -> None:
    plan = plan_mixture(SIZES, "temperature", temperature=2.0, max_repeat=2.0)
    for task, n in SIZES.items():
        assert plan.targets[task] <= 2 * n
    # the binding task is used to its limit (within rounding)
    assert any(plan.targets[t] >= 2 * n - 1 for t, n in SIZES.items())
    assert not plan.limited


def test_percent_and_counts() -> None:
    plan = plan_mixture({"a": 1000, "b": 1000}, "percent", weights=parse_weights("a=70,b=30"))
    assert plan.targets == {"a": 1000, "b": 428}  # total floor(1000 / 0.7) = 1428
    plan = plan_mixture({"a": 100, "b": 50}, "counts", counts={"a": 10, "b": 80}, max_repeat=1)
    assert plan.targets == {"a": 10, "b": 50}
    assert plan.limited == ["b"]
    with pytest.raises(StepError, match="No task named"):
        plan_mixture({"a": 1}, "counts", counts={"zz": 1})


def test_parse_weights_errors() -> None:
    assert parse_weights("qa=0.5,summarize=0.5") == {"qa": 0.5, "summarize": 0.5}
    with pytest.raises(StudioError):
        parse_weights("qa")
    with pytest.raises(StudioError):
        parse_weights("qa=-1")


@pytest.mark.parametrize(
    "step",
    [
        MixTasks(rule="proportional", cap=400, seed=3),
        MixTasks(rule="temperature", temperature=2.0, max_repeat=3.0, seed=3),
        MixTasks(rule="percent", weights=(("big", 1.0), ("tiny", 1.0)), max_repeat=5, seed=1),
        MixTasks(rule="counts", counts=(("big", 50), ("tiny", 20)), max_repeat=3, seed=1),
    ],
)
def test_step_counts_match_plan(step: MixTasks) -> None:
    df = frame_of(SIZES)
    plan = step.plan(df)
    out, result = apply_step(df.lazy(), step)
    got = counts_of(out)
    for task, want in plan.targets.items():
        assert got.get(task, 0) == want
    assert out[ID].n_unique() == out.height
    assert result.rows_out == out.height


def test_seeded_and_repeats_marked() -> None:
    df = frame_of(SIZES)
    step = MixTasks(rule="counts", counts=(("tiny", 17), ("small", 30)), max_repeat=5, seed=7)
    a, _ = apply_step(df.lazy(), step)
    b, _ = apply_step(df.lazy(), step)
    assert a.equals(b)
    c, _ = apply_step(df.lazy(), MixTasks(**{**step.params(), "seed": 8}))
    assert not a.equals(c)
    tiny = a.filter(pl.col("task") == "tiny")
    assert tiny.height == 17
    originals = tiny.filter(pl.col("copy_of").is_null())
    copies = tiny.filter(pl.col("copy_of").is_not_null())
    assert originals.height == 7 and copies.height == 10
    # every tiny row at least once, none more than twice beyond (17 = 2 * 7 + 3)
    per = copies.group_by("copy_of").len()["len"]
    assert per.max() <= 2
    assert set(copies["copy_of"].to_list()) <= set(originals[ID].to_list())
    # fresh ids after the largest input id
    assert copies[ID].min() > df[ID].max()


def test_mixture_is_kept_rows_then_copies_and_removed_rows_in_order() -> None:
    # the plain definition: the kept originals in input order, then copies equal to their
    # original in every column but `_id` and `copy_of`; removed rows are the input rows missing
    # from the output, in input order; a second mix points copies of copies at the original
    df = frame_of(SIZES)
    counts = (("big", 50), ("mid", 1_000), ("small", 130), ("tiny", 17))
    out, result = apply_step(df.lazy(), MixTasks(rule="counts", counts=counts, max_repeat=5))
    originals = out.filter(pl.col("copy_of").is_null())
    assert out.head(originals.height).equals(originals)
    assert originals[ID].to_list() == sorted(originals[ID].to_list())
    copies = out.filter(pl.col("copy_of").is_not_null()).join(
        df, left_on="copy_of", right_on=ID, suffix="_source"
    )
    assert copies.height == out.height - originals.height == 30 + 10
    for column in ("instruction", "output", "task"):
        assert copies[column].to_list() == copies[f"{column}_source"].to_list()
    kept = set(out[ID].to_list())
    assert result.removed[ID].to_list() == [i for i in df[ID].to_list() if i not in kept]
    assert result.removed.height == 10_000 - 50

    again, _ = apply_step(out.lazy(), MixTasks(rule="counts", counts=(("tiny", 40),), max_repeat=9))
    assert again.schema["copy_of"] == pl.UInt64
    tiny_ids = set(df.filter(pl.col("task") == "tiny")[ID].to_list())
    assert set(again.filter(pl.col("copy_of").is_not_null())["copy_of"].to_list()) <= tiny_ids


def test_json_round_trip() -> None:
    step = MixTasks(rule="percent", weights=(("a", 0.5), ("b", 0.5)), total=10, seed=2)
    assert Step.from_json(step.to_json()) == step
    recipe = Recipe.from_json(Recipe(steps=[step, DedupAcross(method="near")]).to_json())
    assert recipe.steps[0] == step


def test_preview_shares() -> None:
    df = frame_of(SIZES)
    step = MixTasks(rule="proportional", cap=500)
    pre = preview(df.lazy(), step.plan(df))
    assert pre.estimated and "estimate" in pre.tokens_label
    assert pre.rows_out == 1107
    assert math.isclose(sum(t.share_rows for t in pre.tasks), 1.0)
    assert math.isclose(sum(t.share_tokens for t in pre.tasks), 1.0)
    by = {t.task: t for t in pre.tasks}
    assert by["tiny"].epochs == 1.0 and by["big"].epochs == 0.05
    # longer outputs per row (longer task names here) weigh more in tokens than in rows
    assert (
        by["small"].share_tokens / by["small"].share_rows
        > by["big"].share_tokens / by["big"].share_rows
    )
    assert any("rows in" in line for line in pre.lines())


def test_preview_with_tokenizer(tmp_path) -> None:  # noqa: ANN001
    from tests.tokens_fixtures import build_tokenizer

    path = build_tokenizer(tmp_path / "tok")
    df = frame_of({"a": 20, "b": 10})
    pre = preview(df.lazy(), MixTasks().plan(df), tokenizer=str(path))
    assert not pre.estimated
    assert pre.tokens_out > 0


def planted() -> pl.DataFrame:
    return pl.DataFrame(
        {
            ID: np.arange(8, dtype=np.uint64),
            "instruction": [
                "What is the capital of France?",
                "Summarise the report about rivers",
                "Translate hello",
                "What is the capital of France?",  # exact leak qa -> sum
                "what is the capital of france",  # normalized leak
                "Unique one",
                "Translate hello",  # duplicate inside the same task: kept
                "Summarise the report about rivers and lakes",
            ],
            "output": ["Paris", "x", "bonjour", "Paris", "Paris", "y", "bonjour", "x"],
            "task": ["qa", "qa", "tr", "sum", "sum", "sum", "tr", "sum"],
        }
    )


def test_cross_task_leaks_found() -> None:
    df = planted()
    exact = cross_task_duplicates(df, method="exact")
    assert exact[ID].to_list() == [3]
    assert exact["dup_of"].to_list() == [0] and exact["dup_task"].to_list() == ["qa"]
    norm = cross_task_duplicates(df, method="normalized", fields=("instruction",))
    assert norm[ID].to_list() == [3, 4]


def test_cross_task_rows_without_text_are_not_leaks() -> None:
    df = pl.DataFrame(
        {
            ID: np.arange(4, dtype=np.uint64),
            "instruction": ["", " ", "same", "same"],
            "task": ["a", "b", "a", "b"],
        }
    )
    for method in ("exact", "normalized"):
        found = cross_task_duplicates(df, method=method, fields=("instruction",))
        assert found[ID].to_list() == [3], method


def test_dedup_across_step_reasons() -> None:
    df = planted()
    out, result = apply_step(df.lazy(), DedupAcross(method="normalized", fields=("instruction",)))
    assert 6 in out[ID].to_list()  # same-task duplicate stays
    assert sorted(result.removed[ID].to_list()) == [3, 4]
    assert "in task qa" in result.removed["reason"][0]


def test_dedup_across_near() -> None:
    base = "the quick brown fox jumps over the lazy dog near the river bank today"
    df = pl.DataFrame(
        {
            ID: np.arange(3, dtype=np.uint64),
            "instruction": [base, base + " again", "completely different words here for sure"],
            "task": ["a", "b", "b"],
        }
    )
    out, _ = run_recipe(df.lazy(), Recipe(steps=[DedupAcross(method="near")]))
    assert out[ID].to_list() == [0, 2]


def test_a_mixture_that_changes_nothing_says_so() -> None:
    from studio.engine.mix import plan_mixture, preview_from

    sizes = {"qa": 30, "sum": 10}
    same = preview_from(plan_mixture(sizes, "proportional"), {}, "x", True)
    assert any(n.startswith("every task keeps its rows") for n in same.notes)
    capped = preview_from(plan_mixture(sizes, "proportional", cap=20), {}, "x", True)
    assert not any(n.startswith("every task keeps its rows") for n in capped.notes)


def test_weights_and_counts_reject_what_they_would_silently_change() -> None:
    from studio.engine.errors import StudioError
    from studio.engine.mix import parse_counts, parse_weights

    with pytest.raises(StudioError, match="'qa' is named twice"):
        parse_weights("qa=1,qa=2,sum=1")
    with pytest.raises(StudioError, match="finite"):
        parse_weights("qa=inf")
    with pytest.raises(StudioError, match="whole number of rows"):
        parse_counts("qa=1.5,sum=2")
    with pytest.raises(StudioError, match="not a percentage"):
        parse_counts("qa=20%,sum=3")
    assert parse_counts("qa=100, sum=3") == {"qa": 100, "sum": 3}
    assert parse_weights("qa=70%,sum=30%") == {"qa": 70.0, "sum": 30.0}
