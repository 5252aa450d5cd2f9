"""Export: every format written and read back, per-split outputs, sidecars, overwrite rules."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from studio.engine.errors import WriteError
from studio.engine.export import ExportOptions, export_dataset, export_workspace
from studio.engine.io import load_dataset
from studio.engine.recipe import Recipe, run_recipe
from studio.engine.steps.base import ID
from studio.engine.steps.export import ExportMap
from studio.engine.steps.rows import DropRows, Sort
from studio.engine.workspace import Workspace

ALPACA = [
    {
        "instruction": f"Summarise item {i}",
        "input": "" if i % 3 else f'context ü{i}, with "quotes"',
        "output": f"Summary {i}",
        "label": "a" if i % 2 else "b",
        "split": ("train", "validation", "test")[i % 3],
    }
    for i in range(12)
]


def _jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n")
    return path


def _read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _no_temporaries(folder: Path) -> None:
    leftovers = [p.name for p in folder.rglob("*") if p.name.startswith(".")]
    assert leftovers == []


@pytest.fixture
def source(tmp_path: Path) -> Path:
    return _jsonl(tmp_path / "src.jsonl", ALPACA)


def _export(src: Path, out: Path, fmt: str, **kw) -> object:  # noqa: ANN003
    dataset = load_dataset(src)
    return export_dataset(dataset, dataset.frame, ExportOptions(output=out, format=fmt, **kw))


PLAIN = [{k: v for k, v in r.items() if k != "split"} for r in ALPACA]


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet", ".csv"])
def test_plain_formats_read_back_equal(source: Path, tmp_path: Path, suffix: str) -> None:
    fmt = suffix[1:]
    out = tmp_path / f"out{suffix}"
    result = _export(source, out, fmt, per_split=False)
    assert result.files == [out]
    back = load_dataset(out).frame.drop(ID).collect()
    if fmt == "csv":
        back = back.with_columns(pl.col("input").fill_null(""))
    assert back.to_dicts() == ALPACA
    _no_temporaries(tmp_path)


def test_jsonl_reads_back_with_datasets(source: Path, tmp_path: Path) -> None:
    import datasets

    out = tmp_path / "out.jsonl"
    _export(source, out, "jsonl", per_split=False)
    loaded = datasets.load_dataset(
        "json", data_files=str(out), split="train", cache_dir=str(tmp_path / "cache")
    )
    assert loaded.to_list() == ALPACA


def test_hf_folder_loads_with_datasets(source: Path, tmp_path: Path) -> None:
    import datasets

    out = tmp_path / "hf"
    _export(source, out, "hf", per_split=False)
    assert sorted(p.name for p in out.iterdir()) == [
        "data-00000-of-00001.arrow",
        "dataset_info.json",
        "state.json",
    ]
    loaded = datasets.load_from_disk(str(out))
    assert loaded.to_list() == ALPACA


def test_hf_per_split_is_a_dataset_dict(source: Path, tmp_path: Path) -> None:
    import datasets

    out = tmp_path / "hf"
    result = _export(source, out, "hf")
    assert result.rows == {"hf/train": 4, "hf/validation": 4, "hf/test": 4}
    loaded = datasets.load_from_disk(str(out))
    assert list(loaded) == ["train", "validation", "test"]
    for split in loaded:
        expected = [r for r in PLAIN if ALPACA[PLAIN.index(r)]["split"] == split]
        assert loaded[split].to_list() == expected
    _no_temporaries(tmp_path)


def test_openai_messages(source: Path, tmp_path: Path) -> None:
    out = tmp_path / "chat.jsonl"
    _export(source, out, "openai", system="Be brief.", per_split=False)
    rows = _read_jsonl(out)
    assert rows[0] == {
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": 'Summarise item 0\n\ncontext ü0, with "quotes"'},
            {"role": "assistant", "content": "Summary 0"},
        ]
    }
    assert rows[1]["messages"][1] == {"role": "user", "content": "Summarise item 1"}
    back = load_dataset(out).frame.drop(ID).collect()
    assert back.to_dicts() == rows


def test_alpaca_json_array_and_llama_factory_entry(source: Path, tmp_path: Path) -> None:
    (tmp_path / "dataset_info.json").write_text(json.dumps({"other": {"file_name": "x.json"}}))
    out = tmp_path / "alp.json"
    _export(source, out, "alpaca", system="You help.", per_split=False)
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data[0] == {
        "instruction": "Summarise item 0",
        "input": 'context ü0, with "quotes"',
        "output": "Summary 0",
        "system": "You help.",
    }
    assert len(data) == 12
    assert load_dataset(out).frame.drop(ID).collect().to_dicts() == data
    info = json.loads((tmp_path / "dataset_info.json").read_text())
    assert info["other"] == {"file_name": "x.json"}
    assert info["alp"] == {
        "file_name": "alp.json",
        "formatting": "alpaca",
        "columns": {
            "prompt": "instruction",
            "query": "input",
            "response": "output",
            "system": "system",
        },
    }


def test_sharegpt_conversations(tmp_path: Path) -> None:
    chats = [
        {
            "messages": [
                {"role": "user", "content": f"hi {i}"},
                {"role": "assistant", "content": f"hello {i}"},
            ]
        }
        for i in range(3)
    ]
    src = _jsonl(tmp_path / "chat.jsonl", chats)
    out = tmp_path / "sg.jsonl"
    _export(src, out, "sharegpt", system="Sys")
    rows = _read_jsonl(out)
    assert rows[0] == {
        "conversations": [
            {"from": "system", "value": "Sys"},
            {"from": "human", "value": "hi 0"},
            {"from": "gpt", "value": "hello 0"},
        ]
    }
    assert load_dataset(out).frame.drop(ID).collect().to_dicts() == rows
    entry = json.loads((tmp_path / "dataset_info.json").read_text())["sg"]
    assert entry["formatting"] == "sharegpt"
    assert entry["columns"] == {"messages": "conversations"}
    assert entry["tags"]["role_tag"] == "from" and entry["tags"]["system_tag"] == "system"


def test_sharegpt_from_text_fields_puts_system_apart(source: Path, tmp_path: Path) -> None:
    out = tmp_path / "sg.jsonl"
    _export(source, out, "sharegpt", system="Sys", per_split=False)
    row = _read_jsonl(out)[1]
    assert row == {
        "conversations": [
            {"from": "human", "value": "Summarise item 1"},
            {"from": "gpt", "value": "Summary 1"},
        ],
        "system": "Sys",
    }
    entry = json.loads((tmp_path / "dataset_info.json").read_text())["sg"]
    assert entry["columns"] == {"messages": "conversations", "system": "system"}


def test_alpaca_from_multi_turn_chat_keeps_history(tmp_path: Path) -> None:
    chat = [
        {
            "messages": [
                {"role": "system", "content": "S"},
                {"role": "user", "content": "q1"},
                {"role": "assistant", "content": "a1"},
                {"role": "user", "content": "q2"},
                {"role": "assistant", "content": "a2"},
            ]
        }
    ]
    src = _jsonl(tmp_path / "c.jsonl", chat)
    out = tmp_path / "a.jsonl"
    _export(src, out, "alpaca")
    assert _read_jsonl(out) == [
        {"instruction": "q2", "input": "", "output": "a2", "system": "S", "history": [["q1", "a1"]]}
    ]


def test_per_split_files(source: Path, tmp_path: Path) -> None:
    out = tmp_path / "data.jsonl"
    result = _export(source, out, "jsonl")
    names = [p.name for p in result.files]
    assert names == ["data_train.jsonl", "data_validation.jsonl", "data_test.jsonl"]
    assert not out.exists()
    for split in ("train", "validation", "test"):
        rows = _read_jsonl(tmp_path / f"data_{split}.jsonl")
        assert rows == [r for r, a in zip(PLAIN, ALPACA, strict=True) if a["split"] == split]
    assert (tmp_path / "data.jsonl.recipe.json").exists() and (
        tmp_path / "data.jsonl.card.md"
    ).exists()


def test_split_column_flag(tmp_path: Path) -> None:
    rows = [{"text": f"t{i}", "part": "a" if i < 2 else "b"} for i in range(5)]
    src = _jsonl(tmp_path / "s.jsonl", rows)
    result = _export(src, tmp_path / "o.csv", "csv", split_column="part")
    assert [p.name for p in result.files] == ["o_a.csv", "o_b.csv"]
    assert (tmp_path / "o_a.csv").read_text() == "text\nt0\nt1\n"


def test_refuses_to_overwrite_and_source(source: Path, tmp_path: Path) -> None:
    out = tmp_path / "o.jsonl"
    out.write_text("old\n")
    with pytest.raises(WriteError, match="already exists"):
        _export(source, out, "jsonl", per_split=False)
    assert out.read_text() == "old\n"
    assert not (tmp_path / "o.jsonl.recipe.json").exists()
    _export(source, out, "jsonl", per_split=False, force=True)
    assert len(_read_jsonl(out)) == 12
    with pytest.raises(WriteError, match="source"):
        _export(source, source, "jsonl", per_split=False, force=True)
    assert _read_jsonl(source) == ALPACA
    with pytest.raises(WriteError, match="does not exist"):
        _export(source, tmp_path / "nope" / "o.jsonl", "jsonl")


def test_recipe_replays_to_the_same_rows_and_card_lists_steps(source: Path, tmp_path: Path) -> None:
    dataset = load_dataset(source)
    ws = Workspace(dataset)
    ws.apply(DropRows(ids=(0, 5), reason="bad"))
    ws.apply(Sort(columns=("output",), descending=(True,)))
    out = tmp_path / "final.jsonl"
    result = export_workspace(
        ws, ExportOptions(output=out, format="openai", system="Be kind.", per_split=False)
    )
    assert result.total_rows == 10
    recipe = Recipe.load(result.recipe)
    assert [s.name for s in recipe.steps] == ["rows.drop", "rows.sort", "export.map"]
    assert recipe.source["paths"] == [str(source)]
    replayed, results = run_recipe(load_dataset(source).frame, recipe)
    assert replayed.drop(ID).to_dicts() == _read_jsonl(out)
    card = result.card.read_text(encoding="utf-8")
    for r in [*ws.results, *results[-1:]]:
        assert r.step.describe() in card
    assert "| 1 | drop 2 marked rows (bad) | 12 | 10 | 2 |" in card
    assert "| 3 | map to OpenAI chat JSONL" in card
    assert "`final.jsonl` | 10 |" in card
    assert "### Labels (`label`)" in card and "| a | 5 | 50.0% |" in card
    assert "### Length of" in card and "### Quality" in card
    assert str(source.resolve()) in card


def test_recipe_with_split_replays_rows_of_all_splits(source: Path, tmp_path: Path) -> None:
    result = _export(source, tmp_path / "d.parquet", "parquet")
    replayed, _ = run_recipe(load_dataset(source).frame, Recipe.load(result.recipe))
    written = pl.concat([pl.read_parquet(p) for p in result.files])
    assert replayed.drop(ID, "split").sort("output").equals(written.sort("output"))


def test_export_map_round_trips_through_json() -> None:
    step = ExportMap(
        format="openai",
        fields=(("user", "instruction+input"), ("assistant", "output")),
        system='say "hi"',
        keep=("split",),
        invalid="skip",
        max_tokens=5,
    )
    assert ExportMap.from_json(json.loads(json.dumps(step.to_json()))) == step


def test_progress_is_reported(source: Path, tmp_path: Path) -> None:
    from studio.engine.progress import RunContext, running

    seen: list[tuple[float, float, str]] = []
    context = RunContext(on_progress=lambda d, t, n: seen.append((d, t, n)), min_interval=0)
    with running(context):
        _export(source, tmp_path / "p.jsonl", "jsonl", per_split=False, batch_rows=5)
    writing = [s for s in seen if s[2].startswith("writing p.jsonl")]
    assert [d for d, _, _ in writing] == [5, 10, 12]


def test_hf_folder_is_replaced_with_force(source: Path, tmp_path: Path) -> None:
    import datasets

    out = tmp_path / "hf"
    _export(source, out, "hf", per_split=False)
    with pytest.raises(WriteError, match="already exists"):
        _export(source, out, "hf", per_split=False)
    dataset = load_dataset(source)
    fewer = dataset.frame.head(3)
    export_dataset(
        dataset, fewer, ExportOptions(output=out, format="hf", force=True, per_split=False)
    )
    assert datasets.load_from_disk(str(out)).num_rows == 3
    _no_temporaries(tmp_path)


def test_a_folder_is_not_a_file_output(source: Path, tmp_path: Path) -> None:
    (tmp_path / "o.jsonl").mkdir()
    with pytest.raises(WriteError, match="is a folder"):
        _export(source, tmp_path / "o.jsonl", "jsonl", per_split=False, force=True)


def test_auto_mapping_follows_renamed_columns(source: Path, tmp_path: Path) -> None:
    from studio.engine.steps.rows import RenameColumn

    ws = Workspace(load_dataset(source))
    ws.apply(RenameColumn(old="output", new="response"))
    result = export_workspace(
        ws, ExportOptions(output=tmp_path / "a.jsonl", format="alpaca", per_split=False)
    )
    assert _read_jsonl(result.files[0])[0]["output"] == "Summary 0"
