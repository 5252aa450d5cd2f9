"""`studio transfer` headless: stages written, leaks reported, replay by recipe, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from studio.cli import main
from tests.transfer_fixtures import sentence as _sentence
from tests.transfer_fixtures import write_jsonl as _write


def sentence(seed: int) -> str:
    return _sentence(seed, n=12, vocabulary=25, end="?")


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    target = [{"question": sentence(i), "answer": f"{i} km"} for i in range(20)]
    qa = [{"question": sentence(100 + i), "answer": "red"} for i in range(15)]
    qa += [{"question": t["question"], "answer": "copied"} for t in target]  # every target row
    summ = [{"text": sentence(200 + i), "summary": f"farming {i}"} for i in range(10)]
    test = [{"question": sentence(103), "answer": "red"}]
    return {
        "target": _write(tmp_path / "target.jsonl", target),
        "qa": _write(tmp_path / "qa.jsonl", qa),
        "summ": _write(tmp_path / "summ.jsonl", summ),
        "test": _write(tmp_path / "test.jsonl", test),
    }


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_transfer_writes_both_stages(files: dict[str, Path], tmp_path: Path, capsys) -> None:  # noqa: ANN001
    out = tmp_path / "stages"
    args = ["transfer", "--source", f"{files['qa']}:task=qa", f"{files['summ']}:task=summ"]
    args += ["--target", str(files["target"]), "--test", str(files["test"]), "-o", str(out)]
    args += ["--ratios", "0.8,0.2", "--seed", "5"]
    assert main(args) == 0
    captured = capsys.readouterr()
    assert "stage 1" in captured.out and "label overlap" in captured.out
    assert "leak:" in captured.err
    stage2_val = _lines(out / "stage2" / "validation.jsonl")
    stage2_test = _lines(out / "stage2" / "test.jsonl")
    assert len(stage2_test) == 1 and len(stage2_val) == 4
    assert len(_lines(out / "stage2" / "train.jsonl")) == 16
    # the qa copies of the 4 validation rows and the test row's twin are removed
    leaks = _lines(out / "leaks.jsonl")
    assert len(leaks) == 5 and {x["task"] for x in leaks} == {"qa"}
    stage1 = _lines(out / "stage1" / "train.jsonl")
    assert len(stage1) == 15 + 20 + 10 - 5
    held = {r["question"] for r in stage2_val + stage2_test}
    assert not held & {r["instruction"] for r in stage1}
    summary = json.loads((out / "summary.json").read_text())
    assert summary["stage1"]["tasks"] == ["qa", "summ"]
    # replay by recipe gives the same files
    again = tmp_path / "again"
    code = main(
        [
            "transfer",
            "--recipe",
            str(out / "transfer.recipe.json"),
            "--target",
            str(files["target"]),
            "-o",
            str(again),
        ]
    )
    assert code == 0
    for name in (
        "stage1/train.jsonl",
        "stage2/train.jsonl",
        "stage2/test.jsonl",
        "leaks.jsonl",
        "summary.json",
    ):
        assert (again / name).read_text() == (out / name).read_text()


def test_transfer_json_and_overwrite(files: dict[str, Path], tmp_path: Path, capsys) -> None:  # noqa: ANN001
    out = tmp_path / "s"
    args = [
        "transfer",
        "--source",
        str(files["summ"]),
        "--target",
        str(files["target"]),
        "-o",
        str(out),
        "--json",
    ]
    assert main(args) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["leaks"]["removed"] == 0 and data["stage2"]["rows"] == 20
    assert data["tokens_estimated"] is True
    assert main(args) == 1
    assert "already exists" in capsys.readouterr().err
    assert main([*args, "--force"]) == 0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"--source": "missing.jsonl"}, "No source maps"),
        ({"--target": "missing.jsonl"}, "missing.jsonl"),
        ({"--test": "missing.jsonl"}, "no such test file"),
        ({"--ratios": "0.5,0.1"}, "add up to 1"),
    ],
)
def test_transfer_bad_input_is_one_line_exit_1(
    files: dict[str, Path],
    tmp_path: Path,
    capsys,
    change: dict[str, str],
    message: str,  # noqa: ANN001
) -> None:
    options = {"--source": str(files["qa"]), "--target": str(files["target"])}
    options.update({k: str(tmp_path / v) if v.endswith(".jsonl") else v for k, v in change.items()})
    args = ["transfer", "-o", str(tmp_path / "o")]
    for key, value in options.items():
        args += [key, value]
    assert main(args) == 1
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
    assert not (tmp_path / "o").exists()


def test_transfer_repeated_source_flags_add_up(
    files: dict[str, Path], tmp_path: Path, capsys
) -> None:  # noqa: ANN001
    out = tmp_path / "stages"
    args = [
        "transfer",
        "--source",
        f"{files['qa']}:task=qa",
        "--source",
        f"{files['summ']}:task=summ",
    ]
    args += ["--target", str(files["target"]), "--check", "exact", "-o", str(out), "--json"]
    assert main(args) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["stage1"]["tasks"] == ["qa", "summ"]
    assert summary["stage1"]["rows"] + summary["leaks"]["removed"] == 35 + 10
    # a stage-1 source that cannot be opened is an error, not a stage without it
    args = ["transfer", "--source", str(files["qa"]), "--source", str(tmp_path / "gone.jsonl")]
    args += ["--target", str(files["target"]), "-o", str(tmp_path / "other")]
    assert main(args) == 1
    assert "Source gone (" in capsys.readouterr().err
    assert not (tmp_path / "other").exists()
