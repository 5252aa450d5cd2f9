"""Each chat format check on crafted rows."""

from __future__ import annotations

import polars as pl

from studio.engine.chat_checks import CHECKS, check_chat, check_rows

GOOD = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Hi"},
    {"role": "assistant", "content": "Hello"},
]


def _flags(value: object, *, sharegpt: bool = False) -> set[str]:
    found = check_rows([7], [value], sharegpt=sharegpt)
    return {name for name, ids in found.items() if ids}


def test_a_good_row_has_no_problem() -> None:
    assert _flags(GOOD) == set()


def test_not_a_list() -> None:
    assert _flags(None) == {"not_a_list"}
    assert _flags("just text") == {"not_a_list"}
    assert _flags([]) == {"not_a_list"}
    assert _flags(["hello"]) == {"not_a_list"}


def test_unknown_role() -> None:
    assert _flags([*GOOD[:2], {"role": "bot", "content": "Hello"}]) >= {"unknown_role"}


def test_missing_content() -> None:
    assert _flags([GOOD[0], GOOD[1], {"role": "assistant", "content": None}]) == {"missing_content"}
    assert _flags([GOOD[0], GOOD[1], {"role": "assistant", "content": "  "}]) == {"missing_content"}
    # a tool call without content is allowed
    call = {"role": "assistant", "content": None, "tool_calls": [{"id": "1"}]}
    assert _flags([GOOD[0], GOOD[1], call]) == set()


def test_no_assistant_missing_system_missing_user() -> None:
    assert _flags(GOOD[:2]) == {"no_assistant"}
    assert _flags(GOOD[1:]) == {"missing_system"}
    assert _flags([GOOD[0], GOOD[2]]) == {"missing_user"}


def test_same_role_twice() -> None:
    assert _flags([GOOD[0], GOOD[1], GOOD[1], GOOD[2]]) == {"same_role_twice"}


def test_sharegpt_turn_order() -> None:
    ok = [{"from": "human", "value": "Hi"}, {"from": "gpt", "value": "Hello"}]
    assert _flags(ok, sharegpt=True) == {"missing_system"}
    with_system = [{"from": "system", "value": "Be brief."}, *ok]
    assert _flags(with_system, sharegpt=True) == set()
    tool_turns = [
        *ok,
        {"from": "human", "value": "Weather?"},
        {"from": "function_call", "value": "{}"},
        {"from": "observation", "value": "sunny"},
        {"from": "gpt", "value": "Sunny."},
    ]
    assert "turn_order" not in _flags(tool_turns, sharegpt=True)
    swapped = [{"from": "gpt", "value": "Hello"}, {"from": "human", "value": "Hi"}]
    assert "turn_order" in _flags(swapped, sharegpt=True)
    observation_at_even = [
        *ok,
        {"from": "gpt", "value": "x"},
        {"from": "observation", "value": "y"},
    ]
    flags = _flags(observation_at_even, sharegpt=True)
    assert "turn_order" in flags and "same_role_twice" in flags
    assert _flags([{"from": "robot", "value": "x"}, *ok], sharegpt=True) >= {"unknown_role"}


def test_check_chat_lists_row_ids_and_over_limit() -> None:
    frame = pl.DataFrame(
        {
            "_id": pl.Series([10, 11, 12], dtype=pl.UInt64),
            "messages": [GOOD, GOOD[:2], GOOD[1:]],
        }
    )
    counts = pl.DataFrame({"_id": pl.Series([10, 11, 12], dtype=pl.UInt64), "tokens": [5, 50, 500]})
    results = {r.name: r for r in check_chat(frame, "messages", counts=counts, limit=40)}
    assert list(results) == list(CHECKS)
    assert results["no_assistant"].ids == (11,)
    assert results["missing_system"].ids == (12,)
    assert results["over_limit"].ids == (11, 12) and results["over_limit"].count == 2
    assert results["unknown_role"].count == 0
