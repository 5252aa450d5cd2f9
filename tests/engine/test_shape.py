"""Shape detection per kind, main text and label columns, and user overrides."""

from __future__ import annotations

import json

import polars as pl
import pytest

from studio.engine.errors import LoadError
from studio.engine.io import load_dataset
from studio.engine.shape import Shape, detect_shape

CHAT = [
    {"role": "user", "content": "How do I boil an egg?"},
    {"role": "assistant", "content": "Put it in boiling water for nine minutes."},
]
SHAREGPT = [{"from": "human", "value": "hello"}, {"from": "gpt", "value": "hi there"}]


def test_classification_text_and_label() -> None:
    frame = pl.DataFrame({"text": ["good film", "bad film"] * 10, "label": ["pos", "neg"] * 10})
    shape = detect_shape(frame)
    assert (shape.kind, shape.text, shape.label) == ("classification", "text", "label")
    assert shape.roles == {"text": "text", "label": "label"}


def test_classification_by_cardinality_when_names_are_unusual() -> None:
    frame = pl.DataFrame(
        {
            "utterance_body": [f"a fairly long sentence number {i}" for i in range(40)],
            "bucket": ["x", "y", "z", "x"] * 10,
        }
    )
    shape = detect_shape(frame)
    assert (shape.kind, shape.text, shape.label) == ("classification", "utterance_body", "bucket")


def test_integer_label_column() -> None:
    frame = pl.DataFrame({"sentence": ["a b c"] * 6, "label": [0, 1, 2, 0, 1, 2]})
    assert detect_shape(frame).label == "label"


def test_alpaca() -> None:
    frame = pl.DataFrame({"instruction": ["Add"], "input": ["1 and 2"], "output": ["3"]})
    shape = detect_shape(frame)
    assert shape.kind == "alpaca" and shape.text == "output"
    assert shape.roles == {"instruction": "instruction", "input": "input", "output": "output"}


def test_prompt_completion_is_alpaca_like() -> None:
    shape = detect_shape(pl.DataFrame({"prompt": ["Say hi"], "completion": ["hi"]}))
    assert shape.kind == "alpaca"
    assert shape.roles == {"prompt": "instruction", "completion": "output"}


def test_chat_messages() -> None:
    frame = pl.DataFrame({"messages": [CHAT], "source": ["x"]})
    shape = detect_shape(frame)
    assert (shape.kind, shape.text) == ("chat", "messages")
    assert shape.roles["messages"] == "messages"


def test_chat_detected_by_turn_fields_under_another_name() -> None:
    shape = detect_shape(pl.DataFrame({"dialogue": [CHAT]}))
    assert (shape.kind, shape.text) == ("chat", "dialogue")


def test_sharegpt_conversations() -> None:
    shape = detect_shape(pl.DataFrame({"id": ["1"], "conversations": [SHAREGPT]}))
    assert (shape.kind, shape.text) == ("sharegpt", "conversations")
    assert shape.roles["conversations"] == "conversations"


def test_preference_pairs() -> None:
    frame = pl.DataFrame({"prompt": ["q"], "chosen": ["good"], "rejected": ["bad"]})
    shape = detect_shape(frame)
    assert shape.kind == "preference" and shape.text == "prompt"
    assert shape.roles == {"prompt": "prompt", "chosen": "chosen", "rejected": "rejected"}


def test_plain_text_and_unknown() -> None:
    text = detect_shape(pl.DataFrame({"body": [f"unique text {i}" for i in range(50)]}))
    assert (text.kind, text.text, text.label) == ("text", "body", None)
    assert detect_shape(pl.DataFrame({"a": [1, 2], "b": [0.5, 0.1]})).kind == "unknown"


def test_longest_text_column_is_the_main_text() -> None:
    frame = pl.DataFrame(
        {"id": ["a1", "b2"], "passage": ["a long passage of text", "another long one here"]}
    )
    assert detect_shape(frame).text == "passage"


def test_overrides_replace_roles() -> None:
    shape = Shape("classification", "text", "label", {"text": "text", "label": "label"})
    changed = shape.with_overrides(text="title", label="topic")
    assert (changed.text, changed.label) == ("title", "topic")
    assert changed.roles == {"title": "text", "topic": "label"}
    assert shape.with_overrides(kind="text").kind == "text"


def test_load_options_override_shape(write_file) -> None:
    rows = [
        {"title": f"t{i}", "body": f"body text {i}", "tag": "a" if i % 2 else "b"} for i in range(8)
    ]
    path = write_file("d.jsonl", "".join(json.dumps(r) + "\n" for r in rows))
    detected = load_dataset(path).shape
    assert detected.text == "body"
    ds = load_dataset(path, text="title", label="tag", kind="classification")
    assert (ds.shape.kind, ds.shape.text, ds.shape.label) == ("classification", "title", "tag")
    assert ds.options == {"text": "title", "label": "tag", "kind": "classification"}


def test_unknown_shape_becomes_text_when_a_text_column_is_given(write_file) -> None:
    path = write_file("n.jsonl", '{"a": 1, "b": "x"}\n{"a": 2, "b": "y"}\n')
    assert load_dataset(path, text="b").shape.kind in ("text", "classification")


@pytest.mark.parametrize(
    ("options", "pattern"),
    [({"text": "nope"}, "No column named 'nope'"), ({"kind": "poetry"}, "Unknown dataset kind")],
)
def test_bad_overrides_are_load_errors(write_file, options: dict[str, str], pattern: str) -> None:
    path = write_file("d.jsonl", '{"text": "x", "label": "a"}\n')
    with pytest.raises(LoadError, match=pattern):
        load_dataset(path, **options)
