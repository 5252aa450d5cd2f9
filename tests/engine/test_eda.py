from __future__ import annotations

import random

import polars as pl
import pytest

from studio.engine.augment import AugmentConfig, augment_frame, default_column
from studio.engine.augment.eda import (
    NO_WORDNET_NOTE,
    Eda,
    random_deletion,
    random_insertion,
    random_swap,
    synonym_replacement,
    wordnet_available,
)
from studio.engine.errors import StepError
from studio.engine.steps.augment import AugmentEda
from studio.engine.steps.base import ID

SENTENCE = "the cat sat quietly on the warm mat near the door"


def words(text: str) -> list[str]:
    return text.split()


def test_swap_keeps_the_same_words() -> None:
    out = random_swap(SENTENCE, random.Random(1), 0.2)
    assert out is not None and out != SENTENCE
    assert sorted(words(out)) == sorted(words(SENTENCE))


def test_deletion_removes_words_and_keeps_order() -> None:
    out = random_deletion(SENTENCE, random.Random(2), 0.2)
    assert out is not None
    kept = words(out)
    assert 0 < len(kept) < len(words(SENTENCE))
    it = iter(words(SENTENCE))
    assert all(w in it for w in kept)  # a subsequence
    assert random_deletion("alone", random.Random(0), 0.5) is None


def test_insertion_adds_words_from_the_row() -> None:
    out = random_insertion(SENTENCE, random.Random(3), 0.2)
    assert out is not None
    assert len(words(out)) == len(words(SENTENCE)) + 2
    assert set(words(out)) <= set(words(SENTENCE))


def test_whitespace_and_newlines_survive() -> None:
    text = "first line here\nsecond line there\n"
    out = random_swap(text, random.Random(5), 0.1)
    assert out is not None and out.count("\n") == 2 and out.endswith("\n")
    out = random_deletion(text, random.Random(6), 0.1)
    assert out is not None and out.endswith("\n")


def test_synonyms_from_a_lookup() -> None:
    table = {"cat": ("feline",), "warm": ("toasty",), "door": ("gate",)}
    out = synonym_replacement(SENTENCE, random.Random(4), 0.2, lambda w: table.get(w, ()))
    assert out is not None and out != SENTENCE
    changed = [b for a, b in zip(words(SENTENCE), words(out), strict=True) if a != b]
    assert changed and set(changed) <= {"feline", "toasty", "gate"}


def test_without_wordnet_the_synonym_op_is_skipped_with_a_note() -> None:
    eda = Eda()
    if wordnet_available():
        assert "synonym" in eda.active_ops() and eda.notes() == []
    else:
        assert "synonym" not in eda.active_ops()
        assert eda.notes() == [NO_WORDNET_NOTE]
    only = Eda(ops=("synonym",), synonyms=lambda w: ("kitty",) if w == "cat" else ())
    text, method = only.variant(SENTENCE, 0, 1, 0)
    assert method == "eda.synonym" and text is not None and "kitty" in text


def rows() -> pl.DataFrame:
    texts = [
        "please reset my password for the web account today",
        "my card was charged twice for the same order",
        "how do I change the shipping address on my order",
        "the app crashes when I open the settings page",
        "ok",
    ]
    return pl.DataFrame(
        {
            ID: pl.Series(range(len(texts)), dtype=pl.UInt64),
            "text": texts,
            "label": ["account", "billing", "billing", "technical", "other"],
        }
    )


