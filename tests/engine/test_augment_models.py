from __future__ import annotations

import json

import polars as pl
import pytest

from studio.engine.errors import StepError
from studio.engine.io import load_dataset
from studio.engine.recipe import Recipe, run_recipe
from studio.engine.steps.augment_models import AugmentModel
from studio.engine.steps.base import ID
from tests.tiny_models import SENTENCES, tiny_marian, tiny_t5


@pytest.fixture(scope="module")
def models(tmp_path_factory):  # noqa: ANN001, ANN201
    root = tmp_path_factory.mktemp("models")
    return {
        "t5": str(tiny_t5(root / "t5")),
        "en-xx": str(tiny_marian(root / "m1", 1)),
        "xx-en": str(tiny_marian(root / "m2", 2)),
    }


@pytest.fixture
def data(tmp_path):  # noqa: ANN001, ANN201
    rows = [{"text": s, "label": "a" if i < 6 else "b"} for i, s in enumerate(SENTENCES)]
    path = tmp_path / "d.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return load_dataset(path)


def test_paraphrase_adds_rows_with_provenance_and_keeps_originals(models, data) -> None:  # noqa: ANN001
    step = AugmentModel(
        method="paraphrase",
        model=models["t5"],
        column="text",
        per_row=2,
        min_similarity=0,
        max_new_tokens=12,
        seed=3,
    )
    report = step.run(data.frame)
    out = report.frame
    originals = out.head(data.rows)
    assert originals.select(ID, "text", "label").equals(
        data.frame.collect().select(ID, "text", "label")
    )
    new = out.slice(data.rows)
    assert new.height == report.added > 0
    assert set(new["aug_method"].to_list()) == {f"paraphrase:{models['t5']}"}
    assert set(new["aug_source"].to_list()) <= set(range(data.rows))
    assert new[ID].min() >= data.rows and new[ID].n_unique() == new.height
    assert new["aug_similarity"].is_between(0, 100).all()
    # seeded: the same rows again
    assert step.run(data.frame).frame.equals(out)


def test_backtranslation_through_two_models(models, data) -> None:  # noqa: ANN001
    step = AugmentModel(
        method="backtranslate",
        model=models["en-xx"],
        pivot_model=models["xx-en"],
        column="text",
        min_similarity=0,
        max_new_tokens=10,
    )
    report = step.run(data.frame)
    assert report.added > 0
    assert report.frame.slice(data.rows)["aug_method"][0].startswith("backtranslate:")


def test_too_close_variants_are_dropped(models, data) -> None:  # noqa: ANN001
    step = AugmentModel(
        method="paraphrase",
        model=models["t5"],
        column="text",
        min_similarity=99,
        max_similarity=100,
        max_new_tokens=8,
    )
    report = step.run(data.frame)
    assert report.added == 0
    assert (
        report.dropped["too far"]
        + report.dropped["identical"]
        + report.dropped["no change possible"]
        + report.dropped["duplicate"]
        == report.tried
    )


def test_scope_chosen_rows_classes_and_max_sources(models, data) -> None:  # noqa: ANN001
    base = dict(
        method="paraphrase", model=models["t5"], column="text", min_similarity=0, max_new_tokens=8
    )
    only = AugmentModel(**base, only_ids=(1, 2)).run(data.frame)
    assert set(only.frame.slice(data.rows)["aug_source"].to_list()) <= {1, 2}
    cls = AugmentModel(**base, label="label", only_labels=("b",)).run(data.frame)
    assert set(cls.frame.slice(data.rows)["label"].to_list()) == {"b"}
    first = AugmentModel(**base, max_sources=3).run(data.frame)
    assert set(first.frame.slice(data.rows)["aug_source"].to_list()) <= {0, 1, 2}


def test_target_count_grows_the_minority(models, data) -> None:  # noqa: ANN001
    step = AugmentModel(
        method="paraphrase",
        model=models["t5"],
        column="text",
        label="label",
        target_count=5,
        min_similarity=0,
        max_new_tokens=8,
        per_row=1,
    )
    out = step.run(data.frame).frame
    counts = dict(out.group_by("label").len().iter_rows())
    assert counts["a"] == 6 and 2 < counts["b"] <= 5


def test_replay_headless_gives_the_same_rows(models, data, tmp_path) -> None:  # noqa: ANN001
    step = AugmentModel(
        method="paraphrase",
        model=models["t5"],
        column="text",
        min_similarity=0,
        max_new_tokens=8,
        seed=9,
    )
    path = tmp_path / "r.recipe.json"
    Recipe(steps=[step]).save(path)
    first, _ = run_recipe(data.frame, Recipe.load(path))
    second, _ = run_recipe(data.frame, Recipe.load(path))
    assert first.equals(second) and first.height > data.rows


def test_missing_model_gets_one_clear_sentence(data) -> None:  # noqa: ANN001
    step = AugmentModel(method="paraphrase", model="no-such-org/no-such-model", column="text")
    with pytest.raises(StepError, match="huggingface-cli download no-such-org/no-such-model"):
        step.run(data.frame)
    with pytest.raises(StepError, match="two models"):
        AugmentModel(method="backtranslate", model="x", column="text").run(data.frame)
    assert isinstance(pl.DataFrame(), pl.DataFrame)


def test_cancel_stops_and_kept_rows_replay_with_max_sources(models, tmp_path) -> None:  # noqa: ANN001
    from dataclasses import replace

    from studio.engine.progress import Cancelled, RunContext, running

    rows = [{"text": f"{SENTENCES[i % 8]} number {i}"} for i in range(200)]
    path = tmp_path / "many.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    ds = load_dataset(path)
    step = AugmentModel(
        method="paraphrase",
        model=models["t5"],
        column="text",
        min_similarity=0,
        max_new_tokens=6,
        batch_size=8,
    )
    seen: list[float] = []

    def progress(done: float, total: float, note: str) -> None:
        seen.append(done)

    with (
        pytest.raises(Cancelled),
        running(RunContext(on_progress=progress, is_cancelled=lambda: bool(seen), min_interval=0)),
    ):
        step.run(ds.frame)
    done = int(seen[0])
    assert 0 < done < 200
    kept = replace(step, max_sources=done).run(ds.frame)
    assert set(kept.frame.slice(200)["aug_source"].to_list()) <= set(range(done))
    assert kept.frame.head(200).select(ID, "text").equals(ds.frame.collect().select(ID, "text"))
