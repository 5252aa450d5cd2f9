from __future__ import annotations

import json

import polars as pl
import pytest

from studio.engine.errors import RecipeError
from studio.engine.io import load_dataset
from studio.engine.recipe import Recipe, run_recipe
from studio.engine.steps.base import ID, REGISTRY, Step, load_all_steps
from studio.engine.steps.rows import DropColumns, DropRows, KeepRows, RenameColumn, Sort
from studio.engine.workspace import Workspace

ROWS = [
    {"text": "gamma", "label": "b", "n": 3},
    {"text": "alpha", "label": "a", "n": 1},
    {"text": "beta", "label": "a", "n": 2},
    {"text": "delta", "label": "b", "n": 4},
]


@pytest.fixture
def dataset(write_file):  # noqa: ANN001, ANN201
    path = write_file("d.jsonl", "\n".join(json.dumps(r) for r in ROWS) + "\n")
    return load_dataset(path)


def test_every_registered_step_round_trips_through_json() -> None:
    load_all_steps()
    assert "rows.keep" in REGISTRY and "rows.sort" in REGISTRY
    for name, cls in REGISTRY.items():
        step = cls()
        data = json.loads(json.dumps(step.to_json()))
        assert data["step"] == name
        assert Step.from_json(data) == step


def test_steps_apply_and_replay_equal(dataset, tmp_path) -> None:  # noqa: ANN001
    ws = Workspace(dataset)
    ws.apply(DropRows(ids=(1,), reason="bad"))
    ws.apply(Sort(columns=("n",), descending=(True,)))
    ws.apply(RenameColumn(old="text", new="body"))
    ws.apply(DropColumns(columns=("n",)))
    live = ws.frame.collect()
    assert live.columns == [ID, "body", "label"]
    assert live["body"].to_list() == ["delta", "gamma", "beta"]
    path = tmp_path / "r.recipe.json"
    ws.recipe().save(path)
    replayed, results = run_recipe(dataset.frame, Recipe.load(path))
    assert replayed.equals(live)
    assert [(r.rows_in, r.rows_out) for r in results] == [(4, 3), (3, 3), (3, 3), (3, 3)]


def test_keep_marked_rows(dataset) -> None:  # noqa: ANN001
    out, results = run_recipe(dataset.frame, Recipe(steps=[KeepRows(ids=(0, 3))]))
    assert out["text"].to_list() == ["gamma", "delta"]
    assert results[0].removed[ID].to_list() == [1, 2]


def test_undo_redo_and_restore(dataset) -> None:  # noqa: ANN001
    ws = Workspace(dataset)
    ws.apply(DropRows(ids=(0, 2), reason="noise"))
    ws.apply(Sort(columns=("text",)))
    assert ws.rows == 2
    removed = ws.removed()
    assert removed["reason"].to_list() == ["noise", "noise"]
    assert removed["source"].to_list() == ["d.jsonl:1", "d.jsonl:3"]
    ws.restore(0, [2])
    assert ws.frame.collect()["text"].to_list() == ["alpha", "beta", "delta"]
    assert ws.undo() is not None
    assert ws.rows == 3
    ws.undo()
    assert ws.rows == 4 and not ws.can_undo
    ws.redo()
    ws.redo()
    assert ws.frame.collect()["text"].to_list() == ["alpha", "beta", "delta"]
    recipe = Recipe.from_json(ws.recipe().to_json())
    assert recipe.restored == {0: (2,)}
    out, _ = run_recipe(dataset.frame, recipe)
    assert out["text"].to_list() == ["alpha", "beta", "delta"]


def test_bad_recipes_are_reported() -> None:
    with pytest.raises(RecipeError, match="Unknown step"):
        Recipe.from_json({"steps": [{"step": "no.such"}]})
    with pytest.raises(RecipeError, match="unknown parameters"):
        Recipe.from_json({"steps": [{"step": "rows.sort", "colums": ["x"]}]})
    with pytest.raises(RecipeError, match="Not a Dataset Studio recipe"):
        Recipe.from_json([1, 2])


def test_unknown_column_is_a_step_error(dataset) -> None:  # noqa: ANN001
    from studio.engine.errors import StepError

    ws = Workspace(dataset)
    with pytest.raises(StepError, match="No column named 'nope'"):
        ws.apply(Sort(columns=("nope",)))
    assert ws.rows == 4 and not ws.steps


def test_journal_resume(dataset) -> None:  # noqa: ANN001
    from studio.engine.journal import Journal

    ws = Workspace(dataset, journal=Journal(dataset.paths))
    ws.apply(DropRows(ids=(3,)))
    pending = Journal(dataset.paths).pending()
    assert pending is not None and pending.steps == [DropRows(ids=(3,))]
    fresh = Workspace(dataset)
    fresh.replay(pending)
    assert fresh.frame.collect().equals(ws.frame.collect())
    assert isinstance(pl.DataFrame(), pl.DataFrame)


def test_removed_rows_keep_input_order_with_their_reasons() -> None:
    # the plain definition: the input rows missing from the output, in input order, each with
    # the reason its step gave (ids shuffled so that id order is not input order)
    import numpy as np

    from studio.engine.recipe import apply_step
    from studio.engine.steps.dedup import DedupExact

    rng = np.random.default_rng(3)
    n = 3_000
    texts = [f"t{i}" for i in rng.integers(0, n // 3, n)]
    frame = pl.DataFrame({ID: pl.Series(rng.permutation(n), dtype=pl.UInt64), "text": texts})
    out, result = apply_step(frame.lazy(), DedupExact(columns=("text",)))
    kept = set(out[ID].to_list())
    assert result.removed[ID].to_list() == [i for i in frame[ID].to_list() if i not in kept]
    first = {}
    for i, text in zip(frame[ID].to_list(), texts, strict=True):
        first.setdefault(text, i)
    by_id = dict(zip(frame[ID].to_list(), texts, strict=True))
    assert all(
        reason == f"exact duplicate of row {first[by_id[i]]}"
        for i, reason in result.removed.iter_rows()
    )
