"""`studio info`: human and JSON output, overrides and exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from studio.cli import main

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def broken(write_file) -> Path:  # noqa: ANN201
    rows = [json.dumps({"text": f"row {i}", "label": "ab"[i % 2]}) for i in range(6)]
    rows.insert(2, '{"text": "cut off')
    rows.insert(5, "[1, 2, 3]")
    return write_file("broken.jsonl", "\n".join(rows) + "\n")


def test_info_json(broken: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info", str(broken), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["format"] == "jsonl"
    assert info["rows"] == 6
    assert info["shape"] == "classification"
    assert info["columns"] == [
        {"name": "text", "dtype": "String", "role": "text"},
        {"name": "label", "dtype": "String", "role": "label"},
    ]
    assert [(p["file"], p["line"]) for p in info["problems"]] == [
        ("broken.jsonl", 3),
        ("broken.jsonl", 6),
    ]
    assert all(p["reason"] for p in info["problems"])


def test_info_human_lists_problems_with_file_and_line(
    broken: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["info", str(broken)]) == 0
    out = capsys.readouterr().out
    assert "jsonl, 6 rows, shape classification" in out
    assert "text: String  (text)" in out
    assert "broken.jsonl:3: malformed JSON" in out
    assert "broken.jsonl:6: not a JSON object" in out


def test_info_clean_file_says_no_problems(write_file, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_file("ok.csv", "instruction,input,output\nAdd,1 2,3\n")
    assert main(["info", str(path)]) == 0
    out = capsys.readouterr().out
    assert "csv, 1 rows, shape alpaca" in out and "no problems" in out


def test_info_overrides(write_file, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_file("d.csv", "a;b;c\nhello there;x;1\nbye now;y;2\n")
    argv = ["info", str(path), "--json", "--text", "a", "--label", "b", "--kind", "classification"]
    assert main([*argv, "--separator", ";"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert (info["shape"], info["text_column"], info["label_column"]) == (
        "classification",
        "a",
        "b",
    )
    roles = {c["name"]: c["role"] for c in info["columns"]}
    assert roles == {"a": "text", "b": "label", "c": ""}
    assert info["options"]["separator"] == ";"


def test_info_no_header_flag(write_file, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_file("d.csv", "name,value\nx,1\n")
    assert main(["info", str(path), "--json", "--no-header"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["rows"] == 2 and info["columns"][0]["name"] == "column_1"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.jsonl", None, "no such file"),
        ("empty.jsonl", b"", "empty"),
        ("binary.jsonl", b"\x00\x01\x02\x03binary", "not a text file"),
        ("table.xlsx", b"PK\x03\x04zip", "unsupported"),
    ],
)
def test_info_data_errors_exit_1_with_one_line(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
    content: bytes | None,
    message: str,
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    assert main(["info", str(path)]) == 1
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert captured.out == ""
    assert err.startswith("studio info:") and message in err and name in err
    assert len(err.splitlines()) == 1


def test_info_usage_errors_exit_2(write_file) -> None:
    path = write_file("d.jsonl", '{"text": "x"}\n')
    with pytest.raises(SystemExit) as exc:
        main(["info", str(path), "--kind", "poetry"])
    assert exc.value.code == 2
    with pytest.raises(SystemExit) as exc:
        main(["info"])
    assert exc.value.code == 2


def test_info_bad_column_override_is_a_data_error(
    write_file, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_file("d.jsonl", '{"text": "x"}\n')
    assert main(["info", str(path), "--label", "nope"]) == 1
    assert "No column named 'nope'" in capsys.readouterr().err


def test_python_dash_m_studio_info(broken: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    ok = subprocess.run(
        [sys.executable, "-m", "studio", "info", str(broken), "--json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        check=False,
    )
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["rows"] == 6
    bad = subprocess.run(
        [sys.executable, "-m", "studio", "info", str(broken.with_name("absent.jsonl"))],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        check=False,
    )
    assert bad.returncode == 1
    assert "absent.jsonl" in bad.stderr and "Traceback" not in bad.stderr
