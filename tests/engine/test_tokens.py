"""Token counting with a tokenizer trained here and loaded by path like a user's model."""

from __future__ import annotations

import json
import os
from pathlib import Path

import polars as pl
import pytest

from studio.engine.errors import StudioError
from studio.engine.io import load_dataset
from studio.engine.progress import Cancelled, RunContext, running
from studio.engine.tokens import (
    CHARS_PER_TOKEN,
    MESSAGE_OVERHEAD,
    TokenCache,
    count_conversations,
    count_tokens,
    figures,
    load_tokenizer,
    loss_mask_preview,
    normalise_messages,
    plan_columns,
    render_conversation,
)
from tests.tokens_fixtures import SENTENCES, build_tokenizer


@pytest.fixture(scope="module")
def tok_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tokenizer(tmp_path_factory.mktemp("tok") / "tiny")


@pytest.fixture(scope="module")
def plain_tok_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tokenizer(tmp_path_factory.mktemp("tok") / "plain", chat_template=None)


def _jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


def test_loads_by_path_and_counts_equal_row_by_row(tok_dir: Path, tmp_path: Path) -> None:
    from transformers import AutoTokenizer

    reference = AutoTokenizer.from_pretrained(str(tok_dir))
    texts = [*SENTENCES, "", "unseen wordsmithery ✓ ünïcödé", "x" * 300]
    path = _jsonl(tmp_path / "d.jsonl", [{"text": t} for t in texts])
    dataset = load_dataset(path)
    counter = load_tokenizer(str(tok_dir))
    assert not counter.estimate
    counts = count_tokens(dataset.frame, counter, sources=dataset.paths)
    expected = [len(reference.encode(t, add_special_tokens=False)) for t in texts]
    assert counts["tokens_text"].to_list() == expected
    assert counts["tokens"].to_list() == expected


def test_alpaca_counts_every_text_field(tok_dir: Path) -> None:
    frame = pl.DataFrame(
        {
            "_id": pl.Series([0, 1], dtype=pl.UInt64),
            "instruction": ["Write a poem", "Add numbers"],
            "input": ["", "12345 and 2024"],
            "output": ["The sea and the sky.", "14369"],
        }
    )
    counter = load_tokenizer(str(tok_dir))
    plan = plan_columns(frame.lazy())
    assert plan.columns == ("instruction", "input", "output")
    counts = count_tokens(frame, counter, plan=plan)
    for row in counts.iter_rows(named=True):
        parts = row["tokens_instruction"] + row["tokens_input"] + row["tokens_output"]
        assert row["tokens"] == parts
    assert counts["tokens_input"][0] == 0


def test_chat_template_applied_and_trained_tokens(tok_dir: Path) -> None:
    from transformers import AutoTokenizer

    reference = AutoTokenizer.from_pretrained(str(tok_dir))
    counter = load_tokenizer(str(tok_dir))
    messages = [
        {"role": "system", "content": "Be nice."},
        {"role": "user", "content": "What is the capital of France?"},
        {"role": "assistant", "content": "Paris is the capital of France."},
    ]
    rendered = render_conversation(counter, messages)
    assert rendered.text == reference.apply_chat_template(messages, tokenize=False)
    assert rendered.text.startswith("<|system|>\nBe nice.<|end|>\n<|user|>")
    ids = reference.apply_chat_template(messages, tokenize=True, return_dict=False)
    count = count_conversations(counter, [messages])[0]
    assert count.total == len(ids)
    # the trained part is the assistant content plus its end-of-turn marker
    trained = "Paris is the capital of France.<|end|>\n"
    assert rendered.text[rendered.trained[0][0] : rendered.trained[0][1]] == trained
    assert count.trained == len(reference.encode(trained, add_special_tokens=False))
    assert count.prompt == count.total - count.trained


def test_sharegpt_rows_are_mapped_to_roles(tok_dir: Path) -> None:
    counter = load_tokenizer(str(tok_dir))
    row = [{"from": "human", "value": "Hi there"}, {"from": "gpt", "value": "Hello!"}]
    messages = normalise_messages(row, sharegpt=True)
    assert [m["role"] for m in messages] == ["user", "assistant"]
    openai = [{"role": "user", "content": "Hi there"}, {"role": "assistant", "content": "Hello!"}]
    assert count_conversations(counter, [messages]) == count_conversations(counter, [openai])


