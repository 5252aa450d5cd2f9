"""Search over text and nested columns; selections (invert, positions)."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from studio.engine.search import (
    SearchError,
    find_matches,
    invert_ids,
    iter_matches,
    matching_ids,
    positions_of,
    text_columns,
)
from studio.engine.steps.base import ID


def frame() -> pl.LazyFrame:
    return pl.DataFrame(
        {
            ID: pl.Series([10, 11, 12, 13, 14], dtype=pl.UInt64),
            "text": ["Hello World", "nothing here", None, "a.b.c", "world cup"],
            "n": [1, 2, 3, 4, 5],
            "messages": [
                [{"role": "user", "content": "hi"}],
                [{"role": "assistant", "content": "Say WORLD"}],
                None,
                [],
                [{"role": "user", "content": "x"}],
            ],
            "tags": [["a"], ["needle"], None, [], ["b"]],
            "cat": pl.Series(["p", "q", "p", "q", "zebra"], dtype=pl.Categorical),
        }
    ).lazy()


def test_text_columns_skip_numbers_and_id() -> None:
    assert text_columns(frame().collect_schema()) == ["text", "messages", "tags", "cat"]


def test_literal_search_is_case_insensitive_and_in_order() -> None:
    out = find_matches(frame(), "world").collect()
    assert out["row"].to_list() == [0, 1, 4]
    assert out[ID].to_list() == [10, 11, 14]


def test_literal_does_not_treat_dots_as_regex() -> None:
    assert matching_ids(frame(), "a.b").collect()[ID].to_list() == [13]
    assert matching_ids(frame(), "x.y").collect().height == 0


def test_nested_and_categorical_columns_are_searched() -> None:
    assert matching_ids(frame(), "needle").collect()[ID].to_list() == [11]
    assert matching_ids(frame(), "zebra").collect()[ID].to_list() == [14]
    assert matching_ids(frame(), "assistant").collect()[ID].to_list() == [11]


def test_regex_search_and_columns() -> None:
    assert matching_ids(frame(), r"^[Hw]", regex=True).collect()[ID].to_list() == [10, 14]
    assert matching_ids(frame(), "(?i)^say", regex=True, columns=["messages"]).collect()[
        ID
    ].to_list() == [11]
    assert matching_ids(frame(), "world", columns=["messages"]).collect()[ID].to_list() == [11]


def test_bad_regex_and_empty_query_are_plain_errors() -> None:
    with pytest.raises(SearchError, match="regular expression"):
        find_matches(frame(), "(", regex=True)
    with pytest.raises(SearchError):
        find_matches(frame(), "")
    with pytest.raises(SearchError, match="no text column"):
        find_matches(frame().select(ID, "n"), "x")


def test_invert_and_positions() -> None:
    assert invert_ids(frame(), [11, 13]).to_list() == [10, 12, 14]
    assert invert_ids(frame(), []).to_list() == [10, 11, 12, 13, 14]
    assert positions_of(frame(), [14, 99, 11]).rows() == [(1, 11), (4, 14)]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.text(max_size=8), min_size=1, max_size=20), st.text(min_size=1, max_size=3))
def test_literal_search_agrees_with_python(values: list[str], query: str) -> None:
    lazy = pl.DataFrame({ID: pl.Series(range(len(values)), dtype=pl.UInt64), "text": values}).lazy()
    got = find_matches(lazy, query).collect()["row"].to_list()
    if query.isascii():
        want = [i for i, v in enumerate(values) if query.lower() in v.lower()]
        assert got == want
    else:  # case folding is ASCII-only: exact matches are always found
        assert set(got) >= {i for i, v in enumerate(values) if query in v}


def test_iter_matches_starts_at_start_and_wraps() -> None:
    values = [f"item {i}" if i % 7 else f"seven {i}" for i in range(100)]
    lazy = pl.DataFrame({ID: pl.Series(range(100), dtype=pl.UInt64), "text": values}).lazy()
    whole = find_matches(lazy, "seven").collect()
    seen = list(iter_matches(lazy, "seven", rows=100, start=55, first_chunk=10, chunk=20))
    # pieces 55-65, 65-85, 85-100, then 0-10, 10-30, 30-50, 50-55
    assert [done for done, _ in seen] == [10, 30, 45, 55, 75, 95, 100]
    rows = [part["row"].to_list() for _, part in seen]
    assert rows[0] == [56, 63] and rows[3] == [0, 7]
    merged = pl.concat([p for _, p in seen]).sort("row")
    assert merged.equals(whole)
    assert [r for _, p in seen for r in p["row"].to_list()][:3] == [56, 63, 70]
    with pytest.raises(SearchError):
        next(iter_matches(lazy, "(", rows=100, regex=True))
    empty = list(iter_matches(lazy.head(0), "x", rows=0))
    assert len(empty) == 1 and empty[0][1].height == 0
