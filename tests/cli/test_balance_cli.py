from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from imblearn.over_sampling import RandomOverSampler
from imblearn.under_sampling import RandomUnderSampler

from studio.cli import main


@pytest.fixture
def data(write_file) -> Path:  # noqa: ANN001
    rng = np.random.default_rng(0)
    labels = rng.choice(["billing", "tech", "fraud"], size=300, p=[0.7, 0.25, 0.05])
    words = ["card", "refund", "login", "error", "payment", "password", "screen", "charge"]
    rows = [
        {"text": f"case {i}: " + " ".join(rng.choice(words, size=9)), "label": str(label)}
        for i, label in enumerate(labels)
    ]
    return write_file("d.jsonl", "\n".join(json.dumps(r) for r in rows) + "\n")


def labels_of(path: Path) -> Counter:
    return Counter(pl.read_ndjson(path, infer_schema_length=None)["label"].to_list())


def peer(path: Path, sampler) -> Counter:  # noqa: ANN001
    y = pl.read_ndjson(path, infer_schema_length=None)["label"].to_numpy()
    _, out = sampler.fit_resample(np.arange(len(y)).reshape(-1, 1), y)
    return Counter(out.tolist())


def test_balance_over_and_under_match_imbalanced_learn(data: Path, tmp_path: Path) -> None:
    out = tmp_path / "over.jsonl"
    assert (
        main(["balance", str(data), "--label", "label", "--strategy", "over", "-o", str(out)]) == 0
    )
    assert labels_of(out) == peer(data, RandomOverSampler(random_state=0))
    copies = pl.read_ndjson(out, infer_schema_length=None).filter(pl.col("copy_of").is_not_null())
    assert copies.height == sum(labels_of(out).values()) - 300
    out = tmp_path / "under.jsonl"
    args = ["balance", str(data), "--label", "label", "--strategy", "under", "--seed", "3"]
    assert main([*args, "--target", "not minority", "-o", str(out)]) == 0
    assert labels_of(out) == peer(data, RandomUnderSampler(sampling_strategy="not minority"))


def test_balance_targets_and_seed_repeat(data: Path, tmp_path: Path) -> None:
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    args = ["balance", str(data), "--strategy", "over", "--target", "fraud=100,tech=90"]
    assert main([*args, "--seed", "4", "-o", str(a)]) == 0
    assert main([*args, "--seed", "4", "-o", str(b)]) == 0
    assert a.read_bytes() == b.read_bytes()
    counts = labels_of(a)
    assert counts["fraud"] == 100 and counts["tech"] == 90


def test_balance_augment_writes_provenance(data: Path, tmp_path: Path, capsys) -> None:  # noqa: ANN001
    out = tmp_path / "aug.jsonl"
    args = ["balance", str(data), "--strategy", "augment", "--target", "fraud=40"]
    assert main([*args, "--column", "text", "-o", str(out)]) == 0
    frame = pl.read_ndjson(out, infer_schema_length=None)
    new = frame.filter(pl.col("aug_source").is_not_null())
    assert labels_of(out)["fraud"] == 40
    assert set(new["label"].to_list()) == {"fraud"}
    assert new["aug_method"].str.starts_with("eda.").all()
    assert "new rows" in capsys.readouterr().err


def test_balance_errors_are_one_line(data: Path, tmp_path: Path, capsys) -> None:  # noqa: ANN001
    out = tmp_path / "x.jsonl"
    code = main(["balance", str(data), "--strategy", "over", "--target", "nope=3", "-o", str(out)])
    assert code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("studio balance:") and "not in the data" in err[-1]
    assert not out.exists()
    with pytest.raises(SystemExit) as exc:
        main(["balance", str(data), "--strategy", "sideways", "-o", str(out)])
    assert exc.value.code == 2


def test_split_writes_three_files_in_the_chosen_format(data: Path, tmp_path: Path) -> None:
    folder = tmp_path / "splits"
    args = ["split", str(data), "--ratios", "0.8,0.1,0.1", "--stratify", "label", "--seed", "1"]
    assert main([*args, "-o", str(folder)]) == 0
    files = sorted(p.name for p in folder.iterdir())
    assert files == ["test.jsonl", "train.jsonl", "validation.jsonl"]
    parts = {p.stem: pl.read_ndjson(p, infer_schema_length=None) for p in folder.iterdir()}
    assert sum(p.height for p in parts.values()) == 300
    assert "split" not in parts["train"].columns
    assert parts["train"].height == 240 and parts["test"].height == 30
    assert main([*args, "-o", str(folder), "--format", "parquet"]) == 0
    assert pl.read_parquet(folder / "train.parquet").equals(parts["train"])
    assert main([*args, "-o", str(folder)]) == 1  # exists without --force


def test_split_keeps_copies_in_train(data: Path, tmp_path: Path) -> None:
    over = tmp_path / "over.jsonl"
    assert main(["balance", str(data), "--strategy", "over", "-o", str(over)]) == 0
    folder = tmp_path / "s"
    assert main(["split", str(over), "--stratify", "label", "-o", str(folder)]) == 0
    for name in ("validation", "test"):
        assert (
            pl.read_ndjson(folder / f"{name}.jsonl", infer_schema_length=None)[
                "copy_of"
            ].null_count()
            == pl.read_ndjson(folder / f"{name}.jsonl", infer_schema_length=None).height
        )


def test_grouped_split(write_file, tmp_path: Path) -> None:  # noqa: ANN001
    rows = [{"text": f"t{i}", "label": "ab"[i % 2], "dup_cluster": i // 4} for i in range(200)]
    path = write_file("g.jsonl", "\n".join(json.dumps(r) for r in rows) + "\n")
    folder = tmp_path / "g"
    args = ["split", str(path), "--group", "dup_cluster", "--ratios", "0.6,0.2,0.2"]
    assert main([*args, "-o", str(folder)]) == 0
    seen: dict[int, str] = {}
    for file in folder.iterdir():
        for cluster in pl.read_ndjson(file, infer_schema_length=None)["dup_cluster"].to_list():
            assert seen.setdefault(cluster, file.stem) == file.stem
