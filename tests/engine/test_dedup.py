from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from studio.engine.dedup import (
    MinHashConfig,
    Normalization,
    near_duplicates,
    normalize,
    optimal_bands,
)
from studio.engine.errors import StepError
from studio.engine.io import load_dataset
from studio.engine.recipe import Recipe, apply_step, run_recipe
from studio.engine.steps.base import ID
from studio.engine.steps.dedup import (
    DedupAgainst,
    DedupExact,
    DedupNear,
    DedupNormalized,
    LabelConflicts,
)
from studio.engine.workspace import Workspace


def frame(texts: list[str | None], **extra: list[object]) -> pl.LazyFrame:
    data: dict[str, object] = {ID: pl.Series(range(len(texts)), dtype=pl.UInt64), "text": texts}
    data.update(extra)
    return pl.DataFrame(data).lazy()


def kept_ids(step, lazy: pl.LazyFrame) -> list[int]:  # noqa: ANN001
    out, _ = apply_step(lazy, step)
    return out[ID].to_list()


def words(rng: np.random.Generator, n: int) -> list[str]:
    vocab = [f"w{i}x{'ab'[i % 2]}" for i in range(3000)]
    return [vocab[int(i)] for i in rng.integers(0, len(vocab), n)]


def planted_near(seed: int = 0, n: int = 40, copies: int = 6, length: int = 60):  # noqa: ANN201
    """n distinct random-word rows plus `copies` near copies (one or two words changed)."""
    rng = np.random.default_rng(seed)
    rows = [" ".join(words(rng, length)) for _ in range(n)]
    truth = {}
    for k in range(copies):
        src = k * 3
        toks = rows[src].split(" ")
        toks[int(rng.integers(0, length))] = "changed"
        if k % 2:
            del toks[int(rng.integers(0, len(toks)))]
        truth[len(rows)] = src
        rows.append(" ".join(toks))
    return rows, truth


# -- exact ------------------------------------------------------------------------------------
def test_exact_finds_planted_duplicates_only() -> None:
    lazy = frame(["a", "b", "a", "A", "b", "c", None, None])
    step = DedupExact(columns=("text",))
    assert kept_ids(step, lazy) == [0, 1, 3, 5, 6, 7]
    _, result = apply_step(lazy, step)
    reasons = dict(result.removed.iter_rows())
    assert reasons == {2: "exact duplicate of row 0", 4: "exact duplicate of row 1"}


def test_rows_without_text_are_not_duplicates_of_each_other() -> None:
    # empty, null and whitespace-only texts under different labels: nothing to deduplicate
    texts = ["", None, "   ", "\t\r\n", "a", "a", ""]
    labels = ["x", "y", "z", "x", "x", "y", "z"]
    lazy = frame(texts, label=labels)
    assert kept_ids(DedupExact(columns=("text",)), lazy) == [0, 1, 2, 3, 4, 6]
    assert kept_ids(DedupNormalized(column="text"), lazy) == [0, 1, 2, 3, 4, 6]
    # on several columns a row is blank only when all of them are
    both = frame(["", "", None, None], label=["x", "x", None, None])
    assert kept_ids(DedupExact(columns=("text", "label")), both) == [0, 2, 3]


def test_exact_on_all_columns_by_default() -> None:
    lazy = frame(["a", "a", "a"], label=["x", "y", "x"])
    assert kept_ids(DedupExact(), lazy) == [0, 1]


@pytest.mark.parametrize(
    ("keep", "column", "expected"),
    [
        ("first", "", [0, 3]),
        ("last", "", [2, 3]),
        ("longest", "", [1, 3]),
        ("shortest", "", [0, 3]),
        ("complete", "", [2, 3]),
        ("highest", "score", [1, 3]),
        ("lowest", "score", [2, 3]),
    ],
)
def test_keep_policies(keep: str, column: str, expected: list[int]) -> None:
    lazy = frame(
        ["hi there", "Hi,  there!!", "HI THERE", "other"],
        extra=[None, None, "filled", "x"],
        score=[2.0, 9.0, 1.0, 0.0],
    )
    step = DedupNormalized(column="text", keep=keep, keep_column=column)
    assert kept_ids(step, lazy) == expected


def test_keep_policy_needs_a_column() -> None:
    with pytest.raises(StepError):
        apply_step(frame(["a", "a"]), DedupExact(keep="highest", keep_column="nope"))


