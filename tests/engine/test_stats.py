"""Column summaries on small real frames."""

from __future__ import annotations

import polars as pl
import pytest

from studio.engine.stats import summarize, top_values
from studio.engine.steps.base import ID


def frame() -> pl.LazyFrame:
    return pl.DataFrame(
        {
            ID: pl.Series(range(6), dtype=pl.UInt64),
            "text": ["a", "bb", "ccc", None, "  ", "bb"],
            "label": ["x", "y", "x", "x", None, "z"],
            "score": [1.0, 2.0, 3.0, None, 5.0, 7.0],
            "flag": [True, False, True, True, None, False],
            "messages": [
                [{"role": "u", "content": "hi"}],
                [],
                None,
                [{"role": "a", "content": "x"}] * 3,
                [],
                [],
            ],
        }
    ).lazy()


def test_text_column() -> None:
    (s,) = summarize(frame(), ["text"])
    assert (s.dtype, s.rows, s.nulls, s.distinct, s.kind) == ("String", 6, 1, 5, "text")
    assert (s.min_length, s.max_length, s.empty) == (1, 3, 1)
    assert s.mean_length == pytest.approx((1 + 2 + 3 + 2 + 2) / 5)
    assert s.top[0] == ("bb", 2)


def test_number_bool_and_list_columns() -> None:
    score, flag, messages = summarize(frame(), ["score", "flag", "messages"])
    assert (score.minimum, score.maximum, score.nulls) == (1.0, 7.0, 1)
    assert score.mean == pytest.approx(18 / 5)
    assert flag.kind == "bool" and flag.mean == pytest.approx(3 / 5)
    assert messages.kind == "list" and (messages.min_length, messages.max_length) == (0, 3)
    assert messages.nulls == 1


def test_every_column_by_default_and_top_values() -> None:
    names = [s.name for s in summarize(frame())]
    assert names == ["text", "label", "score", "flag", "messages"]
    assert top_values(frame(), "label") == [("x", 3), ("y", 1), ("z", 1), (None, 1)]
    label = summarize(frame(), ["label"])[0]
    assert label.to_json()["top"][0] == {"value": "x", "count": 3}


def test_high_cardinality_has_no_top_values() -> None:
    lazy = pl.DataFrame({"v": [str(i) for i in range(500)]}).lazy()
    (s,) = summarize(lazy)
    assert s.distinct == 500 and s.top == []
