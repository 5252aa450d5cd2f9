"""Token steps: count, drop over the limit, truncate and chunk, through the recipe runner."""

from __future__ import annotations

import polars as pl
import pytest

from studio.engine.recipe import Recipe, apply_step
from studio.engine.steps.base import ID, Step
from studio.engine.steps.tokens import ChunkTokens, CountTokens, DropOverLimit, TruncateTokens
from studio.engine.tokens import load_tokenizer
from tests.tokens_fixtures import SENTENCES, build_tokenizer


@pytest.fixture(scope="module")
def tok(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(build_tokenizer(tmp_path_factory.mktemp("tok") / "tiny"))


def _frame(texts: list[str]) -> pl.LazyFrame:
    return pl.DataFrame({ID: pl.Series(range(len(texts)), dtype=pl.UInt64), "text": texts}).lazy()


TEXTS = [" ".join(SENTENCES[: i + 1]) for i in range(len(SENTENCES))]


def test_steps_round_trip_with_tokenizer(tok: str) -> None:
    steps = [
        CountTokens(tok, ("text",)),
        DropOverLimit(tok, 40),
        TruncateTokens(tok, 30, "text", "end"),
        ChunkTokens(tok, 20, 4, "text"),
    ]
    recipe = Recipe.from_json(Recipe(steps=steps).to_json())
    assert recipe.steps == steps
    assert all(Step.from_json(s.to_json()) == s for s in steps)
    assert recipe.steps[0].to_json()["tokenizer"] == tok


def test_count_adds_columns_equal_to_encoding(tok: str) -> None:
    counter = load_tokenizer(tok)
    out, result = apply_step(_frame(TEXTS), CountTokens(tok))
    assert out["tokens_text"].to_list() == counter.count(TEXTS)
    assert result.rows_out == len(TEXTS)
    # counting again replaces the column rather than duplicating it
    again, _ = apply_step(out.lazy(), CountTokens(tok))
    assert again.columns == out.columns


def test_count_chat_adds_prompt_and_trained(tok: str) -> None:
    frame = pl.DataFrame(
        {
            ID: pl.Series([0], dtype=pl.UInt64),
            "messages": [
                [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Yo"}]
            ],
        }
    ).lazy()
    out, _ = apply_step(frame, CountTokens(tok))
    row = out.row(0, named=True)
    assert row["tokens_messages"] == row["tokens_messages_prompt"] + row["tokens_messages_trained"]
    assert row["tokens_messages_trained"] > 0


def test_drop_over_limit_with_reasons(tok: str) -> None:
    counter = load_tokenizer(tok)
    lengths = counter.count(TEXTS)
    limit = sorted(lengths)[3]
    out, result = apply_step(_frame(TEXTS), DropOverLimit(tok, limit))
    kept = [i for i, n in enumerate(lengths) if n <= limit]
    assert out[ID].to_list() == kept
    assert result.removed.height == len(TEXTS) - len(kept)
    assert all(f"over the limit of {limit}" in r for r in result.removed["reason"])


@pytest.mark.parametrize("keep", ["start", "end"])
def test_truncate_round_trip(tok: str, keep: str) -> None:
    counter = load_tokenizer(tok)
    out, result = apply_step(_frame(TEXTS), TruncateTokens(tok, 12, "text", keep))
    assert result.rows_out == len(TEXTS)
    for before, after in zip(TEXTS, out["text"].to_list(), strict=True):
        n = counter.count([after])[0]
        assert n <= 12
        if counter.count([before])[0] <= 12:
            assert after == before
        else:
            assert n >= 10
            assert before.startswith(after) if keep == "start" else before.endswith(after)


def test_chunk_round_trip_with_fresh_ids(tok: str) -> None:
    counter = load_tokenizer(tok)
    size, overlap = 16, 4
    out, result = apply_step(_frame(TEXTS), ChunkTokens(tok, size, overlap, "text"))
    lengths = counter.count(TEXTS)
    long_ids = {i for i, n in enumerate(lengths) if n > size}
    assert set(result.removed[ID].to_list()) == long_ids
    assert all(n <= size for n in counter.count(out["text"].to_list()))
    new = out.filter(pl.col("chunk_of").is_not_null())
    assert set(new["chunk_of"].to_list()) == long_ids
    assert min(new[ID].to_list()) == len(TEXTS)
    assert out[ID].n_unique() == out.height
    for source in long_ids:
        pieces = new.filter(pl.col("chunk_of") == source)["text"].to_list()
        original = TEXTS[source]
        spans = counter.spans([original])[0]
        assert pieces[0] == original[: len(pieces[0])]
        assert original.endswith(pieces[-1])
        # consecutive chunks share `overlap` tokens
        first_ids = counter.count([pieces[0]])[0]
        assert first_ids == size
        tail = original[spans[size - overlap][0] : spans[size - 1][1]]
        assert pieces[1].startswith(tail)
    # chunks sit in their source's place
    order = [
        r["chunk_of"] if r["chunk_of"] is not None else r[ID] for r in out.iter_rows(named=True)
    ]
    assert order == sorted(order)


def test_estimate_steps_without_tokenizer() -> None:
    out, result = apply_step(_frame(["a" * 40, "b" * 8]), DropOverLimit("", 5))
    assert out["text"].to_list() == ["b" * 8]
    assert "≈ estimate" in result.removed["reason"][0]
    cut, _ = apply_step(_frame(["a" * 40]), TruncateTokens("", 5, "text"))
    assert cut["text"][0] == "a" * 20


def test_truncate_without_a_column_makes_alpaca_rows_fit(tok: str) -> None:
    # the row's length is instruction + input + output: the output gets what is left
    counter = load_tokenizer(tok)
    instruction = SENTENCES[0]
    long_prompt = " ".join(SENTENCES)
    frame = pl.DataFrame(
        {
            ID: pl.Series([0, 1, 2], dtype=pl.UInt64),
            "instruction": [instruction, long_prompt, instruction],
            "input": ["", "", ""],
            "output": [" ".join(SENTENCES), "Short answer.", "Ok."],
        }
    ).lazy()
    limit = 30
    step = TruncateTokens(tok, limit, "", "start")
    assert step.describe().startswith("truncate the main text so rows fit 30 tokens")
    out, _ = apply_step(frame, step)
    rows = out.to_dicts()
    first = counter.count([rows[0]["instruction"]])[0] + counter.count([rows[0]["output"]])[0]
    assert limit - 2 <= first <= limit  # the whole row now fits, its output cut at the start
    assert " ".join(SENTENCES).startswith(rows[0]["output"])
    # the prompt alone is over the limit: the answer is not cut to nothing
    assert rows[1]["output"] == "Short answer."
    assert rows[2]["output"] == "Ok."  # under the limit: untouched
