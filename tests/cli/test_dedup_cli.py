from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from studio.cli import main
from studio.engine.io import load_dataset
from studio.engine.recipe import Recipe, run_recipe
from studio.engine.steps.dedup import DedupNear, DedupNormalized

ROWS = [
    {"id": 1, "text": "Hello world", "label": "a", "score": 1},
    {"id": 2, "text": "hello, WORLD!", "label": "a", "score": 7},
    {"id": 3, "text": "Something else", "label": "b", "score": 2},
    {"id": 4, "text": "Hello world", "label": "a", "score": 3},
    {"id": 5, "text": "A fourth row", "label": "b", "score": 0},
]


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_exact_and_clusters_file(tmp_path: Path) -> None:
    src = write_jsonl(tmp_path / "d.jsonl", ROWS)
    out, clusters = tmp_path / "out.jsonl", tmp_path / "clusters.jsonl"
    code = main(
        ["dedup", str(src), "--column", "text", "--mode", "exact", "--clusters", str(clusters),
         "-o", str(out)]
    )  # fmt: skip
    assert code == 0
    kept = read_jsonl(out)
    assert [r["id"] for r in kept] == [1, 2, 3, 5]
    assert list(kept[0]) == ["id", "text", "label", "score"]  # all columns, original order
    lines = read_jsonl(clusters)
    assert lines == [
        {
            "cluster": 0,
            "size": 2,
            "similarity": 1.0,
            "members": ["d.jsonl:1", "d.jsonl:4"],
            "member_ids": [0, 3],
            "kept": "d.jsonl:1",
            "kept_id": 0,
        }
    ]


def test_normalized_with_keep_policy(tmp_path: Path) -> None:
    src = write_jsonl(tmp_path / "d.jsonl", ROWS)
    out = tmp_path / "out.parquet"
    args = ["dedup", str(src), "--column", "text", "--mode", "normalized"]
    assert main([*args, "--keep", "highest:score", "-o", str(out)]) == 0
    assert pl.read_parquet(out)["id"].to_list() == [2, 3, 5]
    assert main([*args, "--keep", "sideways", "-o", str(tmp_path / "x.jsonl")]) == 1
    only_case = tmp_path / "case.jsonl"
    assert main([*args, "--normalize", "case", "-o", str(only_case)]) == 0
    assert [r["id"] for r in read_jsonl(only_case)] == [1, 2, 3, 5]
    assert main([*args, "--normalize", "vowels", "-o", str(tmp_path / "v.jsonl")]) == 1


def test_near_mode_and_replay_equals_cli(tmp_path: Path) -> None:
    base = "the quick brown fox jumps over the lazy dog while the cat sleeps on the warm mat"
    rows = [
        {"text": base},
        {"text": "an entirely different sentence about the stock market falling today"},
        {"text": base.replace("lazy", "sleepy")},
        {"text": "yet another unrelated row with its own words and meaning here"},
    ]
    src = write_jsonl(tmp_path / "d.jsonl", rows)
    out = tmp_path / "out.jsonl"
    assert main(["dedup", str(src), "--column", "text", "--mode", "near", "-o", str(out)]) == 0
    assert [r["text"] for r in read_jsonl(out)] == [
        rows[0]["text"],
        rows[1]["text"],
        rows[3]["text"],
    ]
    replayed, _ = run_recipe(
        load_dataset(src).frame,
        Recipe.from_json(Recipe(steps=[DedupNear(column="text")]).to_json()),
    )
    assert replayed.drop("_id").to_dicts() == read_jsonl(out)


def test_run_replays_a_saved_dedup_recipe(tmp_path: Path) -> None:
    src = write_jsonl(tmp_path / "d.jsonl", ROWS)
    recipe = tmp_path / "r.recipe.json"
    Recipe(steps=[DedupNormalized(column="text", keep="longest", overrides=((0, 3),))]).save(recipe)
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    assert main(["run", str(recipe), str(src), "-o", str(a)]) == 0
    assert main(["run", str(recipe), str(src), "-o", str(b)]) == 0
    assert [r["id"] for r in read_jsonl(a)] == [3, 4, 5]
    assert a.read_text() == b.read_text()


def test_leaks_against_another_file(tmp_path: Path) -> None:
    train = write_jsonl(tmp_path / "train.jsonl", ROWS)
    test = write_jsonl(tmp_path / "test.jsonl", [{"text": "SOMETHING ELSE."}, {"text": "new"}])
    out, clusters = tmp_path / "clean.jsonl", tmp_path / "leaks.jsonl"
    code = main(
        ["dedup", str(train), "--column", "text", "--mode", "normalized", "--against", str(test),
         "--clusters", str(clusters), "-o", str(out)]
    )  # fmt: skip
    assert code == 0
    assert [r["id"] for r in read_jsonl(out)] == [1, 2, 4, 5]
    assert read_jsonl(clusters) == [
        {"other": "test.jsonl:1", "members": ["train.jsonl:3"], "member_ids": [2], "kept": None}
    ]


