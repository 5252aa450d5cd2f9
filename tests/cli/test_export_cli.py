"""`studio export` headless: formats, mapping flags, splits, exit codes, overwrite refusal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from studio.cli import main
from studio.engine.io import load_dataset
from studio.engine.recipe import Recipe, run_recipe
from studio.engine.steps.base import ID

ROWS = [
    {"instruction": f"task {i}", "input": f"ctx {i}" if i % 2 else "", "output": f"done {i}"}
    for i in range(6)
]


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in ROWS) + "\n")
    return path


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_export_openai_with_map_and_system(source: Path, tmp_path: Path, capsys) -> None:  # noqa: ANN001
    out = tmp_path / "chat.jsonl"
    code = main(
        [
            "export",
            str(source),
            "-o",
            str(out),
            "--format",
            "openai",
            "--map",
            "user=instruction+input,assistant=output",
            "--system",
            "Be terse.",
        ]
    )
    assert code == 0
    rows = _lines(out)
    assert rows[1]["messages"] == [
        {"role": "system", "content": "Be terse."},
        {"role": "user", "content": "task 1\n\nctx 1"},
        {"role": "assistant", "content": "done 1"},
    ]
    err = capsys.readouterr().err
    assert (
        "wrote 6 rows to" in err and "chat.jsonl.recipe.json" in err and "chat.jsonl.card.md" in err
    )
    recipe = Recipe.load(tmp_path / "chat.jsonl.recipe.json")
    replayed, _ = run_recipe(load_dataset(source).frame, recipe)
    assert replayed.drop(ID).to_dicts() == rows
    # and through `studio run`
    assert (
        main(
            [
                "run",
                str(tmp_path / "chat.jsonl.recipe.json"),
                str(source),
                "-o",
                str(tmp_path / "r.jsonl"),
            ]
        )
        == 0
    )
    assert _lines(tmp_path / "r.jsonl") == rows


def test_refuses_to_overwrite_without_force(source: Path, tmp_path: Path, capsys) -> None:  # noqa: ANN001
    out = tmp_path / "o.parquet"
    out.write_bytes(b"old")
    code = main(["export", str(source), "-o", str(out), "--format", "parquet"])
    assert code == 1
    assert "already exists; pass --force" in capsys.readouterr().err
    assert out.read_bytes() == b"old"
    assert main(["export", str(source), "-o", str(out), "--format", "parquet", "--force"]) == 0
    assert load_dataset(out).frame.drop(ID).collect().to_dicts() == ROWS


def test_split_column_and_hf(source: Path, tmp_path: Path) -> None:
    import datasets

    rows = [dict(r, fold="a" if i < 4 else "b") for i, r in enumerate(ROWS)]
    src = tmp_path / "folds.jsonl"
    src.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    out = tmp_path / "ds"
    assert (
        main(["export", str(src), "-o", str(out), "--format", "hf", "--split-column", "fold"]) == 0
    )
    loaded = datasets.load_from_disk(str(out))
    assert {k: len(v) for k, v in loaded.items()} == {"a": 4, "b": 2}
    assert loaded["a"][0] == ROWS[0]


def test_invalid_rows_block_then_skip(source: Path, tmp_path: Path, capsys) -> None:  # noqa: ANN001
    out = tmp_path / "a.json"
    args = [
        "export",
        str(source),
        "-o",
        str(out),
        "--format",
        "alpaca",
        "--map",
        "instruction=input,output=output",
    ]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "invalid: in.jsonl:1: empty instruction" in err
    assert "3 of 6 rows invalid (3 empty instruction)" in err
    assert not out.exists()
    assert main([*args, "--on-invalid", "skip"]) == 0
    assert [r["instruction"] for r in json.loads(out.read_text())] == ["ctx 1", "ctx 3", "ctx 5"]
    assert "skipped 3 of 6 rows invalid" in capsys.readouterr().err


def test_usage_errors_exit_2(source: Path, tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as info:
        main(["export", str(source), "-o", str(tmp_path / "x"), "--format", "xml"])
    assert info.value.code == 2
    assert (
        main(
            [
                "export",
                str(source),
                "-o",
                str(tmp_path / "x.jsonl"),
                "--format",
                "openai",
                "--map",
                "user=nope",
            ]
        )
        == 1
    )
