from __future__ import annotations

import json

import polars as pl

from studio.engine.io import load_dataset
from studio.engine.report import build_report
from studio.engine.steps.base import ID


def write_jsonl(path, rows) -> None:  # noqa: ANN001
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")


def test_report_figures_and_rows_behind_them(tmp_path) -> None:  # noqa: ANN001
    rows = [
        {"text": f"message number {i} about the weather today", "label": "ham" if i % 5 else "spam"}
        for i in range(60)
    ]
    rows += [
        {"text": "message number 1 about the weather today", "label": "ham"}
    ]  # exact duplicate of row 1
    rows += [
        {"text": "MESSAGE number 2 about the weather today!", "label": "ham"}
    ]  # normalized duplicate of row 2
    rows += [
        {"text": "message number 3 about the weather today", "label": "spam"}
    ]  # conflicts with row 3 (ham)
    rows += [{"text": "", "label": "ham"}]
    path = tmp_path / "d.jsonl"
    write_jsonl(path, rows)
    ds = load_dataset(path)
    rep = build_report(
        ds.frame, ds.shape, name="d.jsonl", label_errors=False, languages=False, max_tokens=8
    )
    v = rep.values
    assert v["rows"] == 64 and v["shape"] == "classification"
    assert rep.figure("duplicate_rate").ids == [60, 62]
    assert set(rep.figure("normalized_duplicate_rate").ids) == {60, 61, 62}
    assert set(rep.figure("conflicting_labels").ids) == {3, 62}
    assert rep.figure("empty.text").ids == [63]
    assert v["classes"] == 2 and v["smallest_class"] == 13
    assert v["tokens_estimated"] is True
    assert v["over_limit"] == len(rep.figure("over_limit").ids) > 0
    # the same figures in Markdown and JSON
    md = rep.to_markdown()
    data = json.loads(json.dumps(rep.to_json()))
    assert data["figures"]["rows"] == 64 and "| Rows | 64 |" in md
    assert data["figures"]["duplicate_rate"] == v["duplicate_rate"]
    assert "<h1>Quality report: d.jsonl</h1>" in rep.to_html()


def test_chat_rows_measure_their_conversation(tmp_path) -> None:  # noqa: ANN001
    rows = [
        {
            "messages": [
                {"role": "user", "content": "hi " * i},
                {"role": "assistant", "content": "ok"},
            ]
        }
        for i in range(1, 6)
    ]
    path = tmp_path / "c.jsonl"
    write_jsonl(path, rows)
    ds = load_dataset(path)
    rep = build_report(ds.frame, ds.shape, label_errors=False, languages=False)
    assert rep.values["shape"] == "chat"
    assert rep.values["chars_max"] == len("hi " * 5 + "\nok")


def test_split_leaks_are_found() -> None:
    frame = pl.DataFrame(
        {
            "text": ["a b c", "d e f", "a b c", "g h i"],
            "split": ["train", "train", "test", "validation"],
        }
    )
    frame = frame.with_row_index(ID).with_columns(pl.col(ID).cast(pl.UInt64))
    from studio.engine.shape import detect_shape

    rep = build_report(frame, detect_shape(frame), label_errors=False, languages=False)
    assert rep.figure("split_leaks").ids == [2]


def test_near_duplicate_rate_counts_planted_near_copies(tmp_path) -> None:  # noqa: ANN001
    base = [
        f"the quick brown fox number {i} jumps over the lazy dog near the river bank today"
        for i in range(20)
    ]
    words = base[3].split()
    words[-1] = "tonight"
    rows = [{"text": t} for t in base] + [{"text": " ".join(words)}]
    path = tmp_path / "n.jsonl"
    write_jsonl(path, rows)
    ds = load_dataset(path)
    rep = build_report(ds.frame, ds.shape, label_errors=False, languages=False)
    near = rep.figure("near_duplicate_rate")
    assert near is not None and 20 in near.ids
    assert rep.figure("duplicate_rate").ids == []
