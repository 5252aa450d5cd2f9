"""`studio fewshot` headless: the pack files, JSON summary, replay by recipe, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from studio.cli import main

LABELS = ("yes", "no", "maybe")


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "in.jsonl"
    rows = [
        {"text": f"sentence number {i} about {LABELS[i % 3]}", "label": LABELS[i % 3]}
        for i in range(30)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.fixture
def template(tmp_path: Path) -> Path:
    path = tmp_path / "prompt.txt"
    path.write_text("Choose one of: {labels}.\n\n{exemplars}\n\nInput: {input}\nOutput:")
    return path


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_fewshot_writes_the_pack(source: Path, template: Path, tmp_path: Path, capsys) -> None:  # noqa: ANN001
    out = tmp_path / "pack"
    args = ["fewshot", str(source), "-k", "2", "--per-label", "label", "--diverse"]
    args += ["--template", str(template), "--eval", "6", "-o", str(out), "--json"]
    assert main(args) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["exemplars"] == 6 and summary["eval"] == 6
    assert summary["labels"] == ["maybe", "no", "yes"] and summary["estimate"] is True
    exemplars = _lines(out / "exemplars.jsonl")
    evaluation = _lines(out / "eval.jsonl")
    assert {e["label"] for e in exemplars} == set(LABELS)
    assert not {e["source"] for e in exemplars} & {e["source"] for e in evaluation}
    prompt = (out / "PROMPT.md").read_text()
    assert prompt.startswith("Choose one of: maybe, no, yes.") and "Input: {input}" in prompt
    # the recipe beside the pack rewrites the same files
    again = tmp_path / "again"
    assert (
        main(
            ["fewshot", str(source), "--recipe", str(out / "fewshot.recipe.json"), "-o", str(again)]
        )
        == 0
    )
    for name in ("PROMPT.md", "exemplars.jsonl", "eval.jsonl", "fewshot.recipe.json"):
        assert (again / name).read_text() == (out / name).read_text()
    # and `studio run` replays it to the pack rows
    rows = tmp_path / "rows.jsonl"
    assert main(["run", str(out / "fewshot.recipe.json"), str(source), "-o", str(rows)]) == 0
    replayed = _lines(rows)
    assert [r["fewshot"] for r in replayed] == ["exemplar"] * 6 + ["eval"] * 6
    assert [r["text"] for r in replayed[:6]] == [e["input"] for e in exemplars]


def test_fewshot_refuses_to_overwrite(source: Path, template: Path, tmp_path: Path, capsys) -> None:  # noqa: ANN001
    out = tmp_path / "pack"
    args = ["fewshot", str(source), "-k", "1", "--template", str(template), "-o", str(out)]
    assert main(args) == 0
    capsys.readouterr()
    assert main(args) == 1
    assert "already exists" in capsys.readouterr().err
    assert main([*args, "--force"]) == 0


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--template", "{bad}"], "unknown placeholder {foo}"),
        (["--template", "missing.txt"], "no such template file"),
        (["--per-label", "nope"], "No column named 'nope'"),
    ],
)
def test_fewshot_bad_input_is_one_line_exit_1(
    source: Path,
    template: Path,
    tmp_path: Path,
    capsys,
    extra: list[str],
    message: str,  # noqa: ANN001
) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text("{exemplars}\n{foo}\n")
    extra = [
        str(bad) if e == "{bad}" else str(tmp_path / e) if e == "missing.txt" else e for e in extra
    ]
    args = ["fewshot", str(source), "-k", "2", "-o", str(tmp_path / "o")]
    if "--template" not in extra:
        args += ["--template", str(template)]
    assert main(args + extra) == 1
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
    assert not (tmp_path / "o").exists()


def test_fewshot_missing_file_and_missing_arguments(template: Path, tmp_path: Path, capsys) -> None:  # noqa: ANN001
    code = main(
        [
            "fewshot",
            str(tmp_path / "nope.jsonl"),
            "-k",
            "2",
            "--template",
            str(template),
            "-o",
            str(tmp_path / "o"),
        ]
    )
    assert code == 1
    err = capsys.readouterr().err.strip()
    assert "nope.jsonl" in err and len(err.splitlines()) == 1
    code = main(["fewshot", str(tmp_path / "nope.jsonl"), "-o", str(tmp_path / "o")])
    assert code == 1
    assert "Give -k K and --template FILE" in capsys.readouterr().err