def test_no_template_uses_documented_overhead(plain_tok_dir: Path) -> None:
    counter = load_tokenizer(str(plain_tok_dir))
    assert not counter.has_chat_template
    messages = [{"role": "user", "content": "Hi there"}, {"role": "assistant", "content": "Hello"}]
    user, assistant = counter.count(["Hi there", "Hello"])
    count = count_conversations(counter, [messages])[0]
    assert count.total == user + assistant + 2 * MESSAGE_OVERHEAD
    assert count.trained == assistant


def test_loss_mask_preview_sets_trained_spans_apart(tok_dir: Path) -> None:
    counter = load_tokenizer(str(tok_dir))
    messages = [
        {"role": "user", "content": "Hi there"},
        {"role": "assistant", "content": "Hello friend"},
        {"role": "user", "content": "How many tokens?"},
        {"role": "assistant", "content": "Twelve"},
    ]
    preview = loss_mask_preview(counter, messages)
    trained_text = "".join(text for text, trained in preview.pieces if trained)
    assert trained_text == "Hello friend<|end|>\nTwelve<|end|>\n"
    masked_text = "".join(text for text, trained in preview.pieces if not trained)
    assert "<|assistant|>\n" in masked_text and "Hi there" in masked_text
    assert [t.role for t in preview.turns] == ["user", "assistant", "user", "assistant"]
    assert sum(t.tokens for t in preview.turns) == preview.total
    assert preview.trained == count_conversations(counter, [messages])[0].trained
    assert preview.turns[0].trained == 0 and preview.turns[1].trained > 0
    assert preview.templated and not preview.estimate


