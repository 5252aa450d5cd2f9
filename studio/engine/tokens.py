"""Token counts: tokenizers, chat templates, loss masks, an on-disk cache and the figures.

Tokenizers (`load_tokenizer(spec)`):

* a Hugging Face tokenizer by hub name or local path, loaded with
  `AutoTokenizer.from_pretrained` (fast tokenizers only). The local cache is tried first
  (`local_files_only=True`); only then the hub, unless `HF_HUB_OFFLINE` is set. A tokenizer that
  is neither cached nor reachable raises one `StudioError` naming the download command.
  A path to a bare `tokenizer.json` also works.
* `tiktoken:NAME` (e.g. `tiktoken:cl100k_base`) when tiktoken's file for NAME is in its local
  cache (`TIKTOKEN_CACHE_DIR`), or `tiktoken:/path/to/file.tiktoken`. Needs the optional
  `tiktoken` package.
* nothing (empty spec): an ESTIMATE, never shown as exact. The rule is
  `tokens = ceil(characters / 4)` per text (OpenAI's rule of thumb for English), flagged
  `estimate=True` in every result.

Chat rows (`messages` in OpenAI form, or ShareGPT `conversations`) are counted on the text the
trainer sees: the tokenizer's chat template when it has one. Trained (assistant) tokens are the
tokens overlapping an assistant message's content plus the template's end-of-turn text right
after it (what `{% generation %}` blocks usually cover); everything else is prompt. Without a
chat template (tiktoken, estimate, or a tokenizer without one) the documented rule is
`MESSAGE_OVERHEAD` (4) tokens per message plus its content tokens; trained tokens are the
assistant contents' tokens.

Counts are cached under `$STUDIO_CACHE_DIR/tokens` (default `~/.cache/dataset-studio`), one file
per (source files, column, tokenizer); the file holds counts per text hash and the source files'
fingerprint (size, mtime, head and tail bytes): a changed file invalidates it.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from studio.engine.errors import StudioError, require
from studio.engine.progress import check_cancelled, report
from studio.engine.shape import Shape, detect_shape
from studio.engine.steps.base import ID

CHARS_PER_TOKEN = 4
"""The estimate rule: ceil(characters / CHARS_PER_TOKEN) tokens per text."""
MESSAGE_OVERHEAD = 4
"""Tokens added per chat message when no chat template is available (role and separators)."""
BATCH_ROWS = 16_384
"""Texts per batch sent to the fast tokenizer (the Rust side spreads a batch over all cores)."""
ESTIMATE_LABEL = "≈ estimate"

Span = tuple[int, int]

# ShareGPT speaker names -> chat roles (FastChat and LLaMA-Factory conventions).
SHAREGPT_ROLES = {
    "human": "user",
    "user": "user",
    "gpt": "assistant",
    "assistant": "assistant",
    "chatgpt": "assistant",
    "bard": "assistant",
    "bing": "assistant",
    "model": "assistant",
    "system": "system",
    "observation": "tool",
    "tool": "tool",
    "function_call": "function",
    "function": "function",
}
CHAT_ROLES = ("system", "developer", "user", "assistant", "tool", "function", "ipython")


# -- tokenizers -------------------------------------------------------------------------------
class TokenCounter:
    """What the engine needs from a tokenizer. Subclasses: HF, tiktoken, estimate."""

    spec: str = ""
    label: str = ""
    estimate: bool = False
    identity: str = ""

    @property
    def has_chat_template(self) -> bool:
        return False

    def count(self, texts: Sequence[str], *, special: bool = False) -> list[int]:
        raise NotImplementedError

    def spans(self, texts: Sequence[str]) -> list[list[Span]]:
        """Character spans of each text's tokens (no special tokens added)."""
        raise NotImplementedError

    def render_chat(self, messages: list[dict[str, Any]]) -> str:
        raise NotImplementedError

    # generic cutting on token spans -----------------------------------------------------------
    def truncate(self, text: str, max_tokens: int, keep: str = "start") -> str:
        """`text` cut to at most `max_tokens` tokens at a token boundary (original characters)."""
        if max_tokens <= 0:
            return ""
        spans = self.spans([text])[0]
        if len(spans) <= max_tokens:
            return text
        n = max_tokens
        while n > 0:
            cut_at = spans[len(spans) - n][0] if keep == "end" else spans[n - 1][1]
            out = text[cut_at:] if keep == "end" else text[:cut_at]
            over = self.count([out])[0] - max_tokens
            if over <= 0:
                return out
            n -= over
        return ""

    def windows(self, text: str, size: int, overlap: int = 0) -> list[str]:
        """Split into pieces of at most `size` tokens, each overlapping the previous by
        `overlap` tokens (original characters between token boundaries)."""
        spans = self.spans([text])[0]
        if len(spans) <= size:
            return [text]
        stride = max(1, size - max(0, min(overlap, size - 1)))
        out: list[str] = []
        start = 0
        while start < len(spans):
            end = min(start + size, len(spans))
            while True:
                piece = text[spans[start][0] : spans[end - 1][1]]
                extra = self.count([piece])[0] - size
                if extra <= 0 or end - start <= 1:
                    break
                end -= extra
            out.append(piece)
            if end >= len(spans):
                break
            start = max(start + 1, min(start + stride, end))
        return out


