"""Export mapping, preview and validation on crafted rows."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from studio.engine.errors import StepError
from studio.engine.export import (
    ExportBlocked,
    ExportOptions,
    auto_fields,
    build_step,
    export_dataset,
    parse_map,
    preview,
    validate,
)
from studio.engine.io import load_dataset
from studio.engine.shape import detect_shape


def _src(tmp_path: Path, rows: list[dict], name: str = "src.jsonl") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n")
    return path


def test_parse_map() -> None:
    assert parse_map('user=instruction+input,assistant=output, system="Be, brief"') == {
        "user": "instruction+input",
        "assistant": "output",
        "system": '"Be, brief"',
    }
    with pytest.raises(StepError, match="FIELD=COLUMN"):
        parse_map("user")


@pytest.mark.parametrize(
    ("columns", "fmt", "expected"),
    [
        (
            {"instruction": ["a"], "input": ["b"], "output": ["c"]},
            "openai",
            {"user": "instruction+input", "assistant": "output"},
        ),
        (
            {"instruction": ["a"], "input": ["b"], "output": ["c"]},
            "alpaca",
            {"instruction": "instruction", "input": "input", "output": "output"},
        ),
        (
            {
                "text": ["good", "bad", "good", "bad", "ok"] * 4,
                "label": ["p", "n", "p", "n", "p"] * 4,
            },
            "sharegpt",
            {"human": "text", "gpt": "label"},
        ),
        (
            {"messages": [[{"role": "user", "content": "x"}]], "system": ["s"]},
            "alpaca",
            {"system": "system", "messages": "messages"},
        ),
        (
            {"conversations": [[{"from": "human", "value": "x"}]]},
            "openai",
            {"messages": "conversations"},
        ),
        (
            {"prompt": ["p"], "chosen": ["c"], "rejected": ["r"]},
            "openai",
            {"user": "prompt", "assistant": "chosen"},
        ),
        ({"text": ["a"]}, "jsonl", {}),
    ],
)
def test_auto_fields_from_shape(columns: dict, fmt: str, expected: dict) -> None:
    frame = pl.DataFrame(columns)
    assert auto_fields(fmt, detect_shape(frame), frame.columns) == expected


def test_preview_is_exactly_what_is_written(tmp_path: Path) -> None:
    rows = [{"q": f"question {i} ü", "a": f"answer {i}", "n": i} for i in range(8)]
    dataset = load_dataset(_src(tmp_path, rows))
    schema = dataset.frame.collect_schema()
    for fmt, out in (("openai", "o.jsonl"), ("alpaca", "a.jsonl"), ("csv", "o.csv")):
        fields = (
            {"user": "q", "assistant": "a"}
            if fmt == "openai"
            else {"instruction": "q", "output": "a"}
            if fmt == "alpaca"
            else {"question": "q", "answer": "a", "note": '"fixed"'}
        )
        step = build_step(fmt, schema, fields=fields, system="S" if fmt == "openai" else "")
        shown = preview(dataset.frame, step, n=3)
        export_dataset(
            dataset,
            dataset.frame,
            ExportOptions(
                output=tmp_path / out,
                format=fmt,
                fields=fields,
                system="S" if fmt == "openai" else "",
            ),
        )
        written = (tmp_path / out).read_text(encoding="utf-8").splitlines()
        assert shown == written[: len(shown)]
        assert len(shown) == (4 if fmt == "csv" else 3)
    assert shown[0] == "question,answer,note"
    assert shown[1] == "question 0 ü,answer 0,fixed"


def test_preview_skips_invalid_rows_when_skipping(tmp_path: Path) -> None:
    rows = [{"q": "x", "a": ""}, {"q": "y", "a": "z"}]
    dataset = load_dataset(_src(tmp_path, rows))
    schema = dataset.frame.collect_schema()
    step = build_step("openai", schema, fields={"user": "q", "assistant": "a"}, on_invalid="skip")
    assert preview(dataset.frame, step) == [
        '{"messages":[{"role":"user","content":"y"},{"role":"assistant","content":"z"}]}'
    ]


def test_unknown_field_or_column_is_a_step_error(tmp_path: Path) -> None:
    dataset = load_dataset(_src(tmp_path, [{"q": "x"}]))
    schema = dataset.frame.collect_schema()
    with pytest.raises(StepError, match="no field 'prompt'"):
        build_step("openai", schema, fields={"prompt": "q"})
    with pytest.raises(StepError, match="no column named 'nope'"):
        build_step("openai", schema, fields={"user": "nope"})
    with pytest.raises(StepError, match="Unknown export format"):
        build_step("xml", schema)


CRAFTED = [
    {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]},
    {"messages": [{"role": "user", "content": "no answer"}]},
    {"messages": [{"role": "user", "content": "   "}, {"role": "assistant", "content": "x"}]},
    {"messages": [{"role": "system", "content": "s"}, {"role": "assistant", "content": "x"}]},
    {"messages": [{"role": "user", "content": "ok"}, {"role": "assistant", "content": "fine"}]},
]


def test_validation_counts_and_lists_rows(tmp_path: Path) -> None:
    dataset = load_dataset(_src(tmp_path, CRAFTED, "chat.jsonl"))
    step = build_step("openai", dataset.frame.collect_schema(), shape=dataset.shape)
    result = validate(dataset.frame, step, dataset)
    assert result.count == 3 and result.total == 5
    assert result.invalid["source"].to_list() == ["chat.jsonl:2", "chat.jsonl:3", "chat.jsonl:4"]
    assert result.invalid["reason"].to_list() == [
        "no assistant turn",
        "no user turn; empty message",
        "no user turn",
    ]
    assert result.counts == {"no user turn": 2, "no assistant turn": 1, "empty message": 1}


def test_block_writes_nothing_and_skip_writes_the_valid_rows(tmp_path: Path) -> None:
    dataset = load_dataset(_src(tmp_path, CRAFTED, "chat.jsonl"))
    out = tmp_path / "o.jsonl"
    with pytest.raises(ExportBlocked, match="3 of 5 rows invalid") as info:
        export_dataset(dataset, dataset.frame, ExportOptions(output=out, format="openai"))
    assert info.value.validation.invalid["_id"].to_list() == [1, 2, 3]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["chat.jsonl"]
    result = export_dataset(
        dataset, dataset.frame, ExportOptions(output=out, format="openai", on_invalid="skip")
    )
    assert result.skipped == 3
    written = [json.loads(line) for line in out.read_text().splitlines()]
    assert written == [CRAFTED[0], CRAFTED[4]]
    card = result.card.read_text()
    assert "invalid rows skipped: 2 no user turn, 1 no assistant turn, 1 empty message" in card
    assert "| 5 | 2 | 3 |" in card


def test_alpaca_requires_instruction_and_output(tmp_path: Path) -> None:
    rows = [
        {"instruction": "a", "input": "", "output": "b"},
        {"instruction": "", "input": "x", "output": "b"},
        {"instruction": "a", "input": "", "output": None},
    ]
    dataset = load_dataset(_src(tmp_path, rows))
    step = build_step("alpaca", dataset.frame.collect_schema(), shape=dataset.shape)
    result = validate(dataset.frame, step)
    assert result.invalid["reason"].to_list() == ["empty instruction", "empty output"]


def test_token_limit_from_tokens_columns(tmp_path: Path) -> None:
    rows = [
        {"text": "short", "label": "x", "tokens_text": 3},
        {"text": "long", "label": "y", "tokens_text": 30},
        {"text": "mid", "label": "x", "tokens_text": 10},
    ]
    dataset = load_dataset(_src(tmp_path, rows))
    schema = dataset.frame.collect_schema()
    step = build_step(
        "openai", schema, fields={"user": "text", "assistant": "label"}, max_tokens=10
    )
    result = validate(dataset.frame, step)
    assert result.invalid["_id"].to_list() == [1]
    assert result.counts == {"over 10 tokens": 1}
    with pytest.raises(StepError, match="needs a tokenizer"):
        build_step(
            "openai",
            schema.__class__({"_id": pl.UInt64, "text": pl.String}),
            fields={"user": "text"},
            max_tokens=5,
        ).mapped(pl.LazyFrame(schema={"_id": pl.UInt64, "text": pl.String}))


@pytest.fixture
def tokenizer_dir(tmp_path: Path) -> Path:
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.WordLevel(unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.train_from_iterator(
        ["one two three four five six seven eight"],
        trainers.WordLevelTrainer(special_tokens=["[UNK]"]),
    )
    folder = tmp_path / "tok"
    PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]").save_pretrained(folder)
    return folder


def test_token_limit_with_a_tokenizer(tmp_path: Path, tokenizer_dir: Path) -> None:
    rows = [
        {"instruction": "one two", "output": "three"},
        {"instruction": "one two three four", "output": "five six seven"},
    ]
    dataset = load_dataset(_src(tmp_path, rows))
    for name in (str(tokenizer_dir), str(tokenizer_dir / "tokenizer.json")):
        step = build_step(
            "alpaca",
            dataset.frame.collect_schema(),
            shape=dataset.shape,
            max_tokens=5,
            tokenizer=name,
        )
        result = validate(dataset.frame, step, dataset)
        assert result.invalid["source"].to_list() == ["src.jsonl:2"]
        assert result.counts == {"over 5 tokens": 1}