def test_estimate_is_labelled_and_follows_the_rule(tmp_path: Path) -> None:
    counter = load_tokenizer("")
    assert counter.estimate
    assert "estimate" in counter.label
    texts = ["", "abc", "abcd", "abcde", "x" * 41]
    assert counter.count(texts) == [-(-len(t) // CHARS_PER_TOKEN) for t in texts]
    frame = pl.DataFrame({"_id": pl.Series([0, 1], dtype=pl.UInt64), "text": ["abcdefgh", "a"]})
    fig = figures(count_tokens(frame, counter), counter, limit=1)
    assert fig.estimate and fig.to_json()["estimate"] is True
    assert fig.total == 3 and fig.over_limit == 1 and fig.over_limit_ids == (0,)


def test_figures_percentiles_limit_and_epoch_tokens(tok_dir: Path) -> None:
    lengths = list(range(1, 101))
    counts = pl.DataFrame(
        {"_id": pl.Series(range(100), dtype=pl.UInt64), "tokens": lengths, "tokens_text": lengths}
    )
    fig = figures(counts, load_tokenizer(str(tok_dir)), limit=90)
    assert (fig.p50, fig.p90, fig.p99, fig.max) == (50, 90, 99, 100)
    assert fig.over_limit == 10 and fig.over_limit_ids == tuple(range(90, 100))
    assert fig.training_tokens_per_epoch == sum(min(n, 90) for n in lengths)
    assert sum(n for _, _, n in fig.histogram) == 100
    assert fig.histogram[0][0] == 0 and fig.histogram[-1][1] > 100


def test_cache_hit_and_invalidation(tok_dir: Path, tmp_path: Path) -> None:
    path = _jsonl(tmp_path / "d.jsonl", [{"text": t} for t in SENTENCES])
    dataset = load_dataset(path)
    counter = load_tokenizer(str(tok_dir))
    first = count_tokens(dataset.frame, counter, sources=dataset.paths)
    cache = TokenCache(dataset.paths, "text", counter, "special=False")
    assert cache.path.is_file()
    assert str(cache.path).startswith(os.environ["STUDIO_CACHE_DIR"])
    # a hit encodes nothing: prove it with a tokenizer that would fail if called
    calls: list[int] = []
    original = counter.count
    counter.count = lambda texts, special=False: calls.append(len(texts)) or original(texts)  # type: ignore[method-assign]
    try:
        again = count_tokens(load_dataset(path).frame, counter, sources=dataset.paths)
        assert calls == []
        assert again.equals(first)
        # the file changes: the cache is stale and every text is counted again
        _jsonl(path, [{"text": t} for t in [*SENTENCES, "one more line"]])
        changed = load_dataset(path)
        fresh = count_tokens(changed.frame, counter, sources=changed.paths)
        assert calls == [len(SENTENCES) + 1]
        assert fresh.height == len(SENTENCES) + 1
    finally:
        del counter.count


def test_progress_and_cancel(tok_dir: Path) -> None:
    frame = pl.DataFrame(
        {"_id": pl.Series(range(50), dtype=pl.UInt64), "text": [f"row {i}" for i in range(50)]}
    )
    counter = load_tokenizer(str(tok_dir))
    seen: list[tuple[float, float]] = []
    with running(RunContext(on_progress=lambda d, t, n: seen.append((d, t)))):
        count_tokens(frame, counter)
    assert seen and seen[-1][0] == seen[-1][1] == 50
    with running(RunContext(is_cancelled=lambda: True)), pytest.raises(Cancelled):
        count_tokens(frame, counter)


def test_unknown_tokenizer_names_what_to_download(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(StudioError, match="huggingface-cli download nobody/no-such-model"):
        load_tokenizer("nobody/no-such-model")
    with pytest.raises(StudioError, match="save_pretrained"):
        load_tokenizer("/no/such/folder/tokenizer")


def test_tiktoken_file_by_path(tmp_path: Path) -> None:
    import base64

    import tiktoken
    from tiktoken.load import load_tiktoken_bpe

    ranks = {bytes([i]): i for i in range(256)}
    for extra in (b"th", b"he", b"the", b" t", b" the"):
        ranks[extra] = len(ranks)
    path = tmp_path / "toy.tiktoken"
    path.write_text(
        "".join(f"{base64.b64encode(k).decode()} {v}\n" for k, v in ranks.items()),
        encoding="utf-8",
    )
    counter = load_tokenizer(f"tiktoken:{path}")
    assert not counter.estimate
    reference = tiktoken.Encoding(
        name="toy",
        pat_str=r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s""",
        mergeable_ranks=load_tiktoken_bpe(str(path)),
        special_tokens={},
    )
    texts = ["the theme", "then the", "ünï"]
    assert counter.count(texts) == [len(reference.encode_ordinary(t)) for t in texts]
    assert counter.truncate("the theme of the day", 3) == reference.decode(
        reference.encode_ordinary("the theme of the day")[:3]
    )


def test_tiktoken_name_not_cached(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path / "empty"))
    with pytest.raises(StudioError, match="not in the local cache"):
        load_tokenizer("tiktoken:cl100k_base")


def test_pristine_open_reads_the_whole_result_from_the_cache(tok_dir: Path, tmp_path: Path) -> None:
    path = _jsonl(tmp_path / "d.jsonl", [{"text": t} for t in SENTENCES])
    dataset = load_dataset(path)
    counter = load_tokenizer(str(tok_dir))
    first = count_tokens(dataset.frame, counter, sources=dataset.paths, pristine=True)
    # a frame that would fail if its texts were read: the result must come from the cache
    broken = dataset.frame.with_columns(pl.col("text").str.to_integer(strict=True))
    plan = plan_columns(dataset.frame)
    again = count_tokens(broken, counter, plan=plan, sources=dataset.paths, pristine=True)
    assert again.equals(first)
    _jsonl(path, [{"text": t} for t in SENTENCES[:2]])
    changed = load_dataset(path)
    fresh = count_tokens(changed.frame, counter, plan=plan, sources=changed.paths, pristine=True)
    assert fresh.height == 2


@pytest.mark.parametrize("filter_", ["trim", "upper"])
def test_templates_that_rewrite_content(tmp_path: Path, filter_: str) -> None:
    """A template that strips or rewrites contents still gets the assistant turn as trained."""
    template = (
        "{{ bos_token }}{% for m in messages %}<|{{ m['role'] }}|>\n"
        "{{ m['content'] | " + filter_ + " }}<|end|>\n{% endfor %}"
        "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
    )
    folder = build_tokenizer(tmp_path / f"tok-{filter_}", chat_template=template)
    counter = load_tokenizer(str(folder))
    messages = [
        {"role": "user", "content": "  Hi there "},
        {"role": "assistant", "content": " Hello friend "},
    ]
    rendered = render_conversation(counter, messages)
    from transformers import AutoTokenizer

    assert rendered.text == AutoTokenizer.from_pretrained(str(folder)).apply_chat_template(
        messages, tokenize=False
    )
    trained = "".join(rendered.text[s:e] for s, e in rendered.trained)
    expected = "Hello friend" if filter_ == "trim" else "HELLO FRIEND"
    assert trained.strip().startswith(expected) and "<|user|>" not in trained
    count = count_conversations(counter, [messages])[0]
    assert 0 < count.trained < count.total
