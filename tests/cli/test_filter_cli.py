"""Headless filter, sample, select and replace: exact contracts, rows in/out on stderr, and the
same rows as the steps applied in a workspace and replayed from a saved recipe."""

from __future__ import annotations

import json
import random
from pathlib import Path

import polars as pl
import pytest

from studio.cli import main
from studio.engine.io import load_dataset
from studio.engine.steps.base import ID
from studio.engine.steps.select import DiverseSample, DomainScore, Sample
from studio.engine.workspace import Workspace

WORDS = {
    "cook": [
        "oven",
        "bake",
        "flour",
        "sugar",
        "butter",
        "dough",
        "simmer",
        "sauce",
        "garlic",
        "onion",
    ],
    "money": [
        "stock",
        "bond",
        "interest",
        "dividend",
        "inflation",
        "bank",
        "loan",
        "equity",
        "pension",
    ],
    "space": ["galaxy", "telescope", "nebula", "orbit", "planet", "comet", "asteroid", "quasar"],
}


@pytest.fixture
def data(tmp_path: Path) -> Path:
    rng = random.Random(1)
    rows = []
    for i in range(120):
        topic = "space" if i % 40 == 0 else ("cook" if i % 2 else "money")
        text = f"Tell me about the {rng.choice(WORDS[topic])} and {rng.choice(WORDS[topic])}"
        rows.append(
            {
                "instruction": ("Write " if i % 3 == 0 else "Explain ") + text,
                "output": ("As an AI " if i % 10 == 0 else "") + "answer " * (i % 7),
                "label": "spam" if i % 4 == 0 else "ham",
            }
        )
    path = tmp_path / "data.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


def read(path: Path) -> pl.DataFrame:
    return pl.read_ndjson(path)


def test_filter_where(data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out.jsonl"
    code = main(
        [
            "filter",
            str(data),
            "--where",
            "output ILIKE '%as an ai%' AND label = 'spam'",
            "-o",
            str(out),
        ]
    )
    assert code == 0
    err = capsys.readouterr().err
    assert "120 → 6 rows" in err and "wrote 6 rows" in err
    assert read(out)["label"].unique().to_list() == ["spam"]


def test_filter_bad_expression_exits_1(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["filter", str(data), "--where", "lenght(output) > 3", "-o", str(tmp_path / "o.jsonl")]
    )
    assert code == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Columns are: instruction, output, label" in err
    assert not (tmp_path / "o.jsonl").exists()
    code = main(["filter", str(data), "--where", "nope = 1", "-o", str(tmp_path / "o.jsonl")])
    assert code == 1 and "Unknown column 'nope'" in capsys.readouterr().err


def test_sample_matches_the_workspace_and_recipe_replay(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dataset = load_dataset(data)
    cases = [
        (["-n", "30", "--seed", "4"], Sample(n=30, seed=4)),
        (["-n", "25%", "--stratify", "label"], Sample(fraction=0.25, stratify="label")),
        (["--fraction", "0.1", "--seed", "2"], Sample(fraction=0.1, seed=2)),
        (["-n", "12", "--diverse", "3", "--seed", "1"], DiverseSample(k=3, n=12, seed=1)),
    ]
    for i, (flags, step) in enumerate(cases):
        out = tmp_path / f"s{i}.jsonl"
        assert main(["sample", str(data), *flags, "-o", str(out)]) == 0
        ws = Workspace(dataset)
        ws.apply(step)
        live = ws.frame.collect()
        recipe = tmp_path / f"s{i}.recipe.json"
        ws.recipe().save(recipe)
        replayed = tmp_path / f"r{i}.jsonl"
        assert main(["run", str(recipe), str(data), "-o", str(replayed)]) == 0
        cli_rows = read(out)
        assert cli_rows["instruction"].to_list() == live["instruction"].to_list()
        assert read(replayed).equals(cli_rows)
    err = capsys.readouterr().err
    assert "120 → 30 rows" in err and "120 → 12 rows" in err
    spread = read(tmp_path / "s3.jsonl")
    assert spread["cluster"].n_unique() == 3
    assert (
        spread["instruction"]
        .str.contains("galaxy|telescope|nebula|orbit|planet|comet|asteroid|quasar")
        .any()
    )


def test_sample_usage_errors(data: Path, tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["sample", str(data), "-n", "lots", "-o", str(tmp_path / "o.jsonl")])
    assert exc.value.code == 2
    with pytest.raises(SystemExit):
        main(["sample", str(data), "-o", str(tmp_path / "o.jsonl")])


def test_select_by_keywords_and_reference(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "space.jsonl"
    args = [
        "select",
        str(data),
        "--keywords",
        "galaxy, telescope nebula orbit planet comet,asteroid quasar",
    ]
    assert main([*args, "--column", "instruction", "--min-score", "0.2", "-o", str(out)]) == 0
    kept = read(out)
    assert kept.height == 3 and "domain_score" in kept.columns
    ref = tmp_path / "ref.txt"
    ref.write_text(
        "comet and asteroid orbit\nquasar near the galaxy\ntelescope, nebula, planet\n",
        encoding="utf-8",
    )
    out2 = tmp_path / "space2.parquet"
    args = ["select", str(data), "--reference", str(ref), "--column", "instruction"]
    assert main([*args, "--min-score", "0.2", "-o", str(out2)]) == 0
    assert pl.read_parquet(out2).height == 3
    ws = Workspace(load_dataset(data))
    ws.apply(DomainScore(column="instruction", reference=str(ref), min_score=0.2))
    assert ws.frame.collect().drop(ID).equals(pl.read_parquet(out2))
    assert "120 → 3 rows" in capsys.readouterr().err


def test_replace_regex_and_preview(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "r.jsonl"
    args = ["replace", str(data), "--column", "instruction", "--find", r"^(Write|Explain) (\w+)"]
    assert main([*args, "--replace", r"\2 \1", "--regex", "-o", str(out)]) == 0
    first = read(out)["instruction"].to_list()[0]
    assert first.startswith("Tell Write me about")
    capsys.readouterr()
    assert main([*args, "--replace", "$2!", "--regex", "--preview"]) == 0
    captured = capsys.readouterr()
    assert "120 rows would change" in captured.err
    assert "'Tell! me about" in captured.out
    code = main(
        [
            "replace",
            str(data),
            "--column",
            "instruction",
            "--find",
            "(",
            "--replace",
            "",
            "--regex",
            "-o",
            str(tmp_path / "x.jsonl"),
        ]
    )
    assert code == 1 and "Not a valid regular expression" in capsys.readouterr().err
