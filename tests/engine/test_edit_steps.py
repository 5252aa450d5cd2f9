from __future__ import annotations

import json

import pytest

from studio.engine.errors import StepError
from studio.engine.io import load_dataset
from studio.engine.recipe import Recipe, apply_step, run_recipe
from studio.engine.steps.edit import (
    EditCell,
    Replace,
    TagRows,
    replace_preview,
    replacement_for_polars,
)
from studio.engine.workspace import Workspace

ROWS = [
    {"text": "call 555-1234 now", "n": 1},
    {"text": "no number here", "n": 2},
    {"text": "Price: $5, call 555-9876", "n": 3},
]


@pytest.fixture
def dataset(write_file):  # noqa: ANN001, ANN201
    path = write_file("d.jsonl", "\n".join(json.dumps(r) for r in ROWS) + "\n")
    return load_dataset(path)


def test_tag_rows_then_undo(dataset) -> None:  # noqa: ANN001
    ws = Workspace(dataset)
    ws.apply(TagRows(ids=(0, 2), tag="review"))
    ws.apply(TagRows(ids=(2,), tag="bad"))
    assert ws.frame.collect()["tag"].to_list() == ["review", None, "bad"]
    ws.apply(TagRows(ids=(0,), tag=""))
    assert ws.frame.collect()["tag"].to_list() == [None, None, "bad"]
    ws.undo()
    ws.undo()
    assert ws.frame.collect()["tag"].to_list() == ["review", None, "review"]
    assert TagRows(ids=(0, 2), tag="bad").describe() == "tag 2 rows as 'bad'"


def test_edit_cell_is_row_local_and_replays(dataset, tmp_path) -> None:  # noqa: ANN001
    ws = Workspace(dataset)
    ws.apply(EditCell(id=1, column="text", old="no number here", new="line one\nline two"))
    ws.apply(EditCell(id=2, column="n", old=3, new="30"))
    live = ws.frame.collect()
    assert live["text"].to_list()[1] == "line one\nline two"
    assert live["n"].to_list() == [1, 2, 30]
    assert live["text"].to_list()[0] == ROWS[0]["text"]
    with pytest.raises(StepError, match="not a valid value for n"):
        ws.apply(EditCell(id=0, column="n", old=1, new="many"))
    path = tmp_path / "e.recipe.json"
    ws.recipe().save(path)
    replayed, _ = run_recipe(dataset.frame, Recipe.load(path))
    assert replayed.equals(live)
    ws.undo()
    ws.undo()
    assert ws.frame.collect().equals(dataset.frame.collect())


def test_replace_regex_groups_both_syntaxes(dataset) -> None:  # noqa: ANN001
    for replacement in ("$2-$1", r"\2-\1", "${2}-${1}"):
        step = Replace(column="text", find=r"(\d{3})-(\d{4})", replace=replacement, regex=True)
        out, result = apply_step(dataset.frame, step)
        assert out["text"].to_list() == [
            "call 1234-555 now",
            "no number here",
            "Price: $5, call 9876-555",
        ]
        assert result.rows_out == 3
    assert replacement_for_polars("$1x") == "${1}x"
    assert replacement_for_polars("$$1") == "$$1"


def test_replace_literal_and_case(dataset) -> None:  # noqa: ANN001
    out, _ = apply_step(dataset.frame, Replace(column="text", find="$5", replace="$1 (was $5)"))
    assert out["text"].to_list()[2] == "Price: $1 (was $5), call 555-9876"
    out, _ = apply_step(
        dataset.frame, Replace(column="text", find="CALL", replace="ring", case_sensitive=False)
    )
    assert out["text"].to_list()[0] == "ring 555-1234 now"
    with pytest.raises(StepError, match="Not a valid regular expression"):
        apply_step(dataset.frame, Replace(column="text", find="(", replace="", regex=True))
    with pytest.raises(StepError, match="does not hold text"):
        apply_step(dataset.frame, Replace(column="n", find="1", replace="2"))


def test_replace_preview_lists_changed_rows(dataset) -> None:  # noqa: ANN001
    step = Replace(column="text", find=r"\d{3}-\d{4}", replace="<phone>", regex=True)
    count, preview = replace_preview(dataset.frame, step)
    assert count == 2
    assert preview["_id"].to_list() == [0, 2]
    assert preview["before"].to_list()[0] == "call 555-1234 now"
    assert preview["after"].to_list()[0] == "call <phone> now"