def test_semantic_needs_a_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = write_jsonl(tmp_path / "d.jsonl", ROWS)
    code = main(
        [
            "dedup",
            str(src),
            "--column",
            "text",
            "--mode",
            "semantic",
            "-o",
            str(tmp_path / "o.jsonl"),
        ]
    )
    assert code == 1
    assert "--model" in capsys.readouterr().err


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    src = write_jsonl(tmp_path / "d.jsonl", ROWS)
    with pytest.raises(SystemExit) as exc:
        main(["dedup", str(src), "--mode", "fuzzy", "-o", str(tmp_path / "o.jsonl")])
    assert exc.value.code == 2


def test_clean_command(tmp_path: Path) -> None:
    rows = [{"text": "  <b>Fish &amp; chips</b>\r\n", "n": 1}, {"text": "N/A", "n": 2}]
    src = write_jsonl(tmp_path / "d.jsonl", rows)
    out = tmp_path / "out.jsonl"
    assert (
        main(
            [
                "clean",
                str(src),
                "--column",
                "text",
                "--ops",
                "html,strip,nfkc,empty,drop_empty",
                "-o",
                str(out),
            ]
        )
        == 0
    )
    assert read_jsonl(out) == [{"text": "Fish & chips", "n": 1}]
    out2 = tmp_path / "out2.jsonl"
    assert (
        main(
            [
                "clean",
                str(src),
                "--column",
                "text",
                "--ops",
                "lower",
                "--output-column",
                "low",
                "-o",
                str(out2),
            ]
        )
        == 0
    )
    assert read_jsonl(out2)[1] == {"text": "N/A", "n": 2, "low": "n/a"}
    assert main(["clean", str(src), "--ops", "shout", "-o", str(tmp_path / "o3.jsonl")]) == 1


def test_flags_command(tmp_path: Path) -> None:
    rows = [{"text": "As an AI language model, I cannot help."}, {"text": "A normal answer here."}]
    src = write_jsonl(tmp_path / "d.jsonl", rows)
    out = tmp_path / "out.jsonl"
    assert main(["flags", str(src), "--column", "text", "-o", str(out)]) == 0
    got = read_jsonl(out)
    assert got[0]["flag_refusal"] is True and got[1]["flag_refusal"] is False


