from __future__ import annotations

import json

import polars as pl
import pytest

from studio.engine.errors import StepError
from studio.engine.io import load_dataset
from studio.engine.quality_flags import FLAG_NAMES, flag_counts, ngram_duplicate_fraction
from studio.engine.recipe import Recipe, apply_step, run_recipe
from studio.engine.steps.base import ID
from studio.engine.steps.flags import AddFlags
from studio.engine.workspace import Workspace

GOOD = "A perfectly ordinary answer that explains the idea in plain words."
CRAFTED = {
    "empty": "   ",
    "too_short": "Yes.",
    "too_long": " ".join(["word"] * 60),
    "repeated_lines": "Same line here\nSame line here\nSame line here\nA different line",
    "repeated_ngrams": "buy now and save buy now and save buy now and save today",
    "low_alpha": "12 34 56 78 90 ok",
    "nonprinting": "Broken \ufffd decoding in this answer text",
    "url_only": "  https://example.com/some/page?x=1  ",
    "refusal": "As an AI language model, I cannot help with that request.",
    "placeholder": "Dear {{ customer_name }}, your order has shipped.",
}


def flagged(**params) -> pl.DataFrame:  # noqa: ANN003
    texts = [GOOD, *CRAFTED.values()]
    data = {ID: pl.Series(range(len(texts)), dtype=pl.UInt64), "text": texts}
    out, result = apply_step(pl.DataFrame(data).lazy(), AddFlags(**params))
    assert result.dropped == 0
    return out


def test_each_flag_hits_its_crafted_row() -> None:
    out = flagged(max_words=50)
    assert [c for c in out.columns if c.startswith("flag_")] == [f"flag_{n}" for n in FLAG_NAMES]
    assert all(out.schema[f"flag_{n}"] == pl.Boolean for n in FLAG_NAMES)
    assert not any(out.row(0, named=True)[f"flag_{n}"] for n in FLAG_NAMES)  # the good row
    for index, name in enumerate(CRAFTED, start=1):
        assert out[f"flag_{name}"][index], name


def test_flag_counts_and_thresholds() -> None:
    counts = flag_counts(flagged(max_words=50))
    assert counts["refusal"] == 1 and counts["url_only"] == 1
    # too_short also catches the one-word URL and the blank row
    assert counts["too_short"] == 3
    relaxed = flag_counts(flagged(min_words=1, max_words=100, min_alpha_words=0.1))
    assert relaxed["too_short"] == 1 and relaxed["too_long"] == 0 and relaxed["low_alpha"] == 0


def test_subset_of_flags_and_unknown_flag() -> None:
    out = flagged(flags=("refusal", "placeholder"))
    assert [c for c in out.columns if c.startswith("flag_")] == ["flag_refusal", "flag_placeholder"]
    with pytest.raises(StepError):
        flagged(flags=("nope",))


def test_ngram_duplicate_fraction() -> None:
    values = ngram_duplicate_fraction(pl.Series(["a b c a b c", "a b c d", "", None]), 3)
    assert values.to_list() == [pytest.approx(0.25), 0.0, 0.0, 0.0]


def test_flags_replay_headless(tmp_path) -> None:  # noqa: ANN001
    path = tmp_path / "d.jsonl"
    path.write_text(
        "".join(json.dumps({"text": t}) + "\n" for t in [GOOD, *CRAFTED.values()]),
        encoding="utf-8",
    )
    ws = Workspace(load_dataset(path))
    ws.apply(AddFlags(max_words=40))
    ws.recipe().save(tmp_path / "r.recipe.json")
    replayed, _ = run_recipe(load_dataset(path).frame, Recipe.load(tmp_path / "r.recipe.json"))
    assert replayed.equals(ws.frame.collect())


def test_alpaca_empty_input_is_not_an_empty_field() -> None:
    data = pl.DataFrame(
        {
            ID: pl.Series([0, 1, 2], dtype=pl.UInt64),
            "instruction": ["Name a colour.", "Say hi.", ""],
            "input": ["", "", ""],
            "output": [GOOD, "   ", GOOD],
        }
    ).lazy()
    out, _ = apply_step(data, AddFlags(column="output", flags=("empty",)))
    assert out["flag_empty"].to_list() == [False, True, True]
    out, _ = apply_step(data, AddFlags(column="output", fields=("input",), flags=("empty",)))
    assert out["flag_empty"].to_list() == [True, True, True]  # named fields are checked


def test_flags_read_the_answers_of_a_conversation() -> None:
    def chat(*turns: tuple[str, str]) -> list[dict[str, str]]:
        return [{"role": r, "content": c} for r, c in turns]

    rows = [
        chat(("user", "Hi"), ("assistant", CRAFTED["refusal"])),
        chat(("user", "Link?"), ("assistant", CRAFTED["url_only"])),
        chat(("user", "Only a question, no answer at all here")),
        chat(("user", "Fine?"), ("assistant", GOOD)),
    ]
    data = pl.DataFrame({ID: pl.Series(range(4), dtype=pl.UInt64), "messages": rows}).lazy()
    out, _ = apply_step(data, AddFlags(column="messages"))
    assert out["flag_refusal"].to_list() == [True, False, False, False]
    assert out["flag_url_only"].to_list() == [False, True, False, False]
    assert out["flag_empty"].to_list() == [False, False, True, False]
    sharegpt = pl.DataFrame(
        {
            ID: pl.Series([0], dtype=pl.UInt64),
            "conversations": [[{"from": "human", "value": "x"}, {"from": "gpt", "value": "Yes."}]],
        }
    ).lazy()
    out, _ = apply_step(sharegpt, AddFlags(column="conversations", flags=("too_short",)))
    assert out["flag_too_short"].to_list() == [True]
    numbers = pl.DataFrame({ID: pl.Series([0], dtype=pl.UInt64), "n": [1]}).lazy()
    with pytest.raises(StepError, match="not text"):
        apply_step(numbers, AddFlags(column="n"))
    # messages whose content is not text (a list of parts) are a clear error, not a crash
    parts = [{"type": "text", "text": "Hello there."}]
    multimodal = pl.DataFrame(
        {
            ID: pl.Series([0], dtype=pl.UInt64),
            "messages": [
                [{"role": "user", "content": parts}, {"role": "assistant", "content": parts}]
            ],
        }
    ).lazy()
    with pytest.raises(StepError, match="not text"):
        apply_step(multimodal, AddFlags(column="messages"))
    # no content at all in the file (a Null column inside the messages): empty answers
    silent = pl.DataFrame(
        {
            ID: pl.Series([0], dtype=pl.UInt64),
            "messages": [[{"role": "assistant", "content": None}]],
        }
    ).lazy()
    out, _ = apply_step(silent, AddFlags(column="messages", flags=("empty",)))
    assert out["flag_empty"].to_list() == [True]
