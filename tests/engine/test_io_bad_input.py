"""Bad input never costs the good rows; unreadable files give one sentence naming the file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from studio.engine.errors import LoadError
from studio.engine.io import load_dataset

GOOD = [json.dumps({"text": f"good {i}", "label": "a"}) for i in range(6)]


def _lines(*items: str) -> str:
    return "".join(item + "\n" for item in items)


def test_malformed_and_non_object_lines_become_problems(write_file) -> None:
    text = _lines(GOOD[0], '{"text": "cut', GOOD[1], "[1, 2]", '"just a string"', "42", GOOD[2])
    ds = load_dataset(write_file("d.jsonl", text))
    assert ds.frame.collect()["text"].to_list() == ["good 0", "good 1", "good 2"]
    assert [(p.file, p.line) for p in ds.problems] == [
        ("d.jsonl", 2),
        ("d.jsonl", 4),
        ("d.jsonl", 5),
        ("d.jsonl", 6),
    ]
    assert "malformed JSON" in ds.problems[0].reason
    assert "not a JSON object" in ds.problems[1].reason
    assert [ds.source_of(i) for i in range(3)] == ["d.jsonl:1", "d.jsonl:3", "d.jsonl:7"]
    assert ds.origins[0].lines is not None


def test_two_objects_on_one_line_and_trailing_garbage(write_file) -> None:
    text = _lines(GOOD[0], GOOD[1] + GOOD[2], GOOD[3] + " trailing", GOOD[4])
    ds = load_dataset(write_file("d.jsonl", text))
    assert ds.frame.collect()["text"].to_list() == ["good 0", "good 4"]
    assert [p.line for p in ds.problems] == [2, 3]


def test_invalid_utf8_bytes_keep_the_row_with_a_problem(write_file) -> None:
    data = (GOOD[0] + "\n").encode() + b'{"text": "caf\xe9 \xff", "label": "a"}\n'
    data += '{"text": "déjà", "label": "b"}\n'.encode()
    ds = load_dataset(write_file("d.jsonl", data))
    texts = ds.frame.collect()["text"].to_list()
    assert texts[0] == "good 0" and texts[2] == "déjà"
    assert "\ufffd" in texts[1]
    assert [(p.line, "UTF-8" in p.reason) for p in ds.problems] == [(2, True)]


def test_many_bad_lines_spread_through_a_large_file(write_file) -> None:
    lines = [json.dumps({"text": f"row {i}", "n": i}) for i in range(20_000)]
    bad = set(range(7, 20_000, 997))
    for i in bad:
        lines[i] = '{"text": broken'
    ds = load_dataset(write_file("d.jsonl", _lines(*lines)))
    assert ds.rows == 20_000 - len(bad)
    assert [p.line for p in ds.problems] == sorted(i + 1 for i in bad)
    frame = ds.frame.collect()
    assert frame["n"].to_list() == [i for i in range(20_000) if i not in bad]
    ids = frame["_id"]
    expected = [f"d.jsonl:{i + 1}" for i in range(20_000) if i not in bad]
    assert ds.source_ids(ids).to_list() == expected


def test_chat_row_whose_messages_is_not_a_list(write_file) -> None:
    ok = json.dumps({"messages": [{"role": "user", "content": "hi"}]})
    text = _lines(ok, json.dumps({"messages": "not a list"}), ok)
    ds = load_dataset(write_file("c.jsonl", text))
    assert isinstance(ds.frame.collect_schema()["messages"], pl.List)
    assert ds.rows == 3 and ds.shape.kind == "chat"
    assert ds.frame.collect()["messages"][1] is None
    assert [(p.line, "messages" in p.reason) for p in ds.problems] == [(2, True)]


def test_ragged_csv_rows_become_problems(write_file) -> None:
    text = (
        "text,label,score\n"
        "fine,a,1\n"
        "too,many,fields,here\n"
        "too few\n"
        "short,b\n"
        "empty values are fine,,\n"
        "\n"
        '"quoted, with comma",c,3\n'
    )
    ds = load_dataset(write_file("r.csv", text))
    frame = ds.frame.collect()
    assert frame["text"].to_list() == ["fine", "empty values are fine", "quoted, with comma"]
    assert [(p.file, p.line) for p in ds.problems] == [("r.csv", 3), ("r.csv", 4), ("r.csv", 5)]
    assert "too many fields" in ds.problems[0].reason
    assert "too few fields" in ds.problems[1].reason
    assert [ds.source_of(i) for i in range(3)] == ["r.csv:2", "r.csv:6", "r.csv:8"]


def test_csv_unclosed_quote_keeps_rows_before_it(write_file) -> None:
    text = 'text,label\nfirst,a\nsecond,b\n"never closed,c\nthird,d\n'
    ds = load_dataset(write_file("q.csv", text))
    assert ds.frame.collect()["text"].to_list() == ["first", "second"]
    assert [p.line for p in ds.problems] == [4]


def test_json_array_with_a_broken_element_keeps_the_rest(write_file) -> None:
    text = '[\n{"text": "a"},\n{"text": oops},\n"not an object",\n{"text": "b"}\n]\n'
    ds = load_dataset(write_file("a.json", text))
    assert ds.frame.collect()["text"].to_list() == ["a", "b"]
    assert [p.line for p in ds.problems] == [3, 4]
    assert ds.source_of(1) == "a.json:5"


@pytest.mark.parametrize(
    ("name", "content", "pattern"),
    [
        ("empty.jsonl", b"", "empty"),
        ("blank.jsonl", b"\n  \n\n", "no rows"),
        ("empty.csv", b"", "empty"),
        ("binary.jsonl", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not a text file"),
        ("binary.csv", bytes(range(256)) * 4, "not a text file"),
        ("allbad.jsonl", b"nope\nnot json\n", "no line could be read"),
        ("sheet.xlsx", b"PK\x03\x04rest of a zip", "unsupported"),
        ("fake.parquet", b"this is not parquet at all", "not a Parquet file"),
        ("scalar.json", b"42", "not valid JSON"),
    ],
)
def test_unreadable_files_give_one_sentence_naming_the_file(
    write_file, name: str, content: bytes, pattern: str
) -> None:
    path = write_file(name, content)
    with pytest.raises(LoadError, match=pattern) as info:
        load_dataset(path)
    message = str(info.value)
    assert name in message and "\n" not in message


def test_missing_file_and_empty_glob(tmp_path: Path) -> None:
    with pytest.raises(LoadError, match="no such file"):
        load_dataset(tmp_path / "absent.jsonl")
    with pytest.raises(LoadError, match="No files match"):
        load_dataset(str(tmp_path / "*.jsonl"))
    (tmp_path / "empty_dir").mkdir()
    with pytest.raises(LoadError, match="empty"):
        load_dataset(tmp_path / "empty_dir")


_DROP_CAPABILITIES = """
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
class Header(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]
class Data(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32)]
header, data = Header(0x20080522, 0), (Data * 2)()
assert libc.capget(ctypes.byref(header), data) == 0
data[0].effective = data[1].effective = 0
assert libc.capset(ctypes.byref(header), data) == 0
"""


def test_unreadable_file_permission_denied(tmp_path: Path) -> None:
    """Root reads anything, so as root the check runs in a child that drops its capabilities."""
    path = tmp_path / "secret.jsonl"
    path.write_text(GOOD[0] + "\n")
    path.chmod(0)
    code = (
        (_DROP_CAPABILITIES if os.geteuid() == 0 else "")
        + "from studio.cli import main\n"
        + f"raise SystemExit(main(['info', {str(path)!r}]))\n"
    )
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        check=False,
    )
    assert result.returncode == 1, result.stderr
    assert "secret.jsonl" in result.stderr and "permission denied" in result.stderr
    assert "Traceback" not in result.stderr


def test_origin_lines_are_an_int_array_only_when_lines_were_skipped(write_file) -> None:
    clean = load_dataset(write_file("clean.jsonl", _lines(*GOOD)))
    assert clean.origins[0].lines is None
    dirty = load_dataset(write_file("dirty.jsonl", _lines(GOOD[0], "{", GOOD[1])))
    lines = dirty.origins[0].lines
    assert isinstance(lines, np.ndarray) and lines.dtype.kind == "i"
    assert lines.tolist() == [1, 3]


_LINE_KINDS = st.sampled_from(["good", "good", "good", "blank", "cut", "array", "text", "number"])


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(kinds=st.lists(_LINE_KINDS, min_size=1, max_size=120), crlf=st.booleans())
def test_any_mix_of_lines_keeps_every_good_row_at_its_line(
    tmp_path: Path, kinds: list[str], crlf: bool
) -> None:
    made = {
        "blank": "",
        "cut": '{"text": "cut',
        "array": "[1, 2]",
        "text": "plain words",
        "number": "7",
    }
    lines = [
        json.dumps({"text": f"line {i}", "n": i}) if kind == "good" else made[kind]
        for i, kind in enumerate(kinds)
    ]
    path = tmp_path / "mix.jsonl"
    path.write_text(("\r\n" if crlf else "\n").join(lines) + "\n")
    good = [i for i, kind in enumerate(kinds) if kind == "good"]
    bad = [i + 1 for i, kind in enumerate(kinds) if kind not in ("good", "blank")]
    if not good:
        with pytest.raises(LoadError):
            load_dataset(path)
        return
    ds = load_dataset(path)
    frame = ds.frame.collect()
    assert frame["n"].to_list() == good
    assert [p.line for p in ds.problems] == bad
    assert ds.source_ids(frame["_id"]).to_list() == [f"mix.jsonl:{i + 1}" for i in good]
