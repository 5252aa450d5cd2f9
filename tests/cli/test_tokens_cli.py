"""`studio tokens` headless: figures, problems, the estimate flag, -o with --drop-over/--truncate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from studio.cli import main
from tests.tokens_fixtures import build_tokenizer

CHAT = [
    {
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "What is the capital of France?"},
            {"role": "assistant", "content": "Paris is the capital of France."},
        ]
    },
    {"messages": [{"role": "user", "content": "Hi"}, {"role": "user", "content": "Hi"}]},
    {"messages": [{"role": "robot", "content": None}]},
]


@pytest.fixture(scope="module")
def tok(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(build_tokenizer(tmp_path_factory.mktemp("tok") / "tiny"))


def _jsonl(path: Path, rows: list[dict]) -> str:
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return str(path)


def test_json_contract_with_tokenizer(
    tok: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _jsonl(tmp_path / "chat.jsonl", CHAT)
    assert main(["tokens", path, "--tokenizer", tok, "--max-tokens", "12", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["rows"] == 3
    assert info["tokenizer"] == tok
    assert info["estimate"] is False
    tokens = info["tokens"]
    assert set(tokens) >= {"total", "p50", "p90", "p99", "max", "over_limit"}
    assert tokens["max"] > 12 and tokens["over_limit"] >= 1
    assert tokens["prompt"] + tokens["trained"] == tokens["total"]
    problems = info["problems"]
    for name in (
        "not_a_list",
        "unknown_role",
        "missing_content",
        "no_assistant",
        "missing_system",
        "missing_user",
        "same_role_twice",
        "over_limit",
    ):
        assert name in problems
    assert problems["unknown_role"] == 1
    assert problems["missing_content"] == 1
    assert problems["no_assistant"] == 2
    assert problems["missing_system"] == 2
    assert problems["missing_user"] == 1
    assert problems["same_role_twice"] == 1
    assert problems["not_a_list"] == 0
    assert problems["over_limit"] == tokens["over_limit"]


def test_estimate_without_tokenizer(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _jsonl(tmp_path / "t.jsonl", [{"text": "abcdefgh"}, {"text": "abc"}])
    assert main(["tokens", path, "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["estimate"] is True
    assert "estimate" in info["tokenizer"]
    assert info["tokens"]["total"] == 3
    assert main(["tokens", path]) == 0
    assert "ESTIMATE" in capsys.readouterr().out


def test_text_output_lists_problems(
    tok: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _jsonl(tmp_path / "chat.jsonl", CHAT)
    assert main(["tokens", path, "--tokenizer", tok, "--max-tokens", "12"]) == 0
    out = capsys.readouterr().out
    assert "p50" in out and "p99" in out
    assert "same_role_twice" in out and "chat.jsonl:2" in out
    assert "training tokens per epoch" in out


def test_drop_over_and_truncate_write_results(tok: str, tmp_path: Path) -> None:
    rows = [{"text": "The quick brown fox jumps over the lazy dog. " * n} for n in (1, 3, 6)]
    path = _jsonl(tmp_path / "t.jsonl", rows)
    dropped = tmp_path / "dropped.jsonl"
    code = main(
        [
            "tokens",
            path,
            "--tokenizer",
            tok,
            "--max-tokens",
            "20",
            "-o",
            str(dropped),
            "--drop-over",
        ]
    )
    assert code == 0
    assert len(dropped.read_text().splitlines()) == 1
    cut = tmp_path / "cut.jsonl"
    code = main(
        ["tokens", path, "--tokenizer", tok, "--max-tokens", "20", "-o", str(cut), "--truncate"]
    )
    assert code == 0
    texts = [json.loads(line)["text"] for line in cut.read_text().splitlines()]
    assert texts[0] == rows[0]["text"] and len(texts) == 3
    assert all(rows[i]["text"].startswith(texts[i]) for i in range(3))
    assert len(texts[2]) < len(rows[2]["text"])


def test_errors_exit_one(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _jsonl(tmp_path / "t.jsonl", [{"text": "abc"}])
    assert main(["tokens", path, "--tokenizer", "nobody/no-such-model"]) == 1
    assert "huggingface-cli download nobody/no-such-model" in capsys.readouterr().err
    assert main(["tokens", path, "--drop-over", "-o", str(tmp_path / "x.jsonl")]) == 1
    capsys.readouterr()
    two = ["--column", "text", "--column", "other", "--max-tokens", "5", "--truncate", "start"]
    assert main(["tokens", path, *two, "-o", str(tmp_path / "y.jsonl")]) == 1
    assert "--truncate cuts one column" in capsys.readouterr().err
    assert not (tmp_path / "y.jsonl").exists()


def test_existing_output_is_refused_before_counting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _jsonl(tmp_path / "t.jsonl", [{"text": "a " * 50}, {"text": "short"}])
    out = tmp_path / "out.jsonl"
    out.write_text("mine\n", encoding="utf-8")
    args = ["tokens", path, "--max-tokens", "10", "--drop-over", "-o", str(out)]
    assert main(args) == 1
    captured = capsys.readouterr()
    assert "already exists; pass --force" in captured.err
    assert captured.out == ""  # refused before any figures were printed
    assert out.read_text(encoding="utf-8") == "mine\n"
    assert main([*args, "--force"]) == 0
    text = capsys.readouterr().out
    assert "over the limit of 10: 1 row\n" in text  # one row, said so
    assert [json.loads(line)["text"] for line in out.read_text().splitlines()] == ["short"]
    assert main(["tokens", path, "-o", str(tmp_path / "o2.jsonl")]) == 1
    assert "needs --drop-over or --truncate" in capsys.readouterr().err
    assert not (tmp_path / "o2.jsonl").exists()


def test_unknown_or_numeric_column_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "n.csv"
    path.write_text("text,n\nhello there,1\n", encoding="utf-8")
    assert main(["tokens", str(path), "--column", "txet"]) == 1
    assert "No column named 'txet'; columns are: text, n." in capsys.readouterr().err
    assert main(["tokens", str(path), "--column", "n"]) == 1
    assert "Column 'n' holds Int64, not text." in capsys.readouterr().err


def test_how_chats_were_counted_is_said(
    tok: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bare = build_tokenizer(tmp_path / "no-template", chat_template=None)
    path = _jsonl(tmp_path / "chat.jsonl", CHAT)
    assert main(["tokens", path, "--tokenizer", str(bare), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["chat_counting"] == "no chat template: each message counts its content + 4 tokens"
    assert main(["tokens", path, "--tokenizer", tok]) == 0
    assert "  chats: with the tokenizer's chat template\n" in capsys.readouterr().out
    text = _jsonl(tmp_path / "t.jsonl", [{"text": "hello"}])
    assert main(["tokens", text, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["chat_counting"] is None
