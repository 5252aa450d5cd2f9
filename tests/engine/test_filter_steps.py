from __future__ import annotations

import json

import polars as pl
import pytest

from studio.engine.errors import StepError
from studio.engine.io import load_dataset
from studio.engine.recipe import Recipe, apply_step, run_recipe
from studio.engine.steps.base import ID
from studio.engine.steps.filter import (
    EmptyFilter,
    LengthFilter,
    MinScore,
    SqlFilter,
    ValuesFilter,
    facet_columns,
    facet_counts,
    flag_columns,
    label_balance,
)
from studio.engine.workspace import Workspace

ROWS = [
    {"instruction": "Write a poem", "output": "x" * 250, "label": "spam", "n": 1, "flag_pii": True},
    {
        "instruction": "Draft a memo",
        "output": "As an AI, I cannot",
        "label": "ham",
        "n": 2,
        "flag_pii": False,
    },
    {"instruction": "Explain tides", "output": "", "label": "spam", "n": None, "flag_pii": False},
    {
        "instruction": "Write code",
        "output": "short answer here",
        "label": "ham",
        "n": 4,
        "flag_pii": True,
    },
]


@pytest.fixture
def dataset(write_file):  # noqa: ANN001, ANN201
    path = write_file("d.jsonl", "\n".join(json.dumps(r) for r in ROWS) + "\n")
    return load_dataset(path)


def ids(frame: pl.DataFrame) -> list[int]:
    return frame[ID].to_list()


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("length(output) > 200 AND label = 'spam'", [0]),
        ("output ILIKE '%as an ai%'", [1]),
        ("regexp_like(instruction, '^(Write|Draft)')", [0, 1, 3]),
        ("n IS NULL OR n >= 4", [2, 3]),
        ("flag_pii", [0, 3]),
        ("", [0, 1, 2, 3]),
    ],
)
def test_sql_filter_good_expressions(dataset, where: str, expected: list[int]) -> None:  # noqa: ANN001
    out, result = apply_step(dataset.frame, SqlFilter(where=where))
    assert ids(out) == expected
    assert result.rows_in == 4 and result.rows_out == len(expected)
    assert set(out.columns) == set(dataset.frame.collect_schema().names())


@pytest.mark.parametrize(
    ("where", "pattern"),
    [
        ("nope > 3", r"Unknown column 'nope' at column 1.*Columns are: instruction, output"),
        (
            "label = spam",
            r"Unknown column 'spam' at column 9 \(put text values in 'single quotes'\)",
        ),
        ("length(output > ", r"Syntax error at the end \(column 17\)"),
        ("n + > 3", r"Syntax error at column 5"),
        ("label = 'spam' label", r"Syntax error at column 16"),
        ("label = 'spam'; DROP TABLE x", r"Syntax error"),
        ("1=1) OR (1=1", r"Syntax error"),
        ("label = 'spam' ORDER BY n", r"Syntax error"),
        ("label", r"must be true or false"),
        ("n > 'abc'", r"Cannot filter with this expression"),
        ("nosuchfn(label) = 1", r"Cannot filter.*unsupported function"),
        ("__import__('os').system('true')", r"."),
    ],
)
def test_sql_filter_bad_expressions_are_step_errors(dataset, where: str, pattern: str) -> None:  # noqa: ANN001
    ws = Workspace(dataset)
    with pytest.raises(StepError, match=pattern):
        ws.apply(SqlFilter(where=where))
    assert ws.rows == 4 and not ws.steps


def test_values_filter_facets_and_counts(dataset) -> None:  # noqa: ANN001
    frame = dataset.frame
    counts = facet_counts(frame, "label")
    assert counts.rows() == [("ham", 2), ("spam", 2)]
    assert facet_counts(frame, "flag_pii").rows() == [("false", 2), ("true", 2)]
    assert facet_counts(frame, "n").rows()[-1] == (None, 1)
    out, _ = apply_step(frame, ValuesFilter(column="label", values=("spam",)))
    assert ids(out) == [0, 2]
    out, _ = apply_step(frame, ValuesFilter(column="label", values=("spam",), exclude=True))
    assert ids(out) == [1, 3]
    out, _ = apply_step(frame, ValuesFilter(column="n", values=(1, None)))
    assert ids(out) == [0, 2]
    out, _ = apply_step(frame, ValuesFilter(column="flag_pii", values=(True,)))
    assert ids(out) == [0, 3]
    assert "label" in facet_columns(frame) and "flag_pii" in facet_columns(frame)
    assert "output" not in facet_columns(frame)
    assert flag_columns(frame.collect_schema()) == ["flag_pii"]


