"""Export safety: a failure or a cancel mid-write leaves old outputs intact and no temp files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import polars as pl
import pytest

from studio.engine.dataset import Dataset
from studio.engine.errors import WriteError
from studio.engine.export import ExportOptions, export_dataset
from studio.engine.io import load_dataset
from studio.engine.progress import Cancelled, RunContext, running
from studio.engine.shape import Shape
from studio.engine.steps.base import ID

ROWS = [{"text": f"row {i}", "split": "train" if i % 2 else "test"} for i in range(40)]


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "src.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in ROWS) + "\n")
    return path


def _listing(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def _cancel_after(calls: int) -> RunContext:
    count = {"n": 0}

    def cancelled() -> bool:
        count["n"] += 1
        return count["n"] > calls

    return RunContext(is_cancelled=cancelled)


@pytest.mark.parametrize(
    ("fmt", "out", "per_split"),
    [
        ("jsonl", "o.jsonl", False),
        ("parquet", "o.parquet", False),
        ("csv", "o.csv", True),
        ("alpaca", "o.json", False),
        ("hf", "o_hf", False),
        ("hf", "o_hf", True),
    ],
)
def test_cancel_mid_write_leaves_old_outputs_and_no_temp(
    source: Path, tmp_path: Path, fmt: str, out: str, per_split: bool
) -> None:
    dataset = load_dataset(source)
    options = ExportOptions(
        output=tmp_path / out,
        format=fmt,
        per_split=per_split,
        batch_rows=4,
        fields={"instruction": "text", "output": "text"} if fmt == "alpaca" else None,
        force=True,
    )
    export_dataset(dataset, dataset.frame, options)
    before = _listing(tmp_path)
    shutil.copy(source, tmp_path / "copy")
    # change the data so a completed write would differ
    changed = dataset.frame.with_columns(pl.col("text") + "!")
    with pytest.raises(Cancelled), running(_cancel_after(5)):
        export_dataset(dataset, changed, options)
    (tmp_path / "copy").unlink()
    assert _listing(tmp_path) == before
    assert not [p for p in tmp_path.rglob(".*")]


def test_writer_failure_mid_write_leaves_old_file(tmp_path: Path) -> None:
    class Opaque:
        pass

    frame = pl.DataFrame(
        {
            ID: pl.Series(range(3), dtype=pl.UInt64),
            "text": ["a", "b", "c"],
            "obj": pl.Series([Opaque(), Opaque(), Opaque()], dtype=pl.Object),
        }
    )
    dataset = Dataset(
        frame.lazy(), "jsonl", [str(tmp_path / "src.jsonl")], 3, Shape("text", "text")
    )
    out = tmp_path / "o.jsonl"
    out.write_text("old\n")
    with pytest.raises(Exception):  # noqa: B017 - polars' own error for an unwritable value
        export_dataset(dataset, frame.lazy(), ExportOptions(output=out, format="jsonl", force=True))
    assert out.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o.jsonl"]


def test_not_enough_disk_space(
    source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from collections import namedtuple

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda _p: usage(10, 10, 0))
    dataset = load_dataset(source)
    with pytest.raises(WriteError, match="Not enough free disk space"):
        export_dataset(dataset, dataset.frame, ExportOptions(output=tmp_path / "o.jsonl"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["src.jsonl"]


def test_existing_split_file_blocks_without_force(source: Path, tmp_path: Path) -> None:
    (tmp_path / "o_test.jsonl").write_text("keep me\n")
    dataset = load_dataset(source)
    with pytest.raises(WriteError, match="o_test.jsonl already exists"):
        export_dataset(dataset, dataset.frame, ExportOptions(output=tmp_path / "o.jsonl"))
    assert (tmp_path / "o_test.jsonl").read_text() == "keep me\n"
    assert not (tmp_path / "o_train.jsonl").exists()
