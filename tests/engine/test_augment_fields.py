"""Several augmented fields per new row (instruction + response) and the aug_model column."""

from __future__ import annotations

import json

import polars as pl
import pytest

from studio.cli import main
from studio.engine.augment import both_columns, parse_fields
from studio.engine.errors import StepError
from studio.engine.io import load_dataset
from studio.engine.recipe import Recipe
from studio.engine.steps.augment import AugmentEda
from studio.engine.steps.augment_models import AugmentModel
from studio.engine.steps.base import ID, Step
from tests.tiny_models import SENTENCES, tiny_marian, tiny_t5

INSTRUCTIONS = [
    "explain how a kite stays up in the windy autumn sky",
    "list three simple ways to keep fresh bread soft longer",
    "describe the quiet sound of rain on a metal roof",
    "write a polite note asking a neighbour to lower music",
    "summarise why people plant tall trees around big farms",
    "suggest a calm morning routine for a busy school week",
]
OUTPUTS = [
    "warm air and steady wind push under the kite while the string holds it at an angle",
    "keep the bread in a cloth bag, freeze extra slices and avoid the cold fridge shelf",
    "the rain taps softly at first and then drums in a steady rhythm across the roof",
    "dear neighbour, could you please turn the music down a little after ten tonight",
    "tall trees break the wind, hold the soil in place and give shade to the animals",
    "wake at the same time, stretch for five minutes and eat breakfast before any screen",
]


