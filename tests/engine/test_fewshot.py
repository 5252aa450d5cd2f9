"""Few-shot packs: exemplars cover every label and never come from the evaluation rows; seeded
repeats; templates rendered safely; token counts with a locally trained tokenizer."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from studio.engine import fewshot as fs
from studio.engine.errors import StepError, WriteError
from studio.engine.io import load_dataset
from studio.engine.recipe import Recipe, apply_step, run_recipe
from studio.engine.steps.base import ID, Step
from studio.engine.steps.fewshot import FewShotPack
from studio.engine.tokens import load_tokenizer
from tests.tokens_fixtures import build_tokenizer

TOPICS = {
    "sport": ["football match goal", "tennis serve court", "runner marathon finish"],
    "food": ["pasta sauce tomato", "bread oven flour", "soup spoon bowl"],
    "tech": ["laptop battery charger", "phone screen crack", "router wifi signal"],
    "rare": ["volcano lava eruption"],
}


def _rows(n_per: int = 12) -> list[dict]:
    rows = []
    for label, texts in TOPICS.items():
        count = 2 if label == "rare" else n_per
        for i in range(count):
            rows.append({"text": f"{texts[i % len(texts)]} number {i}", "label": label})
    return rows


@pytest.fixture
def data(tmp_path: Path):  # noqa: ANN201
    path = tmp_path / "cls.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in _rows()))
    return load_dataset(path)


def _roles(frame: pl.DataFrame) -> tuple[list[int], list[int]]:
    ex = frame.filter(pl.col(fs.ROLE) == "exemplar")[ID].to_list()
    ev = frame.filter(pl.col(fs.ROLE) == "eval")[ID].to_list()
    return ex, ev


@pytest.mark.parametrize("mode", ["random", "diverse"])
def test_exemplars_cover_every_label_and_avoid_eval_rows(data, mode: str) -> None:  # noqa: ANN001
    step = FewShotPack(k=2, mode=mode, per_label="label", eval_n=20, seed=7)
    out, _ = apply_step(data.frame, step)
    ex, ev = _roles(out)
    assert not set(ex) & set(ev)
    labels = dict(zip(out[ID].to_list(), out["label"].to_list(), strict=True))
    covered = {labels[i] for i in ex}
    assert covered == set(TOPICS)
    # two per label, except the rare label keeps one row out of the evaluation draw
    per = {lab: sum(1 for i in ex if labels[i] == lab) for lab in TOPICS}
    assert per == {"sport": 2, "food": 2, "tech": 2, "rare": 1}
    assert len(ev) == 20


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), k=st.integers(1, 5), eval_n=st.integers(0, 40))
def test_never_from_eval_for_any_seed(seed: int, k: int, eval_n: int) -> None:
    frame = pl.DataFrame(_rows()).with_row_index(ID).with_columns(pl.col(ID).cast(pl.UInt64))
    step = FewShotPack(k=k, per_label="label", eval_n=eval_n, seed=seed)
    sel = fs.select_pack(frame.lazy(), step)
    assert not set(sel.exemplar_ids) & set(sel.eval_ids)
    labels = dict(zip(frame[ID].to_list(), frame["label"].to_list(), strict=True))
    assert {labels[i] for i in sel.exemplar_ids} == set(TOPICS)


def test_seeded_repeats_and_eval_independent_of_k_and_mode(data) -> None:  # noqa: ANN001
    a = fs.select_pack(data.frame, FewShotPack(k=3, per_label="label", eval_n=10, seed=1))
    b = fs.select_pack(data.frame, FewShotPack(k=3, per_label="label", eval_n=10, seed=1))
    assert a == b
    c = fs.select_pack(
        data.frame, FewShotPack(k=1, mode="diverse", per_label="label", eval_n=10, seed=1)
    )
    assert c.eval_ids == a.eval_ids
    d = fs.select_pack(data.frame, FewShotPack(k=3, per_label="label", eval_n=10, seed=2))
    assert d.eval_ids != a.eval_ids


def test_diverse_spreads_across_topics(tmp_path: Path) -> None:
    # one big topic and two small ones; diverse exemplars reach all three
    rows = [{"text": f"football goal match team player {i}"} for i in range(40)]
    rows += [{"text": f"chocolate cake sugar baking oven {i}"} for i in range(5)]
    rows += [{"text": f"galaxy telescope planet orbit star {i}"} for i in range(5)]
    frame = pl.DataFrame(rows).with_row_index(ID).with_columns(pl.col(ID).cast(pl.UInt64))
    sel = fs.select_pack(frame.lazy(), FewShotPack(k=3, mode="diverse", eval_n=0, seed=0))
    texts = frame.filter(pl.col(ID).is_in(sel.exemplar_ids))["text"].to_list()
    kinds = {t.split()[0] for t in texts}
    assert kinds == {"football", "chocolate", "galaxy"}


def test_marked_rows_are_the_exemplars_and_never_evaluated(data) -> None:  # noqa: ANN001
    marked = (3, 17, 30)
    step = FewShotPack(mode="marked", ids=marked, eval_n=len(_rows()), seed=0)
    sel = fs.select_pack(data.frame, step)
    assert sel.exemplar_ids == list(marked)
    assert not set(marked) & set(sel.eval_ids)
    assert len(sel.eval_ids) == len(_rows()) - 3
    with pytest.raises(StepError, match="No rows are marked"):
        fs.select_pack(data.frame, FewShotPack(mode="marked", ids=(), eval_n=2))


def test_template_placeholders_are_checked_and_never_evaluated() -> None:
    with pytest.raises(StepError, match=r"unknown placeholder \{foo\}"):
        fs.check_templates("{exemplars} {foo}", fs.DEFAULT_EXEMPLAR)
    with pytest.raises(StepError, match=r"unknown placeholder \{input\.__class__\}"):
        fs.check_templates("{input.__class__}", fs.DEFAULT_EXEMPLAR)
    with pytest.raises(StepError, match="cannot have a format"):
        fs.check_templates("{input!r}", fs.DEFAULT_EXEMPLAR)
    with pytest.raises(StepError, match="exemplar format"):
        fs.check_templates(fs.DEFAULT_TEMPLATE, "{exemplars}")
    with pytest.raises(StepError, match="malformed"):
        fs.check_templates("{exemplars", fs.DEFAULT_EXEMPLAR)
    # literal braces and user text with braces pass through untouched
    text = fs.fill('JSON: {{"a": 1}} {input}', {"input": "{exemplars} {0}"})
    assert text == 'JSON: {"a": 1} {exemplars} {0}'


def test_rendering_and_token_count_with_a_trained_tokenizer(data, tmp_path: Path) -> None:  # noqa: ANN001
    from transformers import AutoTokenizer

    folder = build_tokenizer(tmp_path / "tok")
    tok = AutoTokenizer.from_pretrained(str(folder))
    tok.model_max_length = 64
    tok.save_pretrained(str(tmp_path / "tok64"))
    template = "Labels: {labels}\n{exemplars}\n### {k} shown\nText: {input}\nLabel:"
    step = FewShotPack(
        k=1,
        per_label="label",
        eval_n=4,
        seed=3,
        template=template,
        exemplar_format="[{n}] {input} => {label}",
        tokenizer=str(tmp_path / "tok64"),
    )
    pack = fs.build_pack(data.frame, step)
    assert pack.prompt.startswith("Labels: food, rare, sport, tech\n[1] ")
    assert "### 4 shown\nText: {input}\nLabel:" in pack.prompt
    lines = [line for line in pack.prompt.splitlines() if line.startswith("[")]
    assert [line.split("]")[0] for line in lines] == ["[1", "[2", "[3", "[4"]
    first = pack.eval["input"][0]
    assert pack.preview == pack.prompt.replace("{input}", first)
    counter = load_tokenizer(str(tmp_path / "tok64"))
    assert not pack.estimate
    assert pack.eval_tokens[0] == counter.count([pack.preview])[0]
    assert pack.context == 64 and "model_max_length" in pack.context_source
    assert pack.over_limit == sum(1 for t in pack.eval_tokens if t > 64) > 0
    # a given context wins; without a tokenizer the count is the labelled estimate
    given = fs.build_pack(data.frame, FewShotPack(k=1, per_label="label", eval_n=2, context=9000))
    assert given.context == 9000 and given.estimate
    block = fs.render_exemplars(fs.DEFAULT_EXEMPLAR, given.exemplars)
    bare = fs.render_prompt(fs.DEFAULT_TEMPLATE, block, "", given.labels, given.exemplars.height)
    assert given.prompt_tokens == -(-len(bare) // 4)
    assert "estimate" in given.token_line()


def test_chat_rows_give_user_input_and_assistant_output(tmp_path: Path) -> None:
    rows = [
        {
            "messages": [
                {"role": "system", "content": "be brief"},
                {"role": "user", "content": f"question {i}"},
                {"role": "assistant", "content": f"answer {i}"},
            ]
        }
        for i in range(6)
    ]
    path = tmp_path / "chat.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    dataset = load_dataset(path)
    pack = fs.build_pack(dataset.frame, FewShotPack(k=2, eval_n=2, seed=0))
    for row in pack.exemplars.iter_rows(named=True):
        n = row["input"].split()[-1]
        assert row["input"] == f"question {n}" and row["output"] == f"answer {n}"


def test_write_pack_files_recipe_replay_and_overwrite(data, tmp_path: Path) -> None:  # noqa: ANN001
    step = FewShotPack(k=2, per_label="label", eval_n=5, seed=4)
    out = tmp_path / "pack"
    result = fs.write_pack(data, data.frame, step, out)
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(fs.FILES)
    exemplars = [json.loads(x) for x in (out / "exemplars.jsonl").read_text().splitlines()]
    evaluation = [json.loads(x) for x in (out / "eval.jsonl").read_text().splitlines()]
    assert len(exemplars) == result.pack.exemplars.height
    per = {lab: sum(1 for e in exemplars if e["label"] == lab) for lab in TOPICS}
    assert per["sport"] == per["food"] == per["tech"] == 2 and 1 <= per["rare"] <= 2
    assert {e["label"] for e in exemplars} == set(TOPICS)
    assert set(evaluation[0]) == {"input", "output", "source", "prompt_tokens"}
    assert not {e["source"] for e in exemplars} & {e["source"] for e in evaluation}
    assert (out / "PROMPT.md").read_text().rstrip("\n") == result.pack.prompt
    # the recipe replays headless to the same rows
    recipe = Recipe.load(out / "fewshot.recipe.json")
    assert recipe.steps == [step]
    replayed, _ = run_recipe(load_dataset(data.paths[0]).frame, recipe)
    ex, ev = _roles(replayed)
    assert ex == result.pack.exemplars[ID].to_list()
    assert ev == result.pack.eval[ID].to_list()
    # no overwrite without force; with force it rewrites
    with pytest.raises(WriteError, match="already exists"):
        fs.write_pack(data, data.frame, step, out)
    fs.write_pack(data, data.frame, step, out, force=True)
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def test_step_round_trips_through_json() -> None:
    step = FewShotPack(k=3, mode="marked", ids=(1, 2), template="{exemplars}\n{input}")
    assert Step.from_json(json.loads(json.dumps(step.to_json()))) == step


def test_validation_errors(data) -> None:  # noqa: ANN001
    schema = data.frame.collect_schema()
    with pytest.raises(StepError, match="No column named 'nope'"):
        FewShotPack(per_label="nope").validate(schema)
    with pytest.raises(StepError, match="exemplar mode"):
        FewShotPack(mode="magic").validate(schema)
    with pytest.raises(StepError, match="at least 1"):
        FewShotPack(k=0).validate(schema)


def test_a_cancelled_write_leaves_nothing(data, tmp_path: Path) -> None:  # noqa: ANN001
    from studio.engine.progress import Cancelled, RunContext, running

    step = FewShotPack(k=2, per_label="label", eval_n=5, seed=4, mode="diverse")
    out = tmp_path / "pack"
    with pytest.raises(Cancelled), running(RunContext(is_cancelled=lambda: True)):
        fs.write_pack(data, data.frame, step, out)
    assert not out.exists() or not list(out.iterdir())


def test_k_beyond_the_rows_is_noted_and_eval_taking_everything_is_explained(data) -> None:  # noqa: ANN001
    # 38 rows: food 12, tech 12, rare 2 (and the rest); per label, rare gives what it has
    per = fs.select_pack(data.frame, FewShotPack(k=5, per_label="label", eval_n=6))
    labels = dict(data.frame.select(ID, "label").collect().iter_rows())
    given = sum(labels[i] == "rare" for i in per.exemplar_ids)
    assert 1 <= given < 5
    rows = "1 row" if given == 1 else f"{given} rows"
    got = "1 exemplar" if given == 1 else f"{given} exemplars"
    assert f"label 'rare' has only {rows} outside evaluation: {got} of it, not 5" in per.notes
    # without labels the shortfall is noted too (it was silent)
    rows = data.frame.select(pl.len()).collect().item()
    flat = fs.select_pack(data.frame, FewShotPack(k=rows, eval_n=4))
    assert len(flat.exemplar_ids) == rows - 4
    assert f"only {rows - 4} rows outside evaluation: {rows - 4} exemplars, not {rows}" in (
        flat.notes
    )
    with pytest.raises(StepError, match=f"the {rows} evaluation rows take all {rows} rows"):
        fs.select_pack(data.frame, FewShotPack(k=2, eval_n=rows + 10))


def test_prompt_template_needs_exemplars_and_input() -> None:
    with pytest.raises(StepError, match=r"no \{exemplars\} \(where the k exemplars go\)"):
        fs.check_templates("No exemplars here: {input}", fs.DEFAULT_EXEMPLAR)
    with pytest.raises(StepError, match=r"no \{input\}"):
        fs.check_templates("{exemplars}\n", fs.DEFAULT_EXEMPLAR)
    fs.check_templates("{exemplars}\n\nQ: {input}\nLabels: {labels}", fs.DEFAULT_EXEMPLAR)