def test_overrides_pick_a_row_or_reject_a_cluster() -> None:
    lazy = frame(["x", "x", "x", "y", "y", "z"])
    assert kept_ids(DedupExact(columns=("text",), overrides=((1, 2),)), lazy) == [2, 3, 5]
    assert kept_ids(DedupExact(columns=("text",), overrides=((4, -1),)), lazy) == [0, 3, 4, 5]
    # an override naming a row of another cluster is ignored
    assert kept_ids(DedupExact(columns=("text",), overrides=((0, 3),)), lazy) == [0, 3, 5]


def test_cluster_column_and_mark_only() -> None:
    lazy = frame(["x", "y", "x", "z", "y"])
    out, result = apply_step(
        lazy, DedupExact(columns=("text",), cluster_column="dup_cluster", drop=False)
    )
    assert out.height == 5 and result.dropped == 0
    assert out.schema["dup_cluster"] == pl.Int64
    assert out["dup_cluster"].to_list() == [0, 1, 0, None, 1]


# -- normalized -------------------------------------------------------------------------------
def test_normalized_variants() -> None:
    texts = [
        "Hello, World!",
        "hello world",
        "  HELLO\tworld  ",
        "Ｈｅｌｌｏ　ｗｏｒｌｄ",  # full-width letters and space (NFKC)
        "Hello worlds",
        "Héllo world",
        "he llo world",
    ]
    assert kept_ids(DedupNormalized(column="text"), frame(texts)) == [0, 4, 5, 6]
    assert kept_ids(DedupNormalized(column="text", case=False), frame(texts)) == list(range(7))
    assert kept_ids(DedupNormalized(column="text", case=False), frame(["A b", "A, b!"])) == [0]
    keys = normalize(pl.Series(texts)).to_list()
    assert keys[:4] == ["hello world"] * 4
    assert keys[5] == "héllo world"


def test_normalization_options_parse() -> None:
    assert Normalization.parse("case,whitespace") == Normalization(True, True, False, False)
    assert Normalization.parse("") == Normalization()
    with pytest.raises(StepError):
        Normalization.parse("vowels")


def test_normalize_combining_marks_and_crlf() -> None:
    keys = normalize(pl.Series(["Cafe\u0301\r\nau lait", "Café au lait", "😀 smile", "😀smile"]))
    assert keys.to_list() == ["café au lait", "café au lait", "😀 smile", "😀smile"]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(["a", "A", "a.", " a", "b", "B!", "c", "", "ab"]), max_size=30))
def test_dedup_is_idempotent(texts: list[str]) -> None:
    for step in (DedupExact(columns=("text",)), DedupNormalized(column="text")):
        once, _ = apply_step(frame(texts), step)
        twice, result = apply_step(once.lazy(), step)
        assert twice.equals(once) and result.dropped == 0
        assert once.height <= len(texts)


# -- near -------------------------------------------------------------------------------------
def test_near_finds_planted_copies_and_nothing_else() -> None:
    rows, truth = planted_near()
    out, result = apply_step(frame(rows), DedupNear(column="text"))
    assert sorted(result.removed[ID].to_list()) == sorted(truth)
    for copy, source in truth.items():
        reason = result.removed.filter(pl.col(ID) == copy)["reason"].item()
        assert reason.startswith(f"near duplicate of row {source} (similarity 0.9")
    again, second = apply_step(out.lazy(), DedupNear(column="text"))
    assert second.dropped == 0 and again.equals(out)


def test_near_with_char_shingles_and_manual_bands() -> None:
    rows, truth = planted_near(seed=3, n=20, copies=4)
    step = DedupNear(column="text", shingle="char", ngram=5, bands=16, rows=4)
    _, result = apply_step(frame(rows), step)
    assert sorted(result.removed[ID].to_list()) == sorted(truth)


def test_near_kernel_clusters_and_similarity() -> None:
    rows, truth = planted_near(seed=1, n=10, copies=2)
    found = near_duplicates(pl.Series(rows), config=MinHashConfig())
    assert found.count == 2
    assert (found.similarity > 0.9).all()
    for copy, source in truth.items():
        assert found.label[copy] == found.label[source] >= 0


def test_near_step_validates() -> None:
    with pytest.raises(StepError):
        apply_step(frame(["a"]), DedupNear(column="text", shingle="line"))
    with pytest.raises(StepError):
        apply_step(frame(["a"]), DedupNear(column="text", bands=100, rows=100))


def test_optimal_bands() -> None:
    b_low, r_low = optimal_bands(0.3, 128)
    b_high, r_high = optimal_bands(0.9, 128)
    assert b_low * r_low <= 128 and b_high * r_high <= 128
    assert r_low < r_high and b_low > b_high


