"""The table reads windows with `frame.slice(offset, n)`: the slice must reach the reader, or
every window of a large Parquet/Arrow file decodes the whole file."""

from __future__ import annotations

import polars as pl

from studio.engine.io import load_dataset


def test_parquet_slices_are_pushed_into_the_scan(tmp_path) -> None:  # noqa: ANN001
    path = tmp_path / "d.parquet"
    pl.DataFrame(
        {"text": [f"row {i}" for i in range(5000)], "label": ["a", "b"] * 2500}
    ).write_parquet(path)
    ds = load_dataset(path)
    plan = ds.frame.slice(4000, 10).explain()
    # pushed down: the slice is an attribute of the scan, not a SLICE node above it
    assert "SLICE: Positive { offset: 4000, len: 10 }" in plan, plan
    assert "SLICE[" not in plan, plan
    window = ds.frame.slice(4000, 10).collect()
    assert window["_id"].to_list() == list(range(4000, 4010))
    assert window["text"][0] == "row 4000"


def test_arrow_ipc_slices_are_pushed_into_the_scan(tmp_path) -> None:  # noqa: ANN001
    path = tmp_path / "d.arrow"
    pl.DataFrame({"text": [f"row {i}" for i in range(5000)]}).write_ipc(path)
    ds = load_dataset(path)
    plan = ds.frame.slice(10, 5).explain()
    assert "SLICE: Positive { offset: 10, len: 5 }" in plan, plan
    assert "SLICE[" not in plan, plan
    assert ds.frame.slice(10, 5).collect()["text"][0] == "row 10"
