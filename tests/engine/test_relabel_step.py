"""`edit.cells`: a bulk relabel, one old and one new value per row; and the report's list of
likely label errors (the same rows the Quality pane lists)."""

from __future__ import annotations

import json

import polars as pl
import pytest

from studio.engine.errors import StepError
from studio.engine.recipe import Recipe, run_recipe
from studio.engine.report import SUSPECTS_TITLE, build_report
from studio.engine.shape import detect_shape
from studio.engine.steps.base import ID, Step
from studio.engine.steps.relabel import EditCells


def frame() -> pl.DataFrame:
    return pl.DataFrame(
        {
            ID: pl.Series([0, 1, 2, 3], dtype=pl.UInt64),
            "text": ["a", "b", "c", "d"],
            "label": [0, 1, 0, 1],
        }
    )


def test_sets_each_row_to_its_new_value_and_round_trips() -> None:
    step = EditCells(
        column="label", ids=(1, 2), old=(1, 0), new=("0", 1), note="likely label errors"
    )
    step.validate(frame().schema)
    out = step.apply(frame().lazy()).collect()
    assert out["label"].to_list() == [0, 0, 1, 1]
    assert out.schema["label"] == pl.Int64
    again = Step.from_json(json.loads(json.dumps(step.to_json())))
    assert again == step
    assert "2 rows" in step.describe() and "likely label errors" in step.describe()
    result, _ = run_recipe(frame().lazy(), Recipe([step]))
    assert result["label"].to_list() == [0, 0, 1, 1]


@pytest.mark.parametrize(
    "step",
    [
        EditCells(column="label", ids=(1,), old=(1,), new=("x",)),
        EditCells(column="label", ids=(1, 2), old=(1,), new=(0,)),
        EditCells(column="label", ids=(1, 1), old=(1, 1), new=(0, 0)),
        EditCells(column=ID, ids=(1,), old=(1,), new=(2,)),
    ],
)
def test_bad_edits_are_refused_in_one_sentence(step: EditCells) -> None:
    with pytest.raises(StepError):
        step.validate(frame().schema)


def test_report_lists_suspects_with_their_text_under_a_title() -> None:
    good = ["great lovely superb", "wonderful fine excellent", "lovely great fine"]
    bad = ["awful horrid poor", "terrible nasty poor", "dreadful awful nasty"]
    rows = [(f"{good[i % 3]} {i}", "pos") for i in range(15)]
    rows += [(f"{bad[i % 3]} {i}", "neg") for i in range(15)]
    rows[4] = (rows[4][0], "neg")  # a planted flip
    df = pl.DataFrame(
        {
            ID: pl.Series(range(30), dtype=pl.UInt64),
            "text": [r[0] for r in rows],
            "label": [r[1] for r in rows],
        }
    )
    rep = build_report(df, detect_shape(df.drop(ID)), languages=False)
    labels = next(s for s in rep.sections if s.title == "Labels")
    assert labels.table_title == SUSPECTS_TITLE
    first = labels.table[0]
    assert list(first) == ["row", "given", "predicted", "self_confidence", "margin", "text"]
    assert (first["row"], first["given"], first["predicted"]) == (4, "neg", "pos")
    assert first["text"] == rows[4][0]
    md = rep.to_markdown()
    assert f"### {SUSPECTS_TITLE}" in md and rows[4][0] in md
    sections = {s["title"]: s for s in rep.to_json()["sections"]}
    assert sections["Labels"]["table_title"] == SUSPECTS_TITLE
    assert f"<h3>{SUSPECTS_TITLE}</h3>" in rep.to_html()


def test_report_for_a_workspace_uses_the_recipes_token_limit(tmp_path) -> None:  # noqa: ANN001
    from studio.engine.io import load_dataset
    from studio.engine.report import report_for, token_limit
    from studio.engine.steps.tokens import TruncateTokens
    from studio.engine.workspace import Workspace
    from tests.tokens_fixtures import build_tokenizer

    tok = build_tokenizer(tmp_path / "tok")
    path = tmp_path / "d.jsonl"
    rows = [{"text": "the quick brown fox " * (i + 1), "label": "ab"[i % 2]} for i in range(12)]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    ws = Workspace(load_dataset(path))
    assert token_limit(ws) is None
    assert report_for(ws).figure("over_limit") is None
    ws.apply(TruncateTokens(tokenizer=str(tok), max_tokens=7, column="text"))
    assert token_limit(ws) == 7
    over = report_for(ws).figure("over_limit")
    assert over is not None and over.label == "Rows over 7 tokens"