# -- leaks and label conflicts ----------------------------------------------------------------
def test_leaks_against_another_file(tmp_path) -> None:  # noqa: ANN001
    rows, _ = planted_near(seed=5, n=8, copies=0)
    train = tmp_path / "train.jsonl"
    test = tmp_path / "test.jsonl"
    train.write_text("".join(json.dumps({"text": t}) + "\n" for t in rows), encoding="utf-8")
    near_copy = rows[2].replace(rows[2].split(" ")[5], "edited", 1)
    test_rows = ["unrelated words only here", rows[0].upper() + "!", near_copy]
    test.write_text("".join(json.dumps({"q": t}) + "\n" for t in test_rows), encoding="utf-8")
    data = load_dataset(train).frame
    exact = DedupAgainst(other=str(test), column="text", other_column="q", mode="exact")
    assert apply_step(data, exact)[1].dropped == 0
    normalized = DedupAgainst(other=str(test), column="text", other_column="q")
    out, result = apply_step(data, normalized)
    assert result.removed.rows() == [(0, "normalized match in test.jsonl:2")]
    near = DedupAgainst(other=str(test), column="text", other_column="q", mode="near")
    out, result = apply_step(data, near)
    assert sorted(result.removed[ID].to_list()) == [0, 2]
    assert out.height == len(rows) - 2


def test_leak_check_does_not_match_rows_without_text(tmp_path) -> None:  # noqa: ANN001
    # an empty train row is not a leak of an empty test row (as in every other mode)
    train = tmp_path / "train.jsonl"
    test = tmp_path / "test.jsonl"
    rows = [{"text": ""}, {"text": None}, {"text": "  "}, {"text": "same words here"}]
    train.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    other = [{"text": ""}, {"text": None}, {"text": "\t"}, {"text": "Same words here!"}]
    test.write_text("".join(json.dumps(r) + "\n" for r in other), encoding="utf-8")
    data = load_dataset(train).frame
    for mode, dropped in (("exact", []), ("normalized", [3]), ("near", [3])):
        step = DedupAgainst(other=str(test), column="text", mode=mode)
        assert apply_step(data, step)[1].removed[ID].to_list() == dropped, mode


def test_label_conflicts_resolutions() -> None:
    lazy = frame(
        ["Good movie", "good movie!", "GOOD MOVIE", "bad film", "Bad film.", "fine"],
        label=["pos", "pos", "neg", "neg", "pos", "pos"],
    )
    found = LabelConflicts().conflicts(lazy)
    assert found["group"].n_unique() == 2 and found.height == 5
    assert kept_ids(LabelConflicts(), lazy) == [0, 1, 5]  # tie in "bad film": both go
    assert kept_ids(LabelConflicts(resolution="drop"), lazy) == [5]
    picked = LabelConflicts(resolution="pick", choices=((2, "neg"), (3, "pos")))
    assert kept_ids(picked, lazy) == [2, 4, 5]
    _, result = apply_step(lazy, LabelConflicts())
    assert dict(result.removed.iter_rows())[2] == "conflicting label neg (majority)"


# -- replay -------------------------------------------------------------------------------------
def test_every_dedup_step_replays_headless(tmp_path) -> None:  # noqa: ANN001
    rows, _ = planted_near(seed=7, n=12, copies=3)
    rows += [rows[0], rows[1].upper()]
    labels = ["a", "b"] * (len(rows) // 2) + ["a"] * (len(rows) % 2)
    path = tmp_path / "d.jsonl"
    path.write_text(
        "".join(
            json.dumps({"text": t, "label": lab}) + "\n"
            for t, lab in zip(rows, labels, strict=True)
        ),
        encoding="utf-8",
    )
    other = tmp_path / "o.jsonl"
    other.write_text(json.dumps({"text": rows[4]}) + "\n", encoding="utf-8")
    dataset = load_dataset(path)
    ws = Workspace(dataset)
    for step in (
        DedupAgainst(other=str(other), column="text", mode="exact"),
        LabelConflicts(column="text", label="label"),
        DedupExact(columns=("text",), overrides=((0, 0),)),
        DedupNormalized(column="text", keep="longest", cluster_column="dup_cluster"),
        DedupNear(column="text", overrides=((2, -1),)),
    ):
        ws.apply(step)
    live = ws.frame.collect()
    assert live.height < len(rows)
    recipe_path = tmp_path / "r.recipe.json"
    ws.recipe().save(recipe_path)
    replayed, _ = run_recipe(load_dataset(path).frame, Recipe.load(recipe_path))
    assert replayed.equals(live)