class EstimateCounter(TokenCounter):
    """No tokenizer: ceil(characters / 4) tokens per text, always labelled as an estimate."""

    def __init__(self) -> None:
        self.spec = ""
        self.label = f"{ESTIMATE_LABEL} (characters ÷ {CHARS_PER_TOKEN})"
        self.estimate = True
        self.identity = f"estimate-chars/{CHARS_PER_TOKEN}"

    def count(self, texts: Sequence[str], *, special: bool = False) -> list[int]:
        lengths = pl.Series(texts, dtype=pl.String).fill_null("").str.len_chars()
        return ((lengths + (CHARS_PER_TOKEN - 1)) // CHARS_PER_TOKEN).cast(pl.Int64).to_list()

    def spans(self, texts: Sequence[str]) -> list[list[Span]]:
        return [
            [(i, min(i + CHARS_PER_TOKEN, len(t))) for i in range(0, len(t), CHARS_PER_TOKEN)]
            for t in texts
        ]


class HFCounter(TokenCounter):
    """A transformers fast tokenizer; counting goes through the Rust batch encoder."""

    def __init__(self, tokenizer: Any, spec: str) -> None:
        self.tokenizer = tokenizer
        self.backend = tokenizer.backend_tokenizer
        self.spec = spec
        self.label = spec
        self.estimate = False
        digest = hashlib.sha1(self.backend.to_str().encode("utf-8"))
        digest.update((getattr(tokenizer, "chat_template", None) or "").encode("utf-8"))
        self.identity = f"hf-{digest.hexdigest()}"
        self._fast = getattr(self.backend, "encode_batch_fast", None)
        self._suffix: str | None = None
        self._lock = threading.Lock()

    @property
    def has_chat_template(self) -> bool:
        return bool(getattr(self.tokenizer, "chat_template", None))

    def count(self, texts: Sequence[str], *, special: bool = False) -> list[int]:
        encode = self._fast or self.backend.encode_batch
        return [len(e) for e in encode(list(texts), add_special_tokens=special)]

    def spans(self, texts: Sequence[str]) -> list[list[Span]]:
        encodings = self.backend.encode_batch(list(texts), add_special_tokens=False)
        return [list(e.offsets) for e in encodings]

    def render_chat(self, messages: list[dict[str, Any]]) -> str:
        direct = self._direct_renderer()
        if direct is not None:
            try:
                return direct(messages)
            except Exception:  # noqa: BLE001 - let apply_chat_template report it
                pass
        try:
            return self.tokenizer.apply_chat_template(messages, tokenize=False)
        except Exception as exc:  # jinja errors raised by the template itself
            raise StudioError(f"The chat template of {self.spec} failed: {exc}") from exc

    _direct: Any = None

    def _direct_renderer(self) -> Callable[[list[dict[str, Any]]], str] | None:
        """The compiled Jinja template called directly: `apply_chat_template` spends most of
        its time copying plain messages. Used only if it renders a probe identically."""
        if self._direct is None:
            self._direct = False
            try:
                from transformers.utils.chat_template_utils import _compile_jinja_template

                compiled = _compile_jinja_template(self.tokenizer.get_chat_template())
                extra = dict(self.tokenizer.special_tokens_map)

                def render(messages: list[dict[str, Any]]) -> str:
                    return compiled.render(
                        messages=messages,
                        tools=None,
                        documents=None,
                        add_generation_prompt=False,
                        **extra,
                    )

                probe = [
                    {"role": "system", "content": "s"},
                    {"role": "user", "content": "u"},
                    {"role": "assistant", "content": "a"},
                ]
                if render(probe) == self.tokenizer.apply_chat_template(probe, tokenize=False):
                    self._direct = render
            except Exception:  # noqa: BLE001 - private API moved: use the public one
                self._direct = False
        return self._direct or None

    def assistant_suffix(self) -> str:
        """The text the template writes right after an assistant message (end of turn)."""
        with self._lock:
            if self._suffix is None:
                marker = "\ue00f"
                probe = [
                    {"role": "user", "content": "\ue00e"},
                    {"role": "assistant", "content": marker},
                ]
                try:
                    rendered = self.render_chat(probe)
                    self._suffix = rendered[rendered.index(marker) + 1 :]
                except (StudioError, ValueError):
                    self._suffix = ""
            return self._suffix


class TiktokenCounter(TokenCounter):
    def __init__(self, encoding: Any, spec: str) -> None:
        self.encoding = encoding
        self.spec = spec
        self.label = spec
        self.estimate = False
        self.identity = f"tiktoken-{encoding.name}-{len(encoding._mergeable_ranks)}"

    def count(self, texts: Sequence[str], *, special: bool = False) -> list[int]:
        encoded = self.encoding.encode_ordinary_batch(list(texts))
        return [len(e) for e in encoded]

    def spans(self, texts: Sequence[str]) -> list[list[Span]]:
        out = []
        for text in texts:
            tokens = self.encoding.encode_ordinary(text)
            decoded, starts = self.encoding.decode_with_offsets(tokens)
            ends = [*starts[1:], len(decoded)]
            out.append(list(zip(starts, ends, strict=True)))
        return out


_TOKENIZERS: dict[str, TokenCounter] = {}
_TOKENIZERS_LOCK = threading.Lock()


def load_tokenizer(spec: str | None) -> TokenCounter:
    """A counter for `spec`: HF name or path, `tiktoken:NAME|PATH`, or empty for the estimate.

    Loaded once per process."""
    spec = (spec or "").strip()
    with _TOKENIZERS_LOCK:
        counter = _TOKENIZERS.get(spec)
        if counter is None:
            if not spec:
                counter = EstimateCounter()
            elif spec.startswith("tiktoken:") or spec.endswith(".tiktoken"):
                counter = _load_tiktoken(spec)
            else:
                counter = _load_hf(spec)
            _TOKENIZERS[spec] = counter
        return counter


def _not_found(spec: str) -> StudioError:
    return StudioError(
        f"Tokenizer {spec!r} is neither a local folder nor in the Hugging Face cache, and it "
        f"could not be downloaded: run `huggingface-cli download {spec}` where there is network, "
        "or pass the path of a folder written by `tokenizer.save_pretrained(...)`."
    )


def _load_hf(spec: str) -> TokenCounter:
    from transformers import AutoTokenizer, PreTrainedTokenizerFast

    path = Path(spec).expanduser()
    if path.is_file() and path.suffix == ".json":
        try:
            tokenizer = PreTrainedTokenizerFast(tokenizer_file=str(path))
        except Exception as exc:
            raise StudioError(f"{path}: not a tokenizers tokenizer.json ({exc}).") from exc
        return HFCounter(tokenizer, spec)
    if path.exists() and not path.is_dir():
        raise StudioError(
            f"{path}: pass a tokenizer folder (from save_pretrained) or a tokenizer.json file."
        )
    looks_local = path.is_dir() or spec.startswith((".", "/", "~")) or spec.count("/") > 1
    if looks_local and not path.is_dir():
        raise StudioError(
            f"{spec}: no such tokenizer folder; pass a folder written by save_pretrained "
            "or a Hugging Face model name."
        )
    name = str(path) if path.is_dir() else spec
    tokenizer = None
    errors: list[Exception] = []
    attempts = [True]
    offline = os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes")
    if not path.is_dir() and not offline and _hub_resolves():
        attempts.append(False)
    for local_only in attempts:
        try:
            tokenizer = AutoTokenizer.from_pretrained(name, local_files_only=local_only)
            break
        except (OSError, ValueError, KeyError, ImportError) as exc:
            errors.append(exc)
        except Exception as exc:  # network errors from huggingface_hub / requests
            errors.append(exc)
    if tokenizer is None:
        if path.is_dir():
            raise StudioError(
                f"{path}: no tokenizer could be loaded from this folder ({errors[-1]})."
            ) from errors[-1]
        raise _not_found(spec) from errors[-1]
    if not getattr(tokenizer, "is_fast", False) or not hasattr(tokenizer, "backend_tokenizer"):
        raise StudioError(
            f"Tokenizer {spec!r} has no fast (tokenizers) version; convert it with "
            "AutoTokenizer.from_pretrained(..., use_fast=True).save_pretrained(folder)."
        )
    return HFCounter(tokenizer, spec)


def _hub_resolves() -> bool:
    """Whether the hub's host name resolves (fails fast offline, before the hub's retries)."""
    import socket
    from urllib.parse import urlparse

    host = urlparse(os.environ.get("HF_ENDPOINT") or "https://huggingface.co").hostname
    try:
        socket.getaddrinfo(host or "huggingface.co", 443)
    except OSError:
        return False
    return True


_TIKTOKEN_LOCK = threading.Lock()
_TIKTOKEN_URL = "https://openaipublic.blob.core.windows.net/encodings/{}.tiktoken"


def _tiktoken_params(name: str, ranks: dict[bytes, int] | None) -> dict[str, Any] | None:
    """The constructor parameters (pattern, special tokens) of a known encoding, with
    `ranks` swapped in for its merge file so nothing is downloaded."""
    import tiktoken_ext.openai_public as public

    constructor = getattr(public, "ENCODING_CONSTRUCTORS", {}).get(name)
    if constructor is None or ranks is None:
        return None
    with _TIKTOKEN_LOCK:
        original = public.load_tiktoken_bpe
        public.load_tiktoken_bpe = lambda *a, **k: ranks  # type: ignore[assignment]
        try:
            return constructor()
        finally:
            public.load_tiktoken_bpe = original  # type: ignore[assignment]


def _load_tiktoken(spec: str) -> TokenCounter:
    tiktoken = require("tiktoken", "Counting with a tiktoken encoding", "tiktoken")
    from tiktoken.load import load_tiktoken_bpe

    target = spec.removeprefix("tiktoken:")
    path = Path(target).expanduser()
    if path.suffix == ".tiktoken" or path.exists():
        if not path.is_file():
            raise StudioError(f"{path}: no such tiktoken file.")
        try:
            ranks = load_tiktoken_bpe(str(path))
        except Exception as exc:
            raise StudioError(f"{path}: not a tiktoken BPE file ({exc}).") from exc
        params = _tiktoken_params(path.stem, ranks) or _tiktoken_params("cl100k_base", ranks)
        assert params is not None
        if path.stem not in getattr(_public(), "ENCODING_CONSTRUCTORS", {}):
            params = {**params, "name": path.stem, "special_tokens": {}}
        return TiktokenCounter(tiktoken.Encoding(**params), spec)
    cache_dir = (
        os.environ.get("TIKTOKEN_CACHE_DIR")
        or os.environ.get("DATA_GYM_CACHE_DIR")
        or str(Path(__import__("tempfile").gettempdir()) / "data-gym-cache")
    )
    key = hashlib.sha1(_TIKTOKEN_URL.format(target).encode()).hexdigest()
    if target not in tiktoken.list_encoding_names():
        raise StudioError(
            f"Unknown tiktoken encoding {target!r}; known: {', '.join(tiktoken.list_encoding_names())}."
        )
    if not (Path(cache_dir) / key).is_file():
        raise StudioError(
            f"The tiktoken encoding {target} is not in the local cache ({cache_dir}); "
            f"download {_TIKTOKEN_URL.format(target)} and pass its path as "
            f"--tokenizer tiktoken:/path/to/{target}.tiktoken."
        )
    try:
        return TiktokenCounter(tiktoken.get_encoding(target), spec)
    except Exception as exc:
        raise StudioError(f"The tiktoken encoding {target} could not be loaded: {exc}") from exc


def _public() -> Any:
    import tiktoken_ext.openai_public as public

    return public


# -- chat rows --------------------------------------------------------------------------------
def normalise_messages(value: Any, *, sharegpt: bool = False) -> list[dict[str, Any]]:
    """OpenAI-style messages from a row's list (ShareGPT `from`/`value` mapped to roles).

    Keys whose value is None (struct fields other rows have) are dropped."""
    if isinstance(value, pl.Series):
        value = value.to_list()
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return []
    if not isinstance(value, list):
        return []
    out = []
    for message in value:
        if not isinstance(message, dict):
            continue
        m = {k: v for k, v in message.items() if v is not None}
        if sharegpt or ("from" in m and "role" not in m):
            role = m.pop("from", m.get("role", ""))
            content = m.pop("value", m.get("content"))
            m["role"] = SHAREGPT_ROLES.get(str(role).lower(), str(role))
            if content is not None:
                m["content"] = content
        out.append(m)
    return out


def content_text(message: dict[str, Any]) -> str:
    content = message.get("content")
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content parts
        return "".join(str(p.get("text") or "") if isinstance(p, dict) else str(p) for p in content)
    return str(content)


@dataclass(frozen=True, slots=True)
class RenderedChat:
    """A conversation as the trainer sees it: text, trained character spans, turn ends."""

    text: str
    trained: tuple[Span, ...]
    turn_ends: tuple[int, ...]  # character offset where each message's turn ends
    roles: tuple[str, ...]
    templated: bool


def _sentinel(i: int) -> str:
    return f"\ue000{i}\ue001"


def render_conversation(counter: TokenCounter, messages: list[dict[str, Any]]) -> RenderedChat:
    """Render with the chat template and find each assistant message's trained span."""
    roles = tuple(str(m.get("role", "")) for m in messages)
    if not messages:
        return RenderedChat("", (), (), (), False)
    if not isinstance(counter, HFCounter) or not counter.has_chat_template:
        return _render_plain(messages, roles)
    real = counter.render_chat(messages)
    contents = [content_text(m) for m in messages]
    located = None
    for variant in (contents, [c.strip() for c in contents]):
        marked = [
            {**m, "content": _sentinel(i)} if variant[i] else m for i, m in enumerate(messages)
        ]
        try:
            skeleton = counter.render_chat(marked)
        except StudioError:
            break
        located = _substitute(skeleton, variant)
        if located is not None and located[0] == real:
            break
        located = None
    suffix = counter.assistant_suffix()
    if located is None:
        return _render_incremental(counter, messages, roles, real)
    text, starts, ends = located
    trained: list[Span] = []
    turn_ends: list[int] = []
    for i, role in enumerate(roles):
        if starts[i] < 0:
            turn_ends.append(turn_ends[-1] if turn_ends else 0)
            continue
        end = ends[i]
        if role == "assistant":
            if suffix and text.startswith(suffix, end):
                end += len(suffix)
            trained.append((starts[i], end))
        turn_ends.append(end)
    return RenderedChat(text, tuple(trained), _fix_ends(turn_ends, len(text)), roles, True)


def _fix_ends(ends: list[int], length: int) -> tuple[int, ...]:
    if ends:
        ends[-1] = length
    return tuple(ends)


def _substitute(skeleton: str, contents: list[str]) -> tuple[str, list[int], list[int]] | None:
    """Put the contents back where the sentinels are; their spans in the result."""
    starts = [-1] * len(contents)
    ends = [-1] * len(contents)
    parts: list[str] = []
    length = 0
    cursor = 0
    for i, content in enumerate(contents):
        if not content:
            continue
        mark = _sentinel(i)
        at = skeleton.find(mark, cursor)
        if at < 0 or skeleton.count(mark) != 1:
            return None
        parts.append(skeleton[cursor:at])
        length += at - cursor
        starts[i] = length
        parts.append(content)
        length += len(content)
        ends[i] = length
        cursor = at + len(mark)
    parts.append(skeleton[cursor:])
    return "".join(parts), starts, ends


def _render_incremental(
    counter: HFCounter, messages: list[dict[str, Any]], roles: tuple[str, ...], real: str
) -> RenderedChat:
    """Fallback for templates that rewrite contents: the text each prefix adds is its turn;
    an assistant turn is trained after its generation prompt."""
    trained: list[Span] = []
    ends: list[int] = []
    previous = 0
    for i, role in enumerate(roles):
        try:
            upto = counter.render_chat(messages[: i + 1])
        except StudioError:
            upto = real
        end = len(upto) if real.startswith(upto) else len(real)
        if role == "assistant":
            start = previous
            try:
                prompt = counter.tokenizer.apply_chat_template(
                    messages[:i], tokenize=False, add_generation_prompt=True
                )
                if real.startswith(prompt):
                    start = len(prompt)
            except Exception:  # noqa: BLE001 - templates that refuse a prefix
                pass
            trained.append((start, end))
        ends.append(end)
        previous = end
    return RenderedChat(real, tuple(trained), _fix_ends(ends, len(real)), roles, True)


def _render_plain(messages: list[dict[str, Any]], roles: tuple[str, ...]) -> RenderedChat:
    """No chat template: a readable `role: content` layout (counts use MESSAGE_OVERHEAD)."""
    parts: list[str] = []
    trained: list[Span] = []
    ends: list[int] = []
    length = 0
    for message, role in zip(messages, roles, strict=True):
        head = f"<{role}>\n"
        body = content_text(message)
        start = length + len(head)
        parts.append(head + body + "\n")
        length += len(head) + len(body) + 1
        if role == "assistant":
            trained.append((start, start + len(body)))
        ends.append(length)
    return RenderedChat("".join(parts), tuple(trained), tuple(ends), roles, False)


def _tokens_in(token_spans: list[Span], spans: Iterable[Span]) -> int:
    """How many tokens overlap any of the (disjoint) character spans."""
    import bisect

    if not token_spans:
        return 0
    starts = [s for s, _ in token_spans]
    ends = [e for _, e in token_spans]
    if any(b < a for a, b in zip(starts, starts[1:], strict=False)) or any(
        b < a for a, b in zip(ends, ends[1:], strict=False)
    ):
        return sum(1 for t in token_spans if _overlaps(t, spans))
    total = 0
    for low, high in spans:
        # tokens with start < high and end > low
        total += max(0, bisect.bisect_left(starts, high) - bisect.bisect_right(ends, low))
    return total


def _overlaps(span: Span, spans: Iterable[Span]) -> bool:
    return any(span[0] < e and span[1] > s for s, e in spans)


@dataclass(frozen=True, slots=True)
class ChatCount:
    total: int
    prompt: int
    trained: int


def count_conversations(
    counter: TokenCounter, conversations: Sequence[list[dict[str, Any]]]
) -> list[ChatCount]:
    """Total, prompt and trained tokens of each (normalised) conversation."""
    if isinstance(counter, HFCounter) and counter.has_chat_template:
        rendered = [render_conversation(counter, m) if m else None for m in conversations]
        texts = [r.text if r is not None else "" for r in rendered]
        spans = counter.spans(texts)
        out = []
        for r, token_spans in zip(rendered, spans, strict=True):
            if r is None:
                out.append(ChatCount(0, 0, 0))
                continue
            trained = _tokens_in(token_spans, r.trained)
            out.append(ChatCount(len(token_spans), len(token_spans) - trained, trained))
        return out
    flat: list[str] = []
    for messages in conversations:
        flat.extend(content_text(m) for m in messages)
    counts = counter.count(flat) if flat else []
    out = []
    at = 0
    for messages in conversations:
        total = trained = 0
        for m in messages:
            n = counts[at]
            at += 1
            total += n + MESSAGE_OVERHEAD
            if m.get("role") == "assistant":
                trained += n
        out.append(ChatCount(total, total - trained, trained))
    return out


# -- loss-mask preview ------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class TurnTokens:
    index: int
    role: str
    tokens: int
    trained: int


@dataclass(frozen=True, slots=True)
class LossMaskPreview:
    """`pieces` are (text, trained) runs of the rendered conversation, in order."""

    pieces: tuple[tuple[str, bool], ...]
    turns: tuple[TurnTokens, ...]
    total: int
    trained: int
    templated: bool
    estimate: bool
    tokenizer: str


def loss_mask_preview(
    counter: TokenCounter, value: Any, *, sharegpt: bool = False
) -> LossMaskPreview:
    """A conversation as the trainer sees it, with trained spans and per-turn token counts."""
    messages = normalise_messages(value, sharegpt=sharegpt)
    rendered = render_conversation(counter, messages)
    text = rendered.text
    # character runs, trained or masked
    pieces: list[tuple[str, bool]] = []
    cursor = 0
    for start, end in sorted(rendered.trained):
        if start > cursor:
            pieces.append((text[cursor:start], False))
        if end > max(start, cursor):
            pieces.append((text[max(start, cursor) : end], True))
        cursor = max(cursor, end)
    if cursor < len(text):
        pieces.append((text[cursor:], False))
    if rendered.templated:
        token_spans = counter.spans([text])[0]
        turns = []
        previous = 0
        for i, (role, end) in enumerate(zip(rendered.roles, rendered.turn_ends, strict=True)):
            mine = [s for s in token_spans if previous <= s[0] < end or (s[0] == s[1] == end)]
            trained = sum(1 for s in mine if _overlaps(s, rendered.trained))
            turns.append(TurnTokens(i, role, len(mine), trained))
            previous = end
        total = len(token_spans)
    else:
        counts = counter.count([content_text(m) for m in messages]) if messages else []
        turns = [
            TurnTokens(
                i,
                role,
                n + MESSAGE_OVERHEAD,
                n if role == "assistant" else 0,
            )
            for i, (role, n) in enumerate(zip(rendered.roles, counts, strict=True))
        ]
        total = sum(t.tokens for t in turns)
    return LossMaskPreview(
        pieces=tuple(pieces),
        turns=tuple(turns),
        total=total,
        trained=sum(t.trained for t in turns),
        templated=rendered.templated,
        estimate=counter.estimate,
        tokenizer=counter.label,
    )


# -- columns ----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class CountPlan:
    """Which columns to count and how a row's length is made of them."""

    columns: tuple[str, ...]
    chat: str | None = None  # the messages/conversations column
    sharegpt: bool = False
    pair: tuple[str, str] | None = None  # preference: length = others + max(chosen, rejected)


def count_column_name(column: str) -> str:
    return f"tokens_{column}"


def plan_columns(
    frame: pl.LazyFrame, shape: Shape | None = None, columns: Sequence[str] = ()
) -> CountPlan:
    """The main text fields of this data (from its shape), or the given columns."""
    schema = frame.collect_schema()
    shape = shape or detect_shape(frame)
    if columns:
        missing = [c for c in columns if c not in schema]
        if missing:
            raise StudioError(
                f"No column named {missing[0]!r}; columns are: "
                f"{', '.join(n for n in schema.names() if not n.startswith('_'))}."
            )
        chosen = tuple(c for c in columns if c in schema)
        odd = [c for c in chosen if schema[c] != pl.String and not isinstance(schema[c], pl.List)]
        if odd:
            raise StudioError(f"Column {odd[0]!r} holds {schema[odd[0]]}, not text.")
        chat = next((c for c in chosen if isinstance(schema[c], pl.List)), None)
        if chat is not None:
            return CountPlan((chat,), chat=chat, sharegpt=chat.lower() == "conversations")
        return CountPlan(chosen)
    if shape.kind in ("chat", "sharegpt") and shape.text:
        return CountPlan((shape.text,), chat=shape.text, sharegpt=shape.kind == "sharegpt")
    strings = {n for n in schema.names() if schema[n] == pl.String}
    lower = {n.lower(): n for n in schema.names()}
    if shape.kind == "alpaca":
        cols = tuple(
            lower[n]
            for n in ("system", "instruction", "input", "output", "response")
            if n in lower and lower[n] in strings
        )
        return CountPlan(cols)
    if shape.kind == "preference":
        chosen, rejected = lower["chosen"], lower["rejected"]
        if chosen in strings and rejected in strings:
            prompt = shape.text if shape.text in strings and shape.text != chosen else None
            cols = tuple(c for c in (prompt, chosen, rejected) if c)
            return CountPlan(cols, pair=(chosen, rejected))
    if shape.text and shape.text in strings:
        return CountPlan((shape.text,))
    return CountPlan(())


# -- cache ------------------------------------------------------------------------------------
def cache_dir() -> Path:
    root = os.environ.get("STUDIO_CACHE_DIR") or str(Path("~/.cache/dataset-studio").expanduser())
    return Path(root) / "tokens"


def fingerprint(paths: Sequence[str]) -> str:
    """Size, mtime and the first and last 1 MiB of each file (folders: their files)."""
    digest = hashlib.sha1()
    files: list[Path] = []
    for p in sorted(paths):
        path = Path(p)
        files.extend(sorted(f for f in path.rglob("*") if f.is_file()) if path.is_dir() else [path])
    for f in files:
        stat = f.stat()
        digest.update(f"{f.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|".encode())
        with f.open("rb") as handle:
            digest.update(handle.read(1 << 20))
            if stat.st_size > 2 << 20:
                handle.seek(-(1 << 20), os.SEEK_END)
                digest.update(handle.read())
    return digest.hexdigest()


class TokenCache:
    """Counts per text hash for one (source files, column, tokenizer), in a parquet file."""

    def __init__(
        self,
        paths: Sequence[str],
        column: str,
        counter: TokenCounter,
        mode: str,
        print_: str | None = None,
    ) -> None:
        key = json.dumps(
            [
                sorted(str(Path(p).resolve()) for p in paths),
                column,
                counter.identity,
                mode,
                pl.__version__,
            ]
        )
        self.path = cache_dir() / f"{hashlib.sha1(key.encode()).hexdigest()[:32]}.parquet"
        self.fingerprint = print_ or fingerprint(paths)

    def load(self) -> pl.DataFrame | None:
        if not self.path.is_file():
            return None
        try:
            meta = pl.read_parquet_metadata(self.path)
            if meta.get("studio_fingerprint") != self.fingerprint:
                return None
            return pl.read_parquet(self.path)
        except Exception:  # noqa: BLE001 - a broken cache file is just a miss
            return None

    def save(self, table: pl.DataFrame) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
            table.write_parquet(
                tmp, metadata={"studio_fingerprint": self.fingerprint}, compression="lz4"
            )
            os.replace(tmp, self.path)
        except OSError:
            pass  # a cache that cannot be written only costs time


# -- counting ---------------------------------------------------------------------------------
ProgressFn = Callable[[int, int, str], None]


def _progress(done: int, total: int, note: str, on_progress: ProgressFn | None) -> None:
    report(done, total, note)
    if on_progress is not None:
        on_progress(done, total, note)


def _count_text_column(
    values: pl.Series,
    counter: TokenCounter,
    cache: TokenCache | None,
    note: str,
    on_progress: ProgressFn | None,
    special: bool,
    cancelled: Callable[[], bool] | None,
) -> pl.Series:
    texts = values.cast(pl.String).fill_null("")
    hashes = texts.hash(seed=0).alias("h")
    table = cache.load() if cache is not None else None
    todo = pl.DataFrame({"h": hashes, "text": texts}).unique("h", keep="first", maintain_order=True)
    if table is not None:
        todo = todo.join(table.select("h"), on="h", how="anti")
    new: list[pl.DataFrame] = []
    total = todo.height
    for start in range(0, total, BATCH_ROWS):
        _check(cancelled)
        batch = todo.slice(start, BATCH_ROWS)
        counts = counter.count(batch["text"].to_list(), special=special)
        new.append(pl.DataFrame({"h": batch["h"], "tokens": pl.Series(counts, dtype=pl.Int64)}))
        _progress(min(start + BATCH_ROWS, total), total, note, on_progress)
    if not new and table is None:
        table = pl.DataFrame(schema={"h": pl.UInt64, "tokens": pl.Int64})
    parts = ([table] if table is not None else []) + new
    merged = pl.concat(parts) if len(parts) > 1 else parts[0]
    if new and cache is not None:
        cache.save(merged)
    looked = pl.DataFrame({"h": hashes}).join(merged, on="h", how="left", maintain_order="left")
    return looked["tokens"].fill_null(0)


def _check(cancelled: Callable[[], bool] | None) -> None:
    check_cancelled()
    if cancelled is not None and cancelled():
        from studio.engine.progress import Cancelled

        raise Cancelled()


def _count_chat_column(
    values: pl.Series,
    counter: TokenCounter,
    cache: TokenCache | None,
    sharegpt: bool,
    note: str,
    on_progress: ProgressFn | None,
    cancelled: Callable[[], bool] | None,
) -> pl.DataFrame:
    hashes = values.hash(seed=0).alias("h")
    table = cache.load() if cache is not None else None
    todo = pl.DataFrame({"h": hashes, "value": values}).unique(
        "h", keep="first", maintain_order=True
    )
    if table is not None:
        todo = todo.join(table.select("h"), on="h", how="anti")
    schema = {"h": pl.UInt64, "total": pl.Int64, "prompt": pl.Int64, "trained": pl.Int64}
    new: list[pl.DataFrame] = []
    total = todo.height
    step = max(256, BATCH_ROWS // 8)
    for start in range(0, total, step):
        _check(cancelled)
        batch = todo.slice(start, step)
        conversations = [normalise_messages(v, sharegpt=sharegpt) for v in batch["value"].to_list()]
        counts = count_conversations(counter, conversations)
        new.append(
            pl.DataFrame(
                {
                    "h": batch["h"],
                    "total": [c.total for c in counts],
                    "prompt": [c.prompt for c in counts],
                    "trained": [c.trained for c in counts],
                },
                schema=schema,
            )
        )
        _progress(min(start + step, total), total, note, on_progress)
    parts = ([table] if table is not None else []) + new
    merged = (
        pl.concat(parts) if len(parts) > 1 else (parts[0] if parts else pl.DataFrame(schema=schema))
    )
    if new and cache is not None:
        cache.save(merged)
    return pl.DataFrame({"h": hashes}).join(merged, on="h", how="left", maintain_order="left")


LENGTH = "tokens"
PROMPT = "prompt_tokens"
TRAINED = "trained_tokens"


def count_tokens(
    frame: pl.LazyFrame | pl.DataFrame,
    counter: TokenCounter,
    *,
    plan: CountPlan | None = None,
    sources: Sequence[str] = (),
    special: bool = False,
    on_progress: ProgressFn | None = None,
    cancelled: Callable[[], bool] | None = None,
    pristine: bool = False,
) -> pl.DataFrame:
    """Per row: `_id`, `tokens_<column>` for each counted column, `tokens` (the row's length)
    and for chat data `prompt_tokens` and `trained_tokens`.

    With `sources` (the dataset's files) counts are cached on disk per text hash, so changed
    rows are recounted and unchanged ones are not. `pristine=True` says `frame` is the data
    exactly as loaded from `sources` (no steps applied): then the whole result is cached too
    and a second open does not even read the texts."""
    lazy = frame.lazy() if isinstance(frame, pl.DataFrame) else frame
    plan = plan or plan_columns(lazy)
    if not plan.columns:
        raise StudioError("No text column to count tokens in; choose one.")
    print_ = fingerprint(sources) if sources else None
    whole: TokenCache | None = None
    if sources and pristine:
        key = f"rows:{plan}:special={special}"
        whole = TokenCache(sources, "\x00".join(plan.columns), counter, key, print_)
        hit = whole.load()
        if hit is not None:
            _progress(1, 1, "counts from the cache", on_progress)
            return hit
    df = lazy.select(ID, *plan.columns).collect()
    out = df.select(ID)
    mode = f"special={special}"
    for index, column in enumerate(plan.columns):
        note = f"counting {column} ({index + 1}/{len(plan.columns)})"
        cache = TokenCache(sources, column, counter, mode, print_) if sources else None
        if column == plan.chat:
            cache = (
                TokenCache(sources, column, counter, f"chat:{plan.sharegpt}", print_)
                if sources
                else None
            )
            counts = _count_chat_column(
                df[column], counter, cache, plan.sharegpt, note, on_progress, cancelled
            )
            out = out.with_columns(
                counts["total"].fill_null(0).alias(count_column_name(column)),
                counts["prompt"].fill_null(0).alias(PROMPT),
                counts["trained"].fill_null(0).alias(TRAINED),
            )
        else:
            counts = _count_text_column(
                df[column], counter, cache, note, on_progress, special, cancelled
            )
            out = out.with_columns(counts.alias(count_column_name(column)))
    out = out.with_columns(row_length_expr(plan).alias(LENGTH))
    if whole is not None:
        whole.save(out)
    return out


def row_length_expr(plan: CountPlan) -> pl.Expr:
    names = [count_column_name(c) for c in plan.columns]
    if plan.pair is not None:
        pair = [count_column_name(c) for c in plan.pair]
        rest = [n for n in names if n not in pair]
        expr = pl.max_horizontal(*pair)
        return (pl.sum_horizontal(*rest) + expr) if rest else expr
    return pl.sum_horizontal(*names).cast(pl.Int64)


# -- figures ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class TokenFigures:
    """The numbers the Tokens pane, the CLI and the Approach panel show."""

    rows: int
    tokenizer: str
    estimate: bool
    limit: int | None
    total: int
    p50: int
    p90: int
    p99: int
    max: int
    mean: float
    over_limit: int
    over_limit_ids: tuple[int, ...]
    training_tokens_per_epoch: int
    """Tokens a trainer processes per epoch: each row's length capped at the limit."""
    prompt_tokens: int | None = None
    trained_tokens: int | None = None
    columns: dict[str, int] = field(default_factory=dict)
    histogram: tuple[tuple[int, int, int], ...] = ()
    """(low, high, rows) bins of row lengths, low inclusive, high exclusive."""
    chat_counting: str | None = None
    """How conversations were counted (None for text data): with the tokenizer's chat
    template, or without one by the per-message rule."""

    def to_json(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "tokenizer": self.tokenizer,
            "estimate": self.estimate,
            "limit": self.limit,
            "tokens": {
                "total": self.total,
                "p50": self.p50,
                "p90": self.p90,
                "p99": self.p99,
                "max": self.max,
                "mean": round(self.mean, 2),
                "over_limit": self.over_limit,
                "training_tokens_per_epoch": self.training_tokens_per_epoch,
                "prompt": self.prompt_tokens,
                "trained": self.trained_tokens,
                "columns": self.columns,
            },
            "chat_counting": self.chat_counting,
            "histogram": [{"low": lo, "high": hi, "rows": n} for lo, hi, n in self.histogram],
        }


def histogram(lengths: np.ndarray, bins: int = 20) -> tuple[tuple[int, int, int], ...]:
    if lengths.size == 0:
        return ()
    top = int(lengths.max())
    width = max(1, math.ceil((top + 1) / bins))
    edges = np.arange(0, width * bins + 1, width)
    counts, _ = np.histogram(lengths, bins=edges)
    last = int(np.nonzero(counts)[0].max()) + 1 if counts.any() else 1
    counts = counts[:last]
    return tuple((int(edges[i]), int(edges[i + 1]), int(counts[i])) for i in range(len(counts)))


def figures(
    counts: pl.DataFrame, counter: TokenCounter, limit: int | None = None, bins: int = 20
) -> TokenFigures:
    lengths = counts[LENGTH].cast(pl.Int64).fill_null(0)
    values = lengths.to_numpy()

    def pct(q: float) -> int:
        return int(np.percentile(values, q, method="inverted_cdf")) if values.size else 0

    over = counts.filter(pl.col(LENGTH) > limit)[ID].to_list() if limit else []
    capped = int(np.minimum(values, limit).sum()) if limit else int(values.sum())
    columns = {
        c.removeprefix("tokens_"): int(counts[c].sum())
        for c in counts.columns
        if c.startswith("tokens_")
    }
    return TokenFigures(
        rows=counts.height,
        tokenizer=counter.label,
        estimate=counter.estimate,
        limit=limit,
        total=int(values.sum()),
        p50=pct(50),
        p90=pct(90),
        p99=pct(99),
        max=int(values.max()) if values.size else 0,
        mean=float(values.mean()) if values.size else 0.0,
        over_limit=len(over),
        over_limit_ids=tuple(int(i) for i in over),
        training_tokens_per_epoch=capped,
        prompt_tokens=int(counts[PROMPT].sum()) if PROMPT in counts.columns else None,
        trained_tokens=int(counts[TRAINED].sum()) if TRAINED in counts.columns else None,
        columns=columns,
        histogram=histogram(values, bins),
        chat_counting=chat_counting(counter) if PROMPT in counts.columns else None,
    )


def chat_counting(counter: TokenCounter) -> str:
    """How a conversation is counted with `counter`, in words (CLI, JSON and the Tokens tab)."""
    if counter.has_chat_template:
        return "with the tokenizer's chat template"
    return f"no chat template: each message counts its content + {MESSAGE_OVERHEAD} tokens"
