from __future__ import annotations

import json

import polars as pl
import pytest

from studio.cli import main
from tests.tiny_models import SENTENCES, tiny_t5


@pytest.fixture
def data(tmp_path):  # noqa: ANN001, ANN201
    path = tmp_path / "d.jsonl"
    rows = [{"text": s, "label": "a" if i < 6 else "b"} for i, s in enumerate(SENTENCES)]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return path


def test_augment_eda_and_paraphrase_write_new_rows(data, tmp_path, capsys) -> None:  # noqa: ANN001
    out = tmp_path / "eda.jsonl"
    assert (
        main(
            [
                "augment",
                str(data),
                "--method",
                "eda",
                "--only-label",
                "b",
                "--per-row",
                "2",
                "-o",
                str(out),
            ]
        )
        == 0
    )
    frame = pl.read_ndjson(out)
    new = frame.filter(pl.col("aug_method").is_not_null())
    assert new.height > 0 and set(new["label"]) == {"b"}
    model = tiny_t5(tmp_path / "t5")
    out2 = tmp_path / "para.parquet"
    code = main(
        [
            "augment",
            str(data),
            "--method",
            "paraphrase",
            "--model",
            str(model),
            "--min-similarity",
            "0",
            "--seed",
            "1",
            "-o",
            str(out2),
        ]
    )
    assert code == 0
    para = pl.read_parquet(out2)
    assert para.height > 8 and para["aug_method"].drop_nulls().str.starts_with("paraphrase:").all()
    assert "new rows" in capsys.readouterr().err


def test_augment_usage_and_data_errors(data, tmp_path, capsys) -> None:  # noqa: ANN001
    with pytest.raises(SystemExit) as exc:
        main(["augment", str(data), "--method", "nope", "-o", str(tmp_path / "x.jsonl")])
    assert exc.value.code == 2
    assert (
        main(["augment", str(data), "--method", "paraphrase", "-o", str(tmp_path / "x.jsonl")]) == 1
    )
    assert "needs --model" in capsys.readouterr().err