def test_facet_counts_follow_the_current_filter(dataset) -> None:  # noqa: ANN001
    ws = Workspace(dataset)
    ws.apply(SqlFilter(where="n >= 2"))
    assert facet_counts(ws.frame, "label").rows() == [("ham", 2)]


def test_length_and_empty_filters(dataset) -> None:  # noqa: ANN001
    frame = dataset.frame
    out, _ = apply_step(frame, LengthFilter(column="output", min_len=1, max_len=100))
    assert ids(out) == [1, 3]
    out, _ = apply_step(frame, LengthFilter(column="output", min_len=3, unit="words"))
    assert ids(out) == [1, 3]
    out, _ = apply_step(frame, LengthFilter(column="output", max_len=0))
    assert ids(out) == [2]
    with pytest.raises(StepError, match="above the maximum"):
        apply_step(frame, LengthFilter(column="output", min_len=5, max_len=1))
    out, result = apply_step(frame, EmptyFilter())
    assert ids(out) == [0, 1, 3]
    assert result.removed["reason"].to_list() == ["drop rows with an empty field in any column"]
    out, _ = apply_step(frame, EmptyFilter(columns=("output",), keep="empty"))
    assert ids(out) == [2]


def test_min_score_and_label_balance(dataset) -> None:  # noqa: ANN001
    frame = dataset.frame.with_columns(pl.Series("domain_score", [0.9, 0.1, 0.5, 0.2]))
    out, _ = apply_step(frame, MinScore(min_score=0.5))
    assert ids(out) == [0, 2]
    assert label_balance(dataset.frame, "label") == (("ham", 2), ("spam", 2))
    assert label_balance(dataset.frame, "instruction") is None


def test_filters_replay_headless(dataset, tmp_path) -> None:  # noqa: ANN001
    ws = Workspace(dataset)
    ws.apply(SqlFilter(where="regexp_like(instruction, '^(Write|Draft)')"))
    ws.apply(ValuesFilter(column="label", values=("ham",)))
    ws.apply(LengthFilter(column="output", min_len=5))
    path = tmp_path / "f.recipe.json"
    ws.recipe().save(path)
    out, results = run_recipe(dataset.frame, Recipe.load(path))
    assert out.equals(ws.frame.collect())
    assert ids(out) == [1, 3]
    assert [r.rows_out for r in results] == [3, 2, 2]


def test_workspace_holds_a_parquet_source_in_memory(tmp_path) -> None:  # noqa: ANN001
    """A scanned Parquet source is read into memory once when it fits the budget; steps,
    undo and the removed rows give the same answers as on the scan."""
    from studio.engine.io import load_dataset
    from studio.engine.steps.filter import SqlFilter
    from studio.engine.workspace import Workspace

    path = tmp_path / "rows.parquet"
    pl.DataFrame({"text": [f"row {i}" for i in range(50)], "label": ["a", "b"] * 25}).write_parquet(
        path
    )
    small = Workspace(load_dataset(path))
    assert small.source_bytes_estimate() is not None
    assert not small.hold_in_memory(budget=10) and not small.in_memory

    scanned = Workspace(load_dataset(path))
    held = Workspace(load_dataset(path))
    assert held.hold_in_memory(budget=10**9) and held.in_memory
    assert held.frame.collect().equals(scanned.frame.collect())
    step = SqlFilter(where="label = 'a' AND text LIKE 'row 1%'")
    a, b = scanned.apply(step), held.apply(step)
    assert (a.rows_in, a.rows_out) == (b.rows_in, b.rows_out) == (50, 5)
    assert held.frame.collect().equals(scanned.frame.collect())
    assert held.removed().equals(scanned.removed())
    held.undo()
    assert held.rows == 50 and held.frame.collect().height == 50


def test_workspace_keeps_an_in_memory_source_as_is(tmp_path) -> None:  # noqa: ANN001
    from studio.engine.io import load_dataset
    from studio.engine.workspace import Workspace

    path = tmp_path / "rows.jsonl"
    path.write_text('{"text": "a"}\n{"text": "b"}\n', encoding="utf-8")
    workspace = Workspace(load_dataset(path))
    assert workspace.source_bytes_estimate() is None
    assert not workspace.hold_in_memory(budget=10**9)
