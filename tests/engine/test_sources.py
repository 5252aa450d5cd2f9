"""Several sources in one workspace: parsing, mapping onto a common shape, ids and reports."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import polars as pl
import pytest

from studio.engine.errors import LoadError, StudioError
from studio.engine.recipe import Recipe
from studio.engine.sources import (
    SourceSpec,
    combine,
    combine_recipe_source,
    parse_source_arg,
)
from studio.engine.steps.base import ID, Step
from studio.engine.steps.filter import LengthFilter
from studio.engine.workspace import Workspace


def write_jsonl(path: Path, rows: list[dict]) -> str:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return str(path)


@pytest.fixture
def three(tmp_path: Path) -> dict[str, str]:
    qa = write_jsonl(
        tmp_path / "qa.jsonl",
        [{"question": f"q{i}?", "answer": f"a{i}", "meta": i} for i in range(5)],
    )
    summ = tmp_path / "summ.parquet"
    pl.DataFrame(
        {"instruction": [f"sum {i}" for i in range(3)], "input": ["doc"] * 3, "output": ["s"] * 3}
    ).write_parquet(summ)
    chat = write_jsonl(
        tmp_path / "chat.jsonl",
        [
            {
                "messages": [
                    {"role": "system", "content": "be nice"},
                    {"role": "user", "content": f"hi {i}"},
                    {"role": "assistant", "content": f"hello {i}"},
                ]
            }
            for i in range(4)
        ],
    )
    return {"qa": qa, "summ": str(summ), "chat": chat}


def test_parse_source_arg() -> None:
    assert parse_source_arg("A.jsonl") == SourceSpec("A.jsonl")
    spec = parse_source_arg("data/A.jsonl:task=qa,output=answer")
    assert spec.path == "data/A.jsonl"
    assert spec.task == "qa"
    assert spec.mapping == (("output", "answer"),)
    assert parse_source_arg("x.csv:task=t:user=q").mapping == (("instruction", "q"),)
    assert SourceSpec("dir/B.parquet").task_name == "B"
    with pytest.raises(StudioError, match="Unknown common field"):
        parse_source_arg("A.jsonl:nonsense=x")


def test_spec_json_round_trip(tmp_path: Path) -> None:
    spec = SourceSpec(
        "a.jsonl", "qa", (("output", "answer"),), (LengthFilter(column="q", min_len=2),)
    )
    again = SourceSpec.from_json(json.loads(json.dumps(spec.to_json())))
    assert again == spec


def test_combine_alpaca(three: dict[str, str]) -> None:
    combined = combine(
        [SourceSpec(three["qa"], "qa"), SourceSpec(three["summ"], "summarize")], shape="auto"
    )
    ds = combined.dataset
    df = ds.frame.collect()
    assert df.columns == [ID, "instruction", "input", "output", "task"]
    assert df.height == 8
    assert df[ID].n_unique() == 8
    assert df.filter(pl.col("task") == "qa")["instruction"].to_list()[0] == "q0?"
    assert df.filter(pl.col("task") == "summarize")["input"].to_list() == ["doc"] * 3
    # provenance: file and line of every row
    sources = ds.source_ids(df[ID]).to_list()
    assert sources[0] == "qa.jsonl:1"
    assert sources[5] == "summ.parquet:1"
    report = combined.report
    assert report.shape == "alpaca"
    qa = report.sources[0]
    assert qa.used == {"instruction": "question", "output": "answer"}
    assert qa.ignored == ("meta",)
    assert any("meta" in line for line in report.mismatches())
    assert ds.recipe_source()["sources"][0]["task"] == "qa"


def test_combine_chat(three: dict[str, str]) -> None:
    combined = combine([SourceSpec(three["qa"], "qa"), SourceSpec(three["chat"], "chat")])
    assert combined.report.shape == "chat"
    df = combined.dataset.frame.collect()
    assert df.columns == [ID, "messages", "task"]
    first = df.row(0, named=True)["messages"]
    assert first == [{"role": "user", "content": "q0?"}, {"role": "assistant", "content": "a0"}]
    chat = df.filter(pl.col("task") == "chat").row(0, named=True)["messages"]
    assert [m["role"] for m in chat] == ["system", "user", "assistant"]


def test_chat_into_alpaca_keeps_first_exchange(three: dict[str, str]) -> None:
    combined = combine([SourceSpec(three["chat"], "chat")], shape="alpaca")
    df = combined.dataset.frame.collect()
    assert df["instruction"].to_list()[0] == "hi 0"
    assert df["output"].to_list()[0] == "hello 0"


def test_schema_mismatch_reported_not_raised(tmp_path: Path, three: dict[str, str]) -> None:
    odd = tmp_path / "odd.csv"
    pl.DataFrame({"prompt_text": ["a", "b"], "score": [0.5, 0.7]}).write_csv(odd)
    combined = combine(
        [
            SourceSpec(three["qa"], "qa"),
            SourceSpec(str(odd), "odd", mapping=(("output", "nope"),)),
        ]
    )
    odd_report = combined.report.sources[1]
    assert any("nope" in p for p in odd_report.problems)
    assert "output" in odd_report.missing
    lines = combined.report.mismatches()
    assert any("no column for output" in line for line in lines)
    assert any("mapping output" in line for line in lines)
    assert combined.dataset.rows == 7


def test_mapping_overrides_detection(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "x.jsonl", [{"q": "why", "a": "because", "b": "other"}])
    combined = combine([SourceSpec(path, "x", mapping=(("instruction", "q"), ("output", "b")))])
    row = combined.dataset.frame.collect().row(0, named=True)
    assert (row["instruction"], row["output"]) == ("why", "other")


def test_nothing_maps_raises(tmp_path: Path) -> None:
    missing = str(tmp_path / "none.jsonl")
    with pytest.raises(LoadError, match="No source maps"):
        combine([SourceSpec(missing)])


def test_unreadable_source_reported(tmp_path: Path, three: dict[str, str]) -> None:
    combined = combine([SourceSpec(three["qa"]), SourceSpec(str(tmp_path / "gone.jsonl"))])
    assert not combined.report.sources[1].ok
    assert combined.dataset.rows == 5


def test_per_source_steps_and_ids_stay_unique(three: dict[str, str]) -> None:
    steps: tuple[Step, ...] = (LengthFilter(column="answer", min_len=99),)
    combined = combine([SourceSpec(three["qa"], "qa", steps=steps), SourceSpec(three["summ"])])
    df = combined.dataset.frame.collect()
    assert df["task"].to_list() == ["summ"] * 3
    assert df[ID].to_list() == [5, 6, 7]  # past the first source's ids


def test_recipe_source_replays(three: dict[str, str], tmp_path: Path) -> None:
    combined = combine([SourceSpec(three["qa"], "qa"), SourceSpec(three["summ"], "s")])
    ws = Workspace(combined.dataset)
    ws.apply(LengthFilter(column="instruction", min_len=4))
    recipe = Recipe.from_json(json.loads(ws.recipe().dumps()))
    again = combine_recipe_source(recipe.source)
    from studio.engine.recipe import run_recipe

    out, _ = run_recipe(again.dataset.frame, recipe)
    assert out.equals(ws.frame.collect())
    # paths override in order
    other = combine_recipe_source(recipe.source, [three["summ"]])
    assert other.dataset.frame.collect()["task"].to_list() == ["qa"] * 3 + ["s"] * 3


def test_sharegpt_and_preference_map_onto_chat(tmp_path: Path) -> None:
    share = write_jsonl(
        tmp_path / "share.jsonl",
        [{"conversations": [{"from": "human", "value": "hi"}, {"from": "gpt", "value": "yo"}]}],
    )
    pref = write_jsonl(
        tmp_path / "pref.jsonl", [{"prompt": "p?", "chosen": "good", "rejected": "bad"}]
    )
    combined = combine([SourceSpec(share, "share"), SourceSpec(pref, "pref")])
    assert combined.report.shape == "chat"
    rows = combined.dataset.frame.collect()["messages"].to_list()
    assert rows[0] == [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]
    assert rows[1] == [
        {"role": "user", "content": "p?"},
        {"role": "assistant", "content": "good"},
    ]
    assert combined.report.sources[1].ignored == ("rejected",)


# -- a source's own recipe: rows put back, ids that follow their rows ---------------------------


@pytest.fixture
def dupes(tmp_path: Path) -> dict[str, str]:
    """qa with two pairs of exact duplicates (rows 1=4 and 2=5); summ plain."""
    qa = write_jsonl(
        tmp_path / "qa.jsonl",
        [
            {"question": q, "answer": a}
            for q, a in [("q0", "a0"), ("q1", "a1"), ("q2", "a2"), ("q3", "a3")]
            + [("q1", "a1"), ("q2", "a2"), ("q6", "a6")]
        ],
    )
    summ = write_jsonl(
        tmp_path / "summ.jsonl",
        [{"instruction": f"sum {i}", "input": "doc", "output": "s"} for i in range(3)],
    )
    return {"qa": qa, "summ": summ}


def test_spec_restored_round_trip() -> None:
    from studio.engine.errors import RecipeError
    from studio.engine.steps.dedup import DedupExact

    spec = SourceSpec(
        "a.jsonl",
        "qa",
        steps=(DedupExact(columns=("question",)), LengthFilter(column="q", min_len=2)),
        restored=((0, (4, 5)),),
    )
    data = json.loads(json.dumps(spec.to_json()))
    # the same shape as a recipe's `restored`
    assert data["restored"] == {"0": [4, 5]}
    assert (
        data["restored"]
        == Recipe(steps=list(spec.steps), restored={0: (4, 5)}).to_json()["restored"]
    )
    assert SourceSpec.from_json(data) == spec
    assert spec.recipe.restored == {0: (4, 5)}
    assert "restored" not in SourceSpec("a.jsonl").to_json()
    with pytest.raises(RecipeError, match="source's 'restored'"):
        SourceSpec.from_json({"path": "a.jsonl", "restored": {"x": [1]}})


def test_combine_applies_restored_rows(dupes: dict[str, str], tmp_path: Path) -> None:
    from studio.engine.io import load_dataset
    from studio.engine.recipe import run_recipe
    from studio.engine.steps.dedup import DedupExact

    dedup = DedupExact(columns=("question",))
    plain = combine([SourceSpec(dupes["qa"], "qa", steps=(dedup,)), SourceSpec(dupes["summ"])])
    assert plain.report.sources[0].rows == 5  # the two later copies removed
    spec = SourceSpec(dupes["qa"], "qa", steps=(dedup,), restored=((0, (4,)),))
    combined = combine([spec, SourceSpec(dupes["summ"])])
    qa = combined.dataset.frame.filter(pl.col("task") == "qa").collect()
    # the same rows a workspace on the source alone shows after putting row 4 back
    ws = Workspace(load_dataset(dupes["qa"]))
    ws.apply(dedup)
    ws.restore(0, [4])
    alone, _ = run_recipe(load_dataset(dupes["qa"]).frame, spec.recipe)
    assert qa[ID].to_list() == ws.frame.collect()[ID].to_list() == alone[ID].to_list()
    assert qa[ID].to_list() == [0, 1, 2, 3, 4, 6]
    assert qa["instruction"].to_list() == ["q0", "q1", "q2", "q3", "q1", "q6"]
    # the combined recipe records it, and replays to the same rows
    again = combine_recipe_source(json.loads(json.dumps(combined.dataset.recipe_source())))
    assert again.dataset.frame.collect().equals(combined.dataset.frame.collect())
    # a recipe=FILE source option carries the rows put back too
    saved = tmp_path / "qa.recipe.json"
    ws.recipe().save(saved)
    parsed = parse_source_arg(f"{dupes['qa']}:task=qa,recipe={saved}")
    assert parsed.steps == (dedup,) and parsed.restored == ((0, (4,)),)


def test_ids_follow_their_rows_when_a_source_goes(dupes: dict[str, str]) -> None:
    from studio.engine.sources import moved_ids
    from studio.engine.steps.rows import DropRows, KeepRows

    first = combine([SourceSpec(dupes["summ"], "s"), SourceSpec(dupes["qa"], "qa")])
    assert first.offsets == (0, 3)
    assert first.locate(0) == (0, 0) and first.locate(5) == (1, 2) and first.locate(99) == (1, 96)
    second = combine([SourceSpec(dupes["qa"], "qa")])
    move = moved_ids(first, second, {1: 0})
    assert [move(i) for i in (0, 2, 3, 9)] == [None, None, 0, 6]
    # a step keeps the rows it named that are still there, and goes when none are
    drop = DropRows(ids=(1, 4, 5))
    assert drop.with_row_ids(move) == DropRows(ids=(1, 2))
    assert KeepRows(ids=(0, 1)).with_row_ids(move) is None
    assert LengthFilter(column="q").with_row_ids(move) == LengthFilter(column="q")
    # rows a step treats apart follow too; those gone are left out and the step still runs
    from studio.engine.steps.dedup import DedupAgainst, DedupNear, LabelConflicts

    near = DedupNear(column="instruction", overrides=((4, 5), (9, -1), (0, 4)))
    assert near.with_row_ids(move) == replace(near, overrides=((1, 2), (6, -1)))
    against = DedupAgainst(other="x.jsonl", kept=(0, 3))
    assert against.with_row_ids(move) == replace(against, kept=(0,))
    assert replace(against, kept=(1,)).with_row_ids(move) == replace(against, kept=())
    pick = LabelConflicts(resolution="pick", choices=((4, "qa"), (1, "s")))
    assert pick.with_row_ids(move) == replace(pick, choices=((1, "qa"),))
    before = first.dataset.frame.collect()
    after = second.dataset.frame.collect()
    for old in (4, 5, 9):
        new = move(old)
        assert new is not None
        row_before = before.filter(pl.col(ID) == old).drop(ID).row(0)
        assert after.filter(pl.col(ID) == new).drop(ID).row(0) == row_before


def test_steps_naming_tasks_follow_a_rename(tmp_path: Path) -> None:
    """Steps declare the parameters holding task (or label) values; a rename carries into them,
    two names renamed into one merge, and steps on another column are left alone."""
    from studio.engine.steps.augment import AugmentEda
    from studio.engine.steps.balance import CapClasses, Oversample
    from studio.engine.steps.filter import ValuesFilter
    from studio.engine.steps.mix import DedupAcross, MixTasks
    from studio.engine.steps.transfer import TransferStages

    names = {"qa": "question"}
    mix = MixTasks(rule="percent", counts=(("qa", 5), ("sum", 9)), weights=(("qa", 0.3),))
    moved = mix.with_values_renamed("task", names)
    assert moved.counts == (("question", 5), ("sum", 9))
    assert moved.weights == (("question", 0.3),)
    assert MixTasks(column="domain", counts=(("qa", 1),)).with_values_renamed("task", names) == (
        MixTasks(column="domain", counts=(("qa", 1),))
    )
    merged = mix.with_values_renamed("task", {"qa": "sum"})
    assert merged.counts == (("sum", 14),)
    assert ValuesFilter(column="task", values=("qa", "sum")).with_values_renamed(
        "task", {"sum": "qa"}
    ).values == ("qa",)
    assert CapClasses(label="task", per_class="qa=3,sum=4").with_values_renamed(
        "task", names
    ).per_class == ("question=3,sum=4")
    assert Oversample(label="task", target="auto").with_values_renamed("task", {"auto": "x"}) == (
        Oversample(label="task", target="auto")
    )
    assert AugmentEda(label="task", only_labels=("qa",)).with_values_renamed(
        "task", names
    ).only_labels == ("question",)
    assert DedupAcross().with_values_renamed("task", names) == DedupAcross()
    stages = TransferStages(sources=("a.jsonl:task=qa,output=x", "b.jsonl:task=qab"))
    assert stages.with_values_renamed("task", names).sources == (
        "a.jsonl:task=question,output=x",
        "b.jsonl:task=qab",
    )
    # the renamed step still runs: a mixture over the renamed task keeps its counts
    frame = pl.DataFrame(
        {"_id": pl.Series(range(6), dtype=pl.UInt64), "task": ["question"] * 4 + ["sum"] * 2}
    ).lazy()
    out = MixTasks(rule="counts", counts=(("qa", 2), ("sum", 1))).with_values_renamed("task", names)
    counts = dict(out.apply(frame).collect().group_by("task").len().iter_rows())
    assert counts == {"question": 2, "sum": 1}


def test_a_source_that_maps_nowhere_says_what_it_has(tmp_path: Path) -> None:
    """A source none of whose columns map is reported with the rows it loaded and its columns
    (to map one with FIELD=COLUMN), and the other sources still combine."""
    good = write_jsonl(tmp_path / "qa.jsonl", [{"question": "q", "answer": "a"}] * 3)
    nums = write_jsonl(tmp_path / "nums.jsonl", [{"a": i, "b": [i]} for i in range(4)])
    combined = combine([SourceSpec(good, "qa"), SourceSpec(nums, "nums")])
    assert combined.dataset.rows == 3
    report = combined.report.sources[1]
    assert not report.ok and report.rows_loaded == 4
    lines = report.lines()
    assert lines[0] == "nums: nums.jsonl, 4 rows loaded, detected unknown (not used)"
    assert "its columns: a, b; map one with FIELD=COLUMN" in lines[1]
    # mapped, the list column is reported (not crashed on) and the int column is text
    mapped = combine(
        [SourceSpec(good, "qa"), SourceSpec(nums, "nums", (("instruction", "a"), ("output", "b")))]
    )
    report = mapped.report.sources[1]
    assert report.ok and report.rows == 4
    assert "column 'b' holds List(Int64), not text; output left empty" in report.problems
    assert mapped.dataset.frame.filter(pl.col("task") == "nums").collect()["instruction"][3] == (
        "3"
    )


def test_a_task_gone_is_left_out_of_the_steps_naming_it() -> None:
    from studio.engine.steps.balance import CapClasses
    from studio.engine.steps.mix import MixTasks
    from studio.engine.steps.transfer import TransferStages

    gone = {"sum": None}
    mix = MixTasks(rule="counts", counts=(("qa", 5), ("sum", 9)))
    assert mix.with_values_renamed("task", gone).counts == (("qa", 5),)
    cap = CapClasses(label="task", per_class="qa=3,sum=4")
    assert cap.with_values_renamed("task", gone).per_class == "qa=3"
    stages = TransferStages(sources=("a.jsonl:task=sum",))
    assert stages.with_values_renamed("task", gone) == stages