@pytest.fixture
def alpaca(tmp_path):  # noqa: ANN001, ANN201
    path = tmp_path / "inst.jsonl"
    rows = [
        {"instruction": i, "input": "", "output": o}
        for i, o in zip(INSTRUCTIONS, OUTPUTS, strict=True)
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return path


def test_field_choices_resolve_by_shape(alpaca) -> None:  # noqa: ANN001
    frame = load_dataset(alpaca).frame
    assert both_columns(frame) == ("instruction", "output")
    assert parse_fields("both", frame) == ("instruction", "output")
    assert parse_fields("response", frame) == ("output",)
    assert parse_fields("output, instruction", frame) == ("output", "instruction")
    assert parse_fields("", frame) == ()
    plain = pl.DataFrame(
        {ID: [0], "text": ["hello there"]}, schema={ID: pl.UInt64, "text": pl.String}
    )
    with pytest.raises(StepError, match="'both' needs instruction data"):
        parse_fields("both", plain)


def test_eda_on_both_fields_changes_both_with_provenance(alpaca) -> None:  # noqa: ANN001
    data = load_dataset(alpaca)
    df = data.frame.collect()
    step = AugmentEda(columns=("instruction", "output"), per_row=2, seed=4)
    report = step.run(df)
    out = report.frame
    assert out.head(df.height).select(df.columns).equals(df)  # originals unchanged
    new = report.new_rows()
    assert new.height == report.added > 0
    src = df.rename({"instruction": "i_src", "output": "o_src"}).select(ID, "i_src", "o_src")
    joined = new.join(src, left_on="aug_source", right_on=ID)
    assert joined.height == new.height
    assert (joined["instruction"] != joined["i_src"]).all()
    assert (joined["output"] != joined["o_src"]).all()
    assert new["aug_method"].str.starts_with("eda.").all()
    assert new["aug_model"].is_null().all()
    assert new["aug_similarity"].is_between(step.min_similarity, step.max_similarity).all()
    assert new[ID].min() >= df.height and new[ID].n_unique() == new.height
    # the recorded similarity is the minimum over the two fields
    from rapidfuzz import fuzz

    for row in joined.iter_rows(named=True):
        low = min(
            fuzz.ratio(row["instruction"], row["i_src"]), fuzz.ratio(row["output"], row["o_src"])
        )
        assert row["aug_similarity"] == pytest.approx(low, abs=0.01)
    # seeded: the same rows again; a recipe round-trip replays them
    assert step.run(df).frame.equals(out)
    again = Step.from_json(json.loads(json.dumps(step.to_json())))
    assert again == step and again.run(df).frame.equals(out)


def test_one_field_runs_as_before_and_gates_need_every_field(alpaca) -> None:  # noqa: ANN001
    df = load_dataset(alpaca).frame.collect()
    one = AugmentEda(column="instruction", seed=2).run(df)
    assert one.new_rows()["output"].equals(
        df.filter(pl.col(ID).is_in(one.new_rows()["aug_source"].implode()))["output"]
    )
    # a floor no field can pass drops every variant, counted as too far
    strict = AugmentEda(columns=("instruction", "output"), min_similarity=97, max_similarity=98)
    report = strict.run(df)
    assert report.added == 0 and report.dropped["too far"] > 0


@pytest.fixture(scope="module")
def models(tmp_path_factory):  # noqa: ANN001, ANN201
    root = tmp_path_factory.mktemp("models")
    texts = (INSTRUCTIONS + OUTPUTS + SENTENCES) * 2
    return {
        "t5": str(tiny_t5(root / "t5", texts=texts)),
        "en-xx": str(tiny_marian(root / "m1", 1)),
        "xx-en": str(tiny_marian(root / "m2", 2)),
    }


def test_paraphrase_both_fields_and_aug_model(models, alpaca, tmp_path) -> None:  # noqa: ANN001
    df = load_dataset(alpaca).frame.collect()
    step = AugmentModel(
        method="paraphrase",
        model=models["t5"],
        columns=("instruction", "output"),
        per_row=2,
        min_similarity=0,
        max_new_tokens=12,
        seed=5,
    )
    report = step.run(df)
    new = report.new_rows()
    assert report.added == new.height > 0
    src = df.select(ID, pl.col("instruction").alias("i"), pl.col("output").alias("o"))
    joined = new.join(src, left_on="aug_source", right_on=ID)
    assert (joined["instruction"] != joined["i"]).all() and (joined["output"] != joined["o"]).all()
    assert set(new["aug_model"].to_list()) == {models["t5"]}
    assert set(new["aug_method"].to_list()) == {f"paraphrase:{models['t5']}"}
    assert report.frame.head(df.height)["aug_model"].is_null().all()
    assert step.run(df).frame.equals(report.frame)
    # replay through `studio run` gives the same rows
    recipe = tmp_path / "r.recipe.json"
    Recipe(steps=[step]).save(recipe)
    out = tmp_path / "replay.parquet"
    assert main(["run", str(recipe), str(alpaca), "-o", str(out)]) == 0
    assert pl.read_parquet(out).equals(report.frame.drop(ID).select(pl.read_parquet(out).columns))


def test_backtranslation_names_both_models(models, tmp_path) -> None:  # noqa: ANN001
    path = tmp_path / "d.jsonl"
    path.write_text("\n".join(json.dumps({"text": s}) for s in SENTENCES) + "\n")
    df = load_dataset(path).frame.collect()
    step = AugmentModel(
        method="backtranslate",
        model=models["en-xx"],
        pivot_model=models["xx-en"],
        column="text",
        min_similarity=0,
        max_new_tokens=10,
    )
    new = step.run(df).new_rows()
    assert new.height > 0
    assert set(new["aug_model"].to_list()) == {f"{models['en-xx']} -> {models['xx-en']}"}


def test_cli_field_both(alpaca, tmp_path, capsys) -> None:  # noqa: ANN001
    out = tmp_path / "o.jsonl"
    code = main(
        [
            "augment",
            str(alpaca),
            "--method",
            "eda",
            "--field",
            "both",
            "--seed",
            "3",
            "--per-row",
            "2",
            "-o",
            str(out),
        ]
    )
    assert code == 0
    frame = pl.read_ndjson(out)
    new = frame.filter(pl.col("aug_method").is_not_null())
    assert new.height > 0
    orig = frame.filter(pl.col("aug_method").is_null())
    assert not new["instruction"].is_in(orig["instruction"].implode()).any()
    assert not new["output"].is_in(orig["output"].implode()).any()
    assert "instruction + output" in capsys.readouterr().err
    # the old --column flag still works, and a comma list too
    out2 = tmp_path / "o2.jsonl"
    assert (
        main(["augment", str(alpaca), "--method", "eda", "--column", "output", "-o", str(out2)])
        == 0
    )
    new2 = pl.read_ndjson(out2).filter(pl.col("aug_method").is_not_null())
    assert new2["instruction"].is_in(pl.Series(INSTRUCTIONS).implode()).all()
    assert not new2["output"].is_in(pl.Series(OUTPUTS).implode()).any()
    out3 = tmp_path / "o3.jsonl"
    assert (
        main(
            [
                "augment",
                str(alpaca),
                "--method",
                "eda",
                "--field",
                "instruction,output",
                "--seed",
                "3",
                "--per-row",
                "2",
                "-o",
                str(out3),
            ]
        )
        == 0
    )
    assert pl.read_ndjson(out3).equals(frame)
    assert (
        main(
            [
                "augment",
                str(alpaca),
                "--method",
                "eda",
                "--field",
                "nope",
                "-o",
                str(tmp_path / "x.jsonl"),
            ]
        )
        == 1
    )