def test_clean_stopword_file_and_stem_language(tmp_path: Path) -> None:
    src = write_jsonl(tmp_path / "d.jsonl", [{"text": "Les chats mangent les souris"}])
    words = tmp_path / "stop.txt"
    words.write_text("# french\nles\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    argv = ["clean", str(src), "--ops", "stopwords", "--stopwords", str(words), "-o", str(out)]
    assert main(argv) == 0
    assert read_jsonl(out) == [{"text": "chats mangent souris"}]
    out2 = tmp_path / "out2.jsonl"
    argv = ["clean", str(src), "--ops", "stem", "--language", "french", "-o", str(out2)]
    assert main(argv) == 0
    assert read_jsonl(out2)[0]["text"].split()[1] == "chat"


def test_near_settings_from_the_command_line(tmp_path: Path) -> None:
    base = "the quick brown fox jumps over the lazy dog near the river bank today"
    rows = [
        {"text": base},
        {"text": base.replace("lazy", "sleepy")},
        {"text": "an entirely different sentence about cooking pasta at home tonight"},
    ]
    src = write_jsonl(tmp_path / "d.jsonl", rows)
    out = tmp_path / "out.jsonl"
    recipe = tmp_path / "r.recipe.json"
    argv = [
        "dedup", str(src), "--mode", "near", "--shingle", "char", "--ngram", "4",
        "--num-perm", "32", "--bands", "8x4", "-o", str(out),
    ]  # fmt: skip
    assert main(argv) == 0
    assert [r["text"] for r in read_jsonl(out)] == [rows[0]["text"], rows[2]["text"]]
    import argparse

    from studio.commands.dedup import add_arguments, build_step

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    step = build_step(parser.parse_args(argv[1:]), "text")
    assert isinstance(step, DedupNear)
    assert (step.shingle, step.ngram, step.num_perm, step.bands, step.rows) == (
        "char", 4, 32, 8, 4,
    )  # fmt: skip
    # settings given by hand show in the step's description (the steps list, the CLI summary)
    assert "4-char shingles, 32 permutations, 8x4 bands" in step.describe()
    Recipe(steps=[step]).save(recipe)
    replayed, _ = run_recipe(load_dataset(src).frame, Recipe.load(recipe))
    assert replayed["text"].to_list() == [rows[0]["text"], rows[2]["text"]]
    bad = argv[:-2] + ["--bands", "lots", "-o", str(tmp_path / "o2.jsonl")]
    assert main(bad) == 1
    too_many = argv[:-4] + ["--bands", "20x4", "-o", str(tmp_path / "o3.jsonl")]
    assert main(too_many) == 1


def test_refused_clusters_file_leaves_no_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = write_jsonl(tmp_path / "d.jsonl", ROWS)
    out, clusters = tmp_path / "out.jsonl", tmp_path / "clusters.jsonl"
    clusters.write_text("keep me\n", encoding="utf-8")
    args = ["dedup", str(src), "--column", "text", "--clusters", str(clusters), "-o", str(out)]
    assert main(args) == 1
    assert "--force" in capsys.readouterr().err
    assert not out.exists()
    assert clusters.read_text(encoding="utf-8") == "keep me\n"
    assert main(args + ["--force"]) == 0
    assert len(read_jsonl(clusters)) == 1
    same = ["dedup", str(src), "--column", "text", "--clusters", str(out), "-o", str(out)]
    assert main(same + ["--force"]) == 1
    assert "same file" in capsys.readouterr().err


def test_semantic_model_not_found_is_one_clear_sentence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    src = write_jsonl(tmp_path / "d.jsonl", ROWS)
    base = ["dedup", str(src), "--column", "text", "--mode", "semantic", "-o"]
    missing = tmp_path / "no-such-model"
    assert main(base + [str(tmp_path / "o.jsonl"), "--model", str(missing)]) == 1
    err = capsys.readouterr().err
    assert f"{missing}: no such model folder" in err
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert main(base + [str(tmp_path / "o.jsonl"), "--model", "someorg/not-cached"]) == 1
    err = capsys.readouterr().err
    assert "huggingface-cli download someorg/not-cached" in err
    assert "Traceback" not in err
    assert not (tmp_path / "o.jsonl").exists()


def test_against_near_threshold_out_of_range(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = write_jsonl(tmp_path / "d.jsonl", ROWS)
    other = write_jsonl(tmp_path / "o.jsonl", ROWS[:1])
    out = tmp_path / "o2.jsonl"
    argv = ["dedup", str(src), "--column", "text", "--mode", "near", "--against", str(other)]
    assert main([*argv, "--threshold", "1.5", "-o", str(out)]) == 1
    assert "between 0 and 1" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--mode", "exact", "--threshold", "0.7"], "--threshold applies to --mode near"),
        (["--mode", "normalized", "--threshold", "0.7"], "--threshold applies to --mode near"),
        (["--mode", "exact", "--num-perm", "32"], "--num-perm applies to --mode near"),
        (["--mode", "semantic", "--bands", "8x4", "--model", "m"], "--bands applies to"),
        (["--mode", "near", "--model", "m"], "--model applies to --mode semantic"),
        (["--mode", "exact", "--normalize", "case"], "--normalize applies to"),
        (["--mode", "exact", "--against", "OTHER", "--keep", "longest"], "--keep does not apply"),
        (["--mode", "near", "--against", "OTHER", "--ngram", "5"], "--ngram applies to"),
    ],
)
def test_options_the_mode_does_not_read_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    src = write_jsonl(tmp_path / "d.jsonl", ROWS)
    other = write_jsonl(tmp_path / "other.jsonl", ROWS[:1])
    extra = [str(other) if a == "OTHER" else a for a in extra]
    out = tmp_path / "out.jsonl"
    assert main(["dedup", str(src), "--column", "text", *extra, "-o", str(out)]) == 1
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_near_leaks_take_threshold_and_similarity(tmp_path: Path) -> None:
    src = write_jsonl(tmp_path / "d.jsonl", ROWS)
    other = write_jsonl(tmp_path / "other.jsonl", [{"text": "Something else"}])
    out = tmp_path / "out.jsonl"
    argv = ["dedup", str(src), "--column", "text", "--mode", "near", "--against", str(other)]
    assert main([*argv, "--threshold", "0.3", "--similarity", "0.9", "-o", str(out)]) == 0
    assert [r["id"] for r in read_jsonl(out)] == [1, 2, 4, 5]


def test_run_removed_file_lists_rows_in_input_order(tmp_path: Path) -> None:
    # --removed writes the dropped rows as they stood in the input, with the step's reason
    rows = [{"text": f"t{(i * 7919) % 1000}"} for i in range(3_000)]
    src = write_jsonl(tmp_path / "d.jsonl", rows)
    recipe = tmp_path / "r.recipe.json"
    Recipe(steps=[DedupNormalized(column="text")]).save(recipe)
    out, removed = tmp_path / "out.jsonl", tmp_path / "removed.jsonl"
    assert main(["run", str(recipe), str(src), "-o", str(out), "--removed", str(removed)]) == 0
    lines = read_jsonl(removed)
    assert [r["source"] for r in lines] == [f"d.jsonl:{i + 1}" for i in range(1_000, 3_000)]
    assert [r["text"] for r in lines] == [r["text"] for r in rows[1_000:]]
