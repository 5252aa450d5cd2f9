"""The bundled sample data: reproducible from its generator, and planted as documented."""

from __future__ import annotations

import importlib.util
from collections import Counter
from pathlib import Path

import polars as pl

from studio.engine.io import load_dataset

SAMPLES = Path(__file__).resolve().parents[2] / "sample_data"
FILES = ("instructions.jsonl", "reviews.csv", "chat.jsonl", "broken.jsonl")


def test_generator_reproduces_the_committed_files(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("sample_generate", SAMPLES / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(tmp_path)
    for name in FILES:
        assert (tmp_path / name).read_bytes() == (SAMPLES / name).read_bytes(), name
    assert sum((SAMPLES / name).stat().st_size for name in FILES) < 2_000_000


def test_instructions_sample_has_the_planted_rows() -> None:
    ds = load_dataset(SAMPLES / "instructions.jsonl")
    assert ds.shape.kind == "alpaca" and ds.problems == [] and 1400 <= ds.rows <= 1600
    frame = ds.frame.collect().drop("_id")
    exact = frame.height - frame.unique().height
    key = pl.concat_str(
        [
            pl.col(c).str.to_lowercase().str.replace_all(r"\s+", " ").str.strip_chars()
            for c in frame.columns
        ]
    )
    normalized = frame.height - frame.select(key.alias("k")).unique().height
    assert exact >= 20 and normalized > exact
    assert frame.filter(pl.col("output").str.strip_chars() == "").height >= 10
    assert frame.filter(pl.col("output").str.len_chars() > 5000).height >= 3
    assert frame.filter(pl.col("output").str.contains("as an AI language model")).height >= 3
    assert frame.filter(pl.col("output").str.contains("{{name}}", literal=True)).height >= 3


def test_reviews_sample_is_imbalanced_with_conflicts() -> None:
    ds = load_dataset(SAMPLES / "reviews.csv")
    assert ds.shape.kind == "classification" and ds.shape.label == "label"
    frame = ds.frame.collect()
    shares = {k: v / frame.height for k, v in Counter(frame["label"].to_list()).items()}
    assert len(shares) >= 4
    ordered = sorted(shares.values(), reverse=True)
    assert 0.6 < ordered[0] < 0.8 and 0.12 < ordered[1] < 0.28 and ordered[-1] < 0.05
    conflicts = (
        frame.group_by("text").agg(pl.col("label").n_unique().alias("n")).filter(pl.col("n") > 1)
    )
    assert conflicts.height >= 3


def test_chat_sample_has_malformed_rows() -> None:
    ds = load_dataset(SAMPLES / "chat.jsonl")
    assert ds.shape.kind == "chat" and ds.rows == 300
    turns = ds.frame.collect()["messages"].to_list()
    roles = [[t["role"] for t in m] if m is not None else None for m in turns]
    assert any(r is None for r in roles)  # not a list
    assert any(r is not None and "assistant" not in r for r in roles)
    assert any(r is not None and "bot" in r for r in roles)
    assert any(m is not None and any(t["content"] is None for t in m) for m in turns)
    assert any(r is not None and any(a == b for a, b in zip(r, r[1:], strict=False)) for r in roles)


def test_broken_sample_keeps_good_rows_and_names_bad_lines() -> None:
    ds = load_dataset(SAMPLES / "broken.jsonl")
    assert ds.rows >= 70 and len(ds.problems) >= 5
    assert all(p.file == "broken.jsonl" and p.line for p in ds.problems)
    assert any("UTF-8" in p.reason for p in ds.problems)
