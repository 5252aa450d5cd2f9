"""`studio mix` end to end, and `studio run` replaying a mixture recipe."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from studio.cli import main
from studio.engine.recipe import Recipe, run_recipe
from studio.engine.sources import SourceSpec, combine
from studio.engine.steps.mix import MixTasks


def write_jsonl(path: Path, rows: list[dict]) -> str:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return str(path)


@pytest.fixture
def sources(tmp_path: Path) -> tuple[str, str, str]:
    qa = write_jsonl(
        tmp_path / "qa.jsonl",
        [{"question": f"question {i}", "answer": f"answer {i}"} for i in range(400)],
    )
    summ = tmp_path / "summ.parquet"
    pl.DataFrame(
        {
            "instruction": [f"summarise {i}" for i in range(100)],
            "input": ["some long document " * 5] * 100,
            "output": ["short"] * 100,
        }
    ).write_parquet(summ)
    small = write_jsonl(
        tmp_path / "small.jsonl",
        [{"text": f"label me {i}", "label": ["a", "b"][i % 2]} for i in range(20)]
        + [{"text": "question 3", "label": "a"}],
    )
    return qa, str(summ), small


def test_mix_weights(sources, tmp_path: Path, capsys) -> None:  # noqa: ANN001
    qa, summ, _ = sources
    out = tmp_path / "mix.jsonl"
    argv = ["mix", f"{qa}:task=qa", f"{summ}:task=summarize", "--weights", "qa=0.5,summarize=0.5"]
    assert main([*argv, "--seed", "3", "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert "% tokens" in err and "summarize" in err
    df = pl.read_ndjson(out)
    counts = dict(df.group_by("task").len().iter_rows())
    assert counts == {"qa": 100, "summarize": 100}
    assert set(df.columns) >= {"instruction", "input", "output", "task"}


def test_mix_temperature_and_cap_json(sources, tmp_path: Path, capsys) -> None:  # noqa: ANN001
    qa, summ, small = sources
    out = tmp_path / "mix.parquet"
    rc = main(
        [
            "mix",
            f"{qa}:task=qa",
            f"{summ}:task=sum",
            f"{small}:task=cls",
            "--temperature",
            "2",
            "--cap",
            "300",
            "--max-repeat",
            "5",
            "--total",
            "600",
            "--json",
            "-o",
            str(out),
        ]
    )
    assert rc == 0
    summary = json.loads(capsys.readouterr().out)
    tasks = {t["task"]: t for t in summary["preview"]["tasks"]}
    base = {"qa": 300, "sum": 100, "cls": 21}
    z = sum(n**0.5 for n in base.values())
    for name, n in base.items():
        assert abs(tasks[name]["rows_out"] - 600 * n**0.5 / z) <= 1
    df = pl.read_parquet(out)
    assert df.height == 600
    assert df.filter(pl.col("task") == "cls")["copy_of"].is_not_null().any()


def test_mix_dedup_across_and_recipe_replay(sources, tmp_path: Path) -> None:  # noqa: ANN001
    qa, _, small = sources
    out = tmp_path / "a.jsonl"
    recipe = tmp_path / "mix.recipe.json"
    args = [
        "mix",
        f"{qa}:task=qa",
        f"{small}:task=cls,output=label",
        "--dedup-across",
        "exact",
        "--cap",
        "50",
        "--seed",
        "5",
        "--recipe",
        str(recipe),
    ]
    assert main([*args, "-o", str(out)]) == 0
    saved = Recipe.load(recipe)
    assert [s.name for s in saved.steps] == ["mix.dedup_across", "mix.tasks"]
    assert len(saved.source["sources"]) == 2
    replay = tmp_path / "b.jsonl"
    assert main(["run", str(recipe), "-o", str(replay)]) == 0
    assert pl.read_ndjson(out).equals(pl.read_ndjson(replay))


def test_leak_dropped_on_planted_duplicate(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    a = write_jsonl(
        tmp_path / "a.jsonl",
        [{"instruction": "same", "output": "x"}, {"instruction": "a1", "output": "y"}],
    )
    b = write_jsonl(
        tmp_path / "b.jsonl",
        [{"instruction": "same", "output": "x"}, {"instruction": "b1", "output": "z"}],
    )
    out = tmp_path / "o.jsonl"
    assert main(["mix", a, b, "--dedup-across", "exact", "-o", str(out)]) == 0
    df = pl.read_ndjson(out)
    assert df.filter(pl.col("instruction") == "same")["task"].to_list() == ["a"]
    assert "duplicates across tasks" in capsys.readouterr().err


def test_run_with_paths_overriding_sources(sources, tmp_path: Path) -> None:  # noqa: ANN001
    qa, summ, small = sources
    combined = combine([SourceSpec(qa, "qa"), SourceSpec(summ, "sum")])
    step = MixTasks(rule="proportional", cap=10, seed=1)
    recipe = Recipe(steps=[step], source=combined.dataset.recipe_source())
    path = tmp_path / "r.recipe.json"
    recipe.save(path)
    out = tmp_path / "o.jsonl"
    assert main(["run", str(path), small, "-o", str(out)]) == 0
    df = pl.read_ndjson(out)
    assert dict(df.group_by("task").len().iter_rows()) == {"qa": 10, "sum": 10}
    expect, _ = run_recipe(
        combine([SourceSpec(small, "qa"), SourceSpec(summ, "sum")]).dataset.frame, recipe
    )
    assert df.height == expect.height


def test_single_file_run_contract_unchanged(tmp_path: Path, sources) -> None:  # noqa: ANN001
    qa, _, _ = sources
    recipe = Recipe(steps=[], source={"paths": [qa], "options": {}})
    path = tmp_path / "plain.recipe.json"
    recipe.save(path)
    out = tmp_path / "o.jsonl"
    assert main(["run", str(path), qa, "-o", str(out)]) == 0
    assert pl.read_ndjson(out).height == 400
    out2 = tmp_path / "o2.jsonl"
    assert main(["run", str(path), "-o", str(out2)]) == 0  # the recipe names its source
    assert main(["run", str(path), qa, qa, "-o", str(tmp_path / "x.jsonl")]) == 1


def test_mix_errors(sources, tmp_path: Path, capsys) -> None:  # noqa: ANN001
    qa, summ, _ = sources
    assert main(["mix", qa, summ, "--weights", "nope=1", "-o", str(tmp_path / "x.jsonl")]) == 1
    assert "No task named" in capsys.readouterr().err
    assert main(["mix", qa]) == 1
    with pytest.raises(SystemExit) as exc:
        main(["mix", qa, "--weights", "qa=1", "--temperature", "2", "-o", "x.jsonl"])
    assert exc.value.code == 2


def test_mix_refuses_sources_it_cannot_use_and_flags_the_rule_ignores(
    sources,
    tmp_path: Path,
    capsys,  # noqa: ANN001
) -> None:
    qa, summ, _ = sources
    out = tmp_path / "x.jsonl"
    missing = str(tmp_path / "missing.jsonl")
    assert main(["mix", f"{missing}:task=gone", summ, "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert "Source gone (" in err and "missing.jsonl: no such file" in err
    assert not out.exists()
    nums = write_jsonl(tmp_path / "nums.jsonl", [{"a": i, "b": [i]} for i in range(3)])
    assert main(["mix", nums, summ, "-o", str(out)]) == 1
    assert "its columns: a, b" in capsys.readouterr().err
    # mapped, it joins the mixture
    assert main(["mix", f"{nums}:instruction=a", summ, "-o", str(out)]) == 0
    assert dict(pl.read_ndjson(out).group_by("task").len().iter_rows()) == {"nums": 3, "summ": 100}
    capsys.readouterr()
    assert main(["mix", qa, summ, "--weights", "qa=1,summ=1", "--cap", "5", "-o", "y.jsonl"]) == 1
    assert "--weights does not use it" in capsys.readouterr().err
    assert main(["mix", qa, summ, "--counts", "qa=1,summ=1", "--total", "5", "-o", "y.jsonl"]) == 1
    assert "--total does not go with --counts" in capsys.readouterr().err


def test_run_refuses_a_recipe_whose_source_is_gone(sources, tmp_path: Path, capsys) -> None:  # noqa: ANN001
    qa, summ, _ = sources
    copy = tmp_path / "copy.jsonl"
    copy.write_text(Path(qa).read_text())
    combined = combine([SourceSpec(str(copy), "qa"), SourceSpec(summ, "sum")])
    path = tmp_path / "r.recipe.json"
    Recipe(steps=[MixTasks(cap=10)], source=combined.dataset.recipe_source()).save(path)
    copy.unlink()
    assert main(["run", str(path), "-o", str(tmp_path / "o.jsonl")]) == 1
    assert "Source qa (" in capsys.readouterr().err


def test_mix_checks_the_recipe_file_before_writing(sources, tmp_path: Path, capsys) -> None:  # noqa: ANN001
    qa, summ, _ = sources
    out, recipe = tmp_path / "m.jsonl", tmp_path / "m.recipe.json"
    recipe.write_text("{}")
    assert main(["mix", qa, summ, "--cap", "5", "-o", str(out), "--recipe", str(recipe)]) == 1
    assert "m.recipe.json already exists" in capsys.readouterr().err
    assert not out.exists() and recipe.read_text() == "{}"
    args = ["mix", qa, summ, "--cap", "5", "-o", str(out), "--recipe", str(recipe), "--force"]
    assert main(args) == 0
    assert out.exists() and Recipe.load(recipe).steps == [MixTasks(cap=5)]
