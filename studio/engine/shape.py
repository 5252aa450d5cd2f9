"""Detect what kind of fine-tuning data a frame holds and which columns play which role."""

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
    "utterance",
    "query",
    "prompt",
    "question",
    "input",
    "v2",
)
_LABEL_NAMES = ("label", "labels", "category", "class", "intent", "target", "sentiment", "v1", "y")


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
        return replace(
            self,
            kind=kind or self.kind,
            text=text or self.text,
            label=label or self.label,
            roles=roles,
        )

    def to_json(self) -> dict[str, object]:
        return {"kind": self.kind, "text": self.text, "label": self.label}


def _is_text(dtype: pl.DataType) -> bool:
    return dtype in (pl.String, pl.Categorical) or isinstance(dtype, pl.Enum)


def _find(names: list[str], wanted: tuple[str, ...]) -> str | None:
    lower = {n.lower(): n for n in names}
    for w in wanted:
        if w in lower:
            return lower[w]
    return None


def detect_shape(frame: pl.LazyFrame | pl.DataFrame, sample_rows: int = 200) -> Shape:
    """Guess the dataset shape from column names, dtypes and a small sample."""
    lazy = frame.lazy() if isinstance(frame, pl.DataFrame) else frame
    schema = lazy.collect_schema()
    names = [n for n in schema.names() if n != ID]
    lower = {n.lower(): n for n in names}
    roles: dict[str, str] = {}

    def done(kind: str, text: str | None, label: str | None, **extra: str) -> Shape:
        if text:
            roles[text] = "text"
        if label:
            roles[label] = "label"
        for col, role in extra.items():
            roles[role] = col
        return Shape(kind=kind, text=text, label=label, roles=roles)

    if "messages" in lower and isinstance(schema[lower["messages"]], pl.List):
        roles[lower["messages"]] = "messages"
        return done("chat", lower["messages"], _find(names, _LABEL_NAMES))
    if "conversations" in lower and isinstance(schema[lower["conversations"]], pl.List):
        roles[lower["conversations"]] = "conversations"
        return done("sharegpt", lower["conversations"], _find(names, _LABEL_NAMES))
    if "chosen" in lower and "rejected" in lower:
        roles[lower["chosen"]] = "chosen"
        roles[lower["rejected"]] = "rejected"
        prompt = lower.get("prompt") or lower.get("instruction") or lower.get("question")
        if prompt:
            roles[prompt] = "prompt"
        return done("preference", prompt or lower["chosen"], None)
    if "instruction" in lower and ("output" in lower or "response" in lower):
        out = lower.get("output") or lower["response"]
        roles[lower["instruction"]] = "instruction"
        if "input" in lower:
            roles[lower["input"]] = "input"
        roles[out] = "output"
        return done("alpaca", out, _find(names, _LABEL_NAMES))

    text_cols = [n for n in names if _is_text(schema[n])]
    text = _find(text_cols, _TEXT_NAMES)
    label = _find([n for n in names if n != text], _LABEL_NAMES)
    sample: pl.DataFrame | None = None
    if text_cols and (text is None or label is None):
        sample = lazy.select(text_cols).head(sample_rows).collect()
    if text is None and text_cols:
        assert sample is not None
        lengths = {c: sample[c].cast(pl.String).str.len_chars().mean() or 0 for c in text_cols}
        text = max(lengths, key=lambda c: lengths[c])  # type: ignore[arg-type]
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
