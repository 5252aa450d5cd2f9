"""Transfer stages: planted exact, normalized and near leaks found and removed from stage 1;
train rows are not leaks; label overlap on crafted labels; files written all or nothing."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from studio.engine.errors import StepError, WriteError
from studio.engine.io import load_dataset
from studio.engine.recipe import Recipe, run_recipe
from studio.engine.steps.base import Step
from studio.engine.steps.transfer import TransferStages
from studio.engine.transfer import find_leaks, label_overlap, plan_transfer, write_transfer
from tests.transfer_fixtures import sentence
from tests.transfer_fixtures import write_jsonl as _write


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    target = []
    for i in range(30):
        split = "validation" if i < 5 else "test" if i < 10 else "train"
        target.append(
            {"text": sentence(i), "label": ["alpha", "beta", "gamma"][i % 3], "split": split}
        )
    source = [{"text": sentence(1000 + i), "label": ["alpha", "delta"][i % 2]} for i in range(40)]
    # planted: exact copy of a validation row, a normalized copy of a test row, a near copy
    # (one word changed) of a validation row, and an exact copy of a TRAIN row (not a leak)
    source.append({"text": target[1]["text"], "label": "alpha"})
    source.append({"text": target[7]["text"].upper() + "!!", "label": "alpha"})
    near = target[3]["text"].split()
    near[5] = "different"
    source.append({"text": " ".join(near), "label": "delta"})
    source.append({"text": target[20]["text"], "label": "alpha"})
    return {
        "target": _write(tmp_path / "target.jsonl", target),
        "source": _write(tmp_path / "source.jsonl", source),
    }


def test_planted_leaks_are_found_and_removed(files: dict[str, Path]) -> None:
    target = load_dataset(files["target"])
    step = TransferStages(sources=(f"{files['source']}:task=src",), seed=0)
    plan = plan_transfer(target, target.frame, step)
    assert plan.split_note == "the target's own split column"
    kinds = sorted(plan.leaks["kind"].to_list())
    assert kinds == ["exact", "near", "normalized"]
    assert sorted(plan.leaks["source"].to_list()) == [
        "source.jsonl:41",
        "source.jsonl:42",
        "source.jsonl:43",
    ]
    assert sorted(plan.leaks["eval_source"].to_list()) == [
        "target.jsonl:2",
        "target.jsonl:4",
        "target.jsonl:8",
    ]
    assert set(plan.leaks["eval_split"].to_list()) == {"validation", "test"}
    assert plan.stage1.height == 44 - 3
    # the copy of a train row stays in stage 1
    assert sentence(20) in plan.stage1["instruction"].to_list()
    # exact only finds just the exact copy
    exact = plan_transfer(
        target, target.frame, TransferStages(sources=(str(files["source"]),), check="exact")
    )
    assert exact.leaks["kind"].to_list() == ["exact"]


def test_separate_test_file_is_checked_too(files: dict[str, Path], tmp_path: Path) -> None:
    rows = [json.loads(x) for x in files["target"].read_text().splitlines()]
    test = _write(tmp_path / "test.jsonl", [{"text": sentence(1005), "label": "alpha"}])
    body = _write(
        tmp_path / "body.jsonl", [{k: v for k, v in r.items() if k != "split"} for r in rows]
    )
    target = load_dataset(body)
    step = TransferStages(sources=(str(files["source"]),), test=str(test), seed=3)
    plan = plan_transfer(target, target.frame, step)
    splits = plan.summaries[1].splits
    assert set(splits) == {"train", "validation", "test"} and splits["test"] == 1
    assert "test.jsonl:1" in plan.leaks["eval_source"].to_list()
    assert "source.jsonl:6" in plan.leaks["source"].to_list()


def test_summary_label_overlap_on_crafted_labels(files: dict[str, Path]) -> None:
    target = load_dataset(files["target"])
    plan = plan_transfer(target, target.frame, TransferStages(sources=(str(files["source"]),)))
    s1, s2 = plan.summaries
    assert s1.labels == ["alpha", "delta"] and s1.label_column == "output"
    assert s2.labels == ["alpha", "beta", "gamma"] and s2.label_column == "label"
    assert plan.overlap == {
        "shared": ["alpha"],
        "only_stage1": ["delta"],
        "only_stage2": ["beta", "gamma"],
        "jaccard": 0.25,
    }
    assert s1.tasks == ["source"] and s1.tokens > 0 and s2.tokens > 0
    assert s2.splits == {"train": 20, "validation": 5, "test": 5}
    assert label_overlap([], []) == {
        "shared": [],
        "only_stage1": [],
        "only_stage2": [],
        "jaccard": 0.0,
    }


def test_find_leaks_kernel_first_kind_wins() -> None:
    s1 = pl.DataFrame({"_id": pl.Series([10, 11, 12], dtype=pl.UInt64)})
    ev = pl.DataFrame({"_id": pl.Series([1, 2], dtype=pl.UInt64)})
    found = find_leaks(
        s1,
        pl.Series(["Hello world", "hello, WORLD", "unrelated text here"]),
        ev,
        pl.Series(["zzz", "Hello world"]),
    )
    assert found["_id"].to_list() == [10, 11]
    assert found["kind"].to_list() == ["exact", "normalized"]
    assert found["eval_index"].to_list() == [1, 1]
    with pytest.raises(StepError, match="Leak check"):
        find_leaks(s1, pl.Series(["a"] * 3), ev, pl.Series(["a", "b"]), check="fuzzy")


def test_find_leaks_ignores_rows_without_text() -> None:
    # an empty stage-1 input is not a leak of an empty evaluation input (as in studio dedup)
    s1 = pl.DataFrame({"_id": pl.Series([10, 11, 12, 13], dtype=pl.UInt64)})
    ev = pl.DataFrame({"_id": pl.Series([1, 2, 3], dtype=pl.UInt64)})
    for check in ("exact", "normalized", "near"):
        found = find_leaks(
            s1,
            pl.Series(["", None, "  ", "Hello world"]),
            ev,
            pl.Series([None, "", "Hello world"]),
            check=check,
        )
        assert found["_id"].to_list() == [13], check


def test_write_transfer_files_recipe_and_overwrite(files: dict[str, Path], tmp_path: Path) -> None:
    target = load_dataset(files["target"])
    step = TransferStages(sources=(f"{files['source']}:task=src",), seed=0)
    out = tmp_path / "stages"
    result = write_transfer(target, target.frame, step, out)
    names = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert names == [
        "leaks.jsonl",
        "stage1/train.jsonl",
        "stage2/test.jsonl",
        "stage2/train.jsonl",
        "stage2/validation.jsonl",
        "summary.json",
        "transfer.recipe.json",
    ]
    assert len((out / "stage1/train.jsonl").read_text().splitlines()) == 41
    assert len((out / "leaks.jsonl").read_text().splitlines()) == 3
    summary = json.loads((out / "summary.json").read_text())
    assert summary["leaks"] == {"removed": 3, "by_kind": {"exact": 1, "near": 1, "normalized": 1}}
    assert result.plan.summaries[0].rows == 41
    recipe = Recipe.load(out / "transfer.recipe.json")
    assert recipe.steps == [step]
    rows, _ = run_recipe(load_dataset(files["target"]).frame, recipe)
    assert rows["split"].value_counts().sort("split").rows() == [
        ("test", 5),
        ("train", 20),
        ("validation", 5),
    ]
    with pytest.raises(WriteError, match="already exists"):
        write_transfer(target, target.frame, step, out)
    write_transfer(target, target.frame, step, out, force=True)
    assert not [p for p in out.rglob(".*")]


def test_step_round_trip_and_validation(files: dict[str, Path]) -> None:
    step = TransferStages(sources=("a.jsonl:task=x", "b.jsonl"), ratios=(0.9, 0.1), check="exact")
    assert Step.from_json(json.loads(json.dumps(step.to_json()))) == step
    schema = load_dataset(files["target"]).frame.collect_schema()
    with pytest.raises(StepError, match="add up to 1"):
        TransferStages(ratios=(0.5, 0.1)).validate(schema)
    with pytest.raises(StepError, match="no such test file"):
        TransferStages(test="nope.jsonl").validate(schema)
    with pytest.raises(StepError, match="No column named 'zzz'"):
        TransferStages(stratify="zzz").validate(schema)


def test_a_cancelled_write_leaves_nothing(files: dict[str, Path], tmp_path: Path) -> None:
    from studio.engine.progress import Cancelled, RunContext, running

    target = load_dataset(files["target"])
    out = tmp_path / "stages"
    step = TransferStages(sources=(str(files["source"]),))
    plan = plan_transfer(target, target.frame, step)
    with pytest.raises(Cancelled), running(RunContext(is_cancelled=lambda: True)):
        write_transfer(target, target.frame, step, out, plan=plan)
    assert not [p for p in out.rglob("*") if p.is_file()]
