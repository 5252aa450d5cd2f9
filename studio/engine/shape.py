"""Detect what kind of fine-tuning data a frame holds and which columns play which role.

Kinds: `classification` (a text column and a label column), `alpaca` (instruction / input /
output, also prompt / completion and question / answer), `chat` (OpenAI `messages`: a list of
{role, content}), `sharegpt` (`conversations`: a list of {from, value}), `preference` (chosen /
rejected, with an optional prompt), `text` (one main text column) and `unknown`.

`Shape.roles` maps a column to its role (text, label, instruction, input, output, messages,
conversations, prompt, chosen, rejected); `Shape.text` is the main text column and `Shape.label`
the label column. The user can override kind, text and label (`Shape.with_overrides`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import polars as pl

from studio.engine.steps.base import ID

KINDS = ("classification", "alpaca", "chat", "sharegpt", "preference", "text", "unknown")

_TEXT_NAMES = (
    "text",
    "sentence",
    "content",
    "document",
    "body",
    "message",
    "review",
    "comment",
    "tweet",
    "utterance",
    "query",
    "prompt",
    "question",
    "input",
    "v2",
)
_LABEL_NAMES = (
    "label",
    "labels",
    "category",
    "class",
    "intent",
    "target",
    "sentiment",
    "topic",
    "v1",
    "y",
)
_ALPACA = (
    ("instruction", ("output", "response", "answer", "completion")),
    ("prompt", ("completion", "response")),
    ("question", ("answer", "response")),
    ("query", ("response", "answer")),
)


@dataclass(frozen=True, slots=True)
class Shape:
    """The detected (or user-chosen) kind, main text column and label column."""

    kind: str = "unknown"
    text: str | None = None
    label: str | None = None
    roles: dict[str, str] = field(default_factory=dict)

    def with_overrides(
        self, *, kind: str | None = None, text: str | None = None, label: str | None = None
    ) -> Shape:
        roles = dict(self.roles)
        if text:
            roles = {k: v for k, v in roles.items() if v != "text"}
            roles[text] = "text"
        if label:
            roles = {k: v for k, v in roles.items() if v != "label"}
            roles[label] = "label"
        new_kind = kind or self.kind
        if not kind and new_kind in ("text", "unknown") and (text or self.text):
            new_kind = "classification" if (label or self.label) else "text"
        return replace(
            self,
            kind=new_kind,
            text=text or self.text,
            label=label or self.label,
            roles=roles,
        )

    def to_json(self) -> dict[str, object]:
        return {"kind": self.kind, "text": self.text, "label": self.label}


def _is_text(dtype: pl.DataType) -> bool:
    return isinstance(dtype, pl.String | pl.Categorical | pl.Enum)


def _find(names: list[str], wanted: tuple[str, ...]) -> str | None:
    lower = {n.lower(): n for n in names}
    for w in wanted:
        if w in lower:
            return lower[w]
    return None


def _turn_fields(dtype: pl.DataType) -> set[str]:
    """Field names of a list-of-struct column (a conversation), else empty."""
    if isinstance(dtype, pl.List | pl.Array) and isinstance(dtype.inner, pl.Struct):
        return {f.name.lower() for f in dtype.inner.fields}
    return set()


def detect_shape(frame: pl.LazyFrame | pl.DataFrame, sample_rows: int = 200) -> Shape:
    """Guess the dataset shape from column names, dtypes and a small sample."""
    lazy = frame.lazy() if isinstance(frame, pl.DataFrame) else frame
    schema = lazy.collect_schema()
    names = [n for n in schema.names() if n != ID]
    lower = {n.lower(): n for n in names}
    roles: dict[str, str] = {}

    def done(kind: str, text: str | None, label: str | None) -> Shape:
        if text and text not in roles:
            roles[text] = "text"
        if label:
            roles[label] = "label"
        return Shape(kind=kind, text=text, label=label, roles=roles)

    def label_by_name(exclude: set[str]) -> str | None:
        return _find([n for n in names if n not in exclude], _LABEL_NAMES)

    # Conversations: by name first, then by the fields of any list-of-struct column.
    chat = [n for n in names if {"role", "content"} <= _turn_fields(schema[n])]
    sharegpt = [n for n in names if {"from", "value"} <= _turn_fields(schema[n])]
    if "chosen" in lower and "rejected" in lower:
        chosen, rejected = lower["chosen"], lower["rejected"]
        roles[chosen] = "chosen"
        roles[rejected] = "rejected"
        prompt = next(
            (lower[k] for k in ("prompt", "instruction", "question", "input") if k in lower), None
        )
        if prompt:
            roles[prompt] = "prompt"
        return done("preference", prompt or chosen, None)
    for kind, found, role in (("chat", chat, "messages"), ("sharegpt", sharegpt, "conversations")):
        if found:
            column = lower.get(role) if lower.get(role) in found else found[0]
            assert column is not None
            roles[column] = role
            return done(kind, column, label_by_name({column}))
    if "messages" in lower and isinstance(schema[lower["messages"]], pl.List):
        roles[lower["messages"]] = "messages"
        return done("chat", lower["messages"], label_by_name({lower["messages"]}))
    if "conversations" in lower and isinstance(schema[lower["conversations"]], pl.List):
        roles[lower["conversations"]] = "conversations"
        return done("sharegpt", lower["conversations"], label_by_name({lower["conversations"]}))
    for first, seconds in _ALPACA:
        out = next((lower[s] for s in seconds if s in lower), None)
        if first in lower and out is not None:
            roles[lower[first]] = "instruction"
            if "input" in lower and lower["input"] != lower[first]:
                roles[lower["input"]] = "input"
            roles[out] = "output"
            used = {lower[first], out, lower.get("input", "")}
            return done("alpaca", out, label_by_name(used))

    text_cols = [n for n in names if _is_text(schema[n])]
    text = _find(text_cols, _TEXT_NAMES)
    label = label_by_name({text} if text else set())
    if text is None and text_cols:
        sample = lazy.select(text_cols).head(sample_rows).collect()
        lengths = {
            c: float(sample[c].cast(pl.String).str.len_chars().mean() or 0)  # type: ignore[arg-type]
            for c in text_cols
        }
        text = max(text_cols, key=lambda c: lengths[c])
        if label == text:
            label = None
    if label is None and text is not None:
        candidates = [
            n
            for n in names
            if n != text
            and (_is_text(schema[n]) or schema[n].is_integer() or schema[n] == pl.Boolean)
        ]
        if candidates:
            small = lazy.select(candidates).head(max(sample_rows, 1000)).collect()
            for c in candidates:
                n_unique = small[c].n_unique()
                if 1 < n_unique <= max(2, min(100, small.height // 5)):
                    label = c
                    break
    if text is None:
        return Shape(kind="unknown", roles=roles)
    if label is not None:
        return done("classification", text, label)
    return done("text", text, None)