def test_step_keeps_originals_and_writes_provenance() -> None:
    df = rows()
    step = AugmentEda(column="text", per_row=3, seed=11, max_similarity=99.0)
    report = step.run(df.lazy())
    out = report.frame
    assert out.head(df.height).select(df.columns).equals(df)
    assert out.head(df.height)["aug_source"].null_count() == df.height
    new = out.tail(report.added)
    assert report.added > 0 and new[ID].min() > df[ID].max()
    assert out[ID].n_unique() == out.height
    joined = new.join(df, left_on="aug_source", right_on=ID, suffix="_src")
    assert joined.height == new.height
    assert (joined["label"] == joined["label_src"]).all()
    assert (joined["text"] != joined["text_src"]).all()
    from rapidfuzz import fuzz

    for text, src, sim in joined.select("text", "text_src", "aug_similarity").rows():
        assert sim == pytest.approx(fuzz.ratio(text, src), abs=0.01)
        assert step.min_similarity <= sim <= step.max_similarity
    assert new["aug_method"].str.starts_with("eda.").all()
    # "ok" has one word: no swap/delete possible, insertion doubles it (too far or kept)
    assert report.tried == df.height * 3
    assert report.added + sum(report.dropped.values()) == report.tried


def test_too_close_and_too_far_variants_are_dropped_and_counted() -> None:
    df = rows()
    strict = AugmentEda(column="text", per_row=2, seed=1, max_similarity=50.0, min_similarity=40.0)
    report = strict.run(df.lazy())
    assert report.added == 0 and report.dropped["too close"] > 0
    far = AugmentEda(column="text", per_row=2, seed=1, max_similarity=100.0, min_similarity=99.9)
    report = far.run(df.lazy())
    assert report.added == 0 and report.dropped["too far"] > 0


def test_duplicates_of_originals_are_dropped() -> None:
    df = pl.DataFrame(
        {ID: pl.Series([0, 1], dtype=pl.UInt64), "text": ["alpha beta", "beta alpha"]}
    )
    report = augment_frame(
        df, AugmentConfig(column="text", ops=("swap",), max_similarity=100, min_similarity=0)
    )
    assert report.added == 0
    assert report.dropped["duplicate"] == 2


def test_seeded_replays_repeat() -> None:
    df = rows()
    step = AugmentEda(column="text", per_row=2, seed=5)
    a = step.apply(df.lazy()).collect()
    b = step.apply(df.lazy()).collect()
    assert a.equals(b)
    c = AugmentEda(column="text", per_row=2, seed=6).apply(df.lazy()).collect()
    assert not a.equals(c)
    # a row's variants depend only on (seed, its id, variant index), not on the other rows
    one = step.apply(df.head(1).lazy()).collect().filter(pl.col("aug_source") == 0)
    assert one["text"].to_list() == a.filter(pl.col("aug_source") == 0)["text"].to_list()


def test_only_labels_and_target_count() -> None:
    df = rows()
    out = AugmentEda(column="text", label="label", only_labels=("billing",), per_row=2, seed=3)
    new = out.apply(df.lazy()).collect().filter(pl.col("aug_source").is_not_null())
    assert set(new["label"].to_list()) == {"billing"}
    target = AugmentEda(column="text", label="label", target_count=4, seed=3)
    report = target.run(df.lazy())
    counts = dict(report.frame.group_by("label").len().rows())
    assert counts["billing"] == 4 and counts["account"] == 4 and counts["technical"] == 4
    assert report.wanted["other"] == 3 and report.made["other"] < 3  # "ok" cannot make 3


def test_default_field_per_shape() -> None:
    alpaca = pl.DataFrame(
        {ID: pl.Series([0], dtype=pl.UInt64), "instruction": ["do it"], "output": ["done"]}
    )
    assert default_column(alpaca) == "instruction"
    assert default_column(rows()) == "text"
    chat = pl.DataFrame({ID: pl.Series([0], dtype=pl.UInt64), "n": [1]})
    with pytest.raises(StepError):
        default_column(chat)


def test_bad_parameters() -> None:
    df = rows()
    with pytest.raises(StepError, match="Unknown EDA"):
        AugmentEda(ops=("shout",)).validate(df.schema)
    with pytest.raises(StepError, match="label"):
        AugmentEda(only_labels=("a",)).validate(df.schema)
    with pytest.raises(StepError, match="Unknown augmentation method"):
        augment_frame(df, AugmentConfig(method="nope", column="text"))
