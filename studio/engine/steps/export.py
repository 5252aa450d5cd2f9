"""The export mapping as a step: columns onto a trainer format's fields, with validation.

`export.map` turns the current rows into exactly the records an export writes (plus `_id` and
any carried columns such as the split), so a recipe that ends with it replays, through
`studio run`, to the rows of the exported file. Invalid rows (a chat without an assistant turn,
an empty required field, too many tokens) are either kept (the exporter then blocks) or
dropped with their reason (`invalid="skip"`).

Field sources use one small syntax, shared by `--map` and the Export pane:
`COLUMN`, `COL1+COL2` (non-empty values joined by a blank line) or `"constant text"`.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Any

import polars as pl

from studio.engine.errors import StepError
from studio.engine.lists import each_element
from studio.engine.steps.base import ID, Step, register

FORMATS = ("jsonl", "parquet", "csv", "openai", "alpaca", "sharegpt", "hf")
PLAIN_FORMATS = ("jsonl", "parquet", "csv", "hf")
FORMAT_TITLES = {
    "jsonl": "JSONL",
    "parquet": "Parquet",
    "csv": "CSV",
    "openai": "OpenAI chat JSONL (messages)",
    "alpaca": "Alpaca (instruction/input/output)",
    "sharegpt": "ShareGPT (conversations)",
    "hf": "Hugging Face datasets folder",
}
FIELDS: dict[str, tuple[str, ...]] = {
    "openai": ("system", "user", "assistant", "messages"),
    "sharegpt": ("system", "human", "gpt", "conversations"),
    "alpaca": ("system", "instruction", "input", "output", "messages"),
}
"""Target fields of the trainer formats. `messages`/`conversations` take a whole conversation
column (role/content or from/value turns); the others take text."""

CONVERSATION_FIELD = {"openai": "messages", "sharegpt": "conversations", "alpaca": "messages"}
INVALID = "__invalid"
JOIN = "\n\n"

_TO_OPENAI_ROLE = {
    "human": "user",
    "user": "user",
    "gpt": "assistant",
    "assistant": "assistant",
    "bot": "assistant",
    "model": "assistant",
    "system": "system",
    "observation": "tool",
    "tool": "tool",
    "function_call": "function_call",
}
_TO_SHAREGPT_ROLE = {
    "user": "human",
    "assistant": "gpt",
    "system": "system",
    "tool": "observation",
    "function_call": "function_call",
}
Built = tuple[dict[str, pl.Expr], list[tuple[pl.Expr, str]], pl.Expr | None]
"""A format builder's output expressions, validation checks and the text to count tokens on."""


# -- field sources --------------------------------------------------------------------------
def is_constant(source: str) -> bool:
    source = source.strip()
    return len(source) >= 2 and source[0] == '"' and source[-1] == '"'


def constant_value(source: str) -> str:
    inner = source.strip()[1:-1]
    try:
        return str(json.loads(f'"{inner}"'))
    except json.JSONDecodeError:
        return inner


def constant(text: str) -> str:
    """The source syntax for a constant text (`"..."`)."""
    return json.dumps(text, ensure_ascii=False)


def source_columns(source: str, schema: pl.Schema | None = None) -> list[str]:
    """The columns a field source reads (none for a constant)."""
    source = source.strip()
    if not source or is_constant(source):
        return []
    if schema is not None and source in schema:
        return [source]
    return [part.strip() for part in source.split("+") if part.strip()]


def _check_columns(columns: list[str], schema: pl.Schema, field: str) -> None:
    for col in columns:
        if col not in schema or col == ID:
            known = ", ".join(n for n in schema.names() if n != ID)
            raise StepError(f"Field {field}: no column named {col!r}; columns are: {known}.")


def _as_text(col: str, schema: pl.Schema, field: str) -> pl.Expr:
    dtype = schema[col]
    if isinstance(dtype, pl.List | pl.Array | pl.Struct):
        raise StepError(
            f"Field {field}: column {col!r} holds nested values, not text; "
            "map a conversation column to messages/conversations instead."
        )
    return pl.col(col).cast(pl.String)


def text_expr(source: str, schema: pl.Schema, field: str) -> pl.Expr:
    """A String expression for a text field source (null when nothing is mapped)."""
    source = source.strip()
    if not source:
        return pl.lit(None, dtype=pl.String)
    if is_constant(source):
        return pl.lit(constant_value(source), dtype=pl.String)
    columns = source_columns(source, schema)
    _check_columns(columns, schema, field)
    if len(columns) == 1:
        return _as_text(columns[0], schema, field)
    parts = [
        pl.when(_as_text(c, schema, field).str.strip_chars() == "")
        .then(None)
        .otherwise(_as_text(c, schema, field))
        for c in columns
    ]
    return pl.concat_str(parts, separator=JOIN, ignore_nulls=True)


def conversation_expr(source: str, schema: pl.Schema, field: str) -> pl.Expr:
    """A conversation column normalised to a list of {role, content} (OpenAI roles)."""
    columns = source_columns(source, schema)
    if len(columns) != 1 or is_constant(source):
        raise StepError(f"Field {field} takes one conversation column.")
    col = columns[0]
    _check_columns(columns, schema, field)
    dtype = schema[col]
    inner = dtype.inner if isinstance(dtype, pl.List | pl.Array) else None
    if not isinstance(inner, pl.Struct):
        raise StepError(
            f"Field {field}: column {col!r} is not a conversation (a list of turns with "
            "role/content or from/value)."
        )
    names = [f.name for f in inner.fields]
    role = "role" if "role" in names else "from" if "from" in names else None
    content = "content" if "content" in names else "value" if "value" in names else None
    if role is None or content is None:
        raise StepError(
            f"Field {field}: the turns in {col!r} need role/content or from/value keys."
        )
    return pl.col(col).pipe(
        each_element,
        pl.struct(
            pl.element().struct.field(role).cast(pl.String).replace(_TO_OPENAI_ROLE).alias("role"),
            pl.element().struct.field(content).cast(pl.String).alias("content"),
        ),
    )


def _turn(role: str, content: pl.Expr) -> pl.Expr:
    return pl.struct(pl.lit(role, dtype=pl.String).alias("role"), content.alias("content"))


def _blank_to_null(expr: pl.Expr) -> pl.Expr:
    return pl.when(expr.str.strip_chars() == "").then(None).otherwise(expr)


def _roles(messages: pl.Expr, role: str) -> pl.Expr:
    """How many turns of `role` with some content."""
    return messages.pipe(
        each_element,
        (pl.element().struct.field("role") == role)
        & (pl.element().struct.field("content").fill_null("").str.strip_chars() != ""),
    ).list.sum()


def _any_empty(messages: pl.Expr) -> pl.Expr:
    return messages.pipe(
        each_element, pl.element().struct.field("content").fill_null("").str.strip_chars() == ""
    ).list.any()


def _reason(*checks: tuple[pl.Expr, str]) -> pl.Expr:
    """Join the messages of the failing checks with '; ' (null when every check passes)."""
    parts = [pl.when(cond.fill_null(True)).then(pl.lit(text)) for cond, text in checks]
    if not parts:
        return pl.lit(None, dtype=pl.String)
    return pl.concat_str(parts, separator="; ", ignore_nulls=True).replace("", None)


@functools.lru_cache(maxsize=4)
def load_tokenizer(name: str) -> Any:
    """A bare `tokenizers` file, or a Hugging Face tokenizer by name or local path."""
    from pathlib import Path

    from studio.engine.errors import require

    if name.endswith(".json") and Path(name).is_file():
        tokenizers = require("tokenizers", "Counting tokens")
        return tokenizers.Tokenizer.from_file(name)
    transformers = require("transformers", "Counting tokens")
    try:
        return transformers.AutoTokenizer.from_pretrained(name)
    except (OSError, ValueError) as exc:
        raise StepError(f"Cannot load the tokenizer {name!r}: {str(exc).splitlines()[0]}") from exc


def count_tokens(texts: list[str | None], tokenizer_name: str) -> list[int]:
    """Token counts with the Tokens pane's tokenizer loader (HF name or path, `tiktoken:`),
    or a bare `tokenizer.json` file."""
    values = [t or "" for t in texts]
    if tokenizer_name.endswith(".json"):
        tokenizer = load_tokenizer(tokenizer_name)
        return [len(e.ids) for e in tokenizer.encode_batch(values, add_special_tokens=False)]
    from studio.engine.tokens import load_tokenizer as shared_tokenizer

    return list(shared_tokenizer(tokenizer_name).count(values))


# -- the step ---------------------------------------------------------------------------------
@register("export.map")
@dataclass(frozen=True, slots=True)
class ExportMap(Step):
    """Map columns onto an export format's fields; validate; optionally drop invalid rows.

    `fields` are (target field, source) pairs; for the plain formats (jsonl, parquet, csv, hf)
    the targets are output column names and an empty `fields` keeps every column. `keep`
    names columns carried through unchanged (e.g. the split column). `max_tokens` > 0 checks
    length with `tokenizer` when set, else with the `tokens_<column>` columns of the mapped
    sources.
    """

    scope = "row"
    format: str = "jsonl"
    fields: tuple[tuple[str, str], ...] = ()
    system: str = ""
    keep: tuple[str, ...] = ()
    invalid: str = "keep"
    max_tokens: int = 0
    tokenizer: str = ""

    # -- description ---------------------------------------------------------------------
    def describe(self) -> str:
        mapping = ", ".join(f"{f}={s}" for f, s in self.fields) or "all columns"
        text = f"map to {FORMAT_TITLES.get(self.format, self.format)}: {mapping}"
        if self.system:
            text += f"; system prompt {self.system[:40]!r}"
        if self.max_tokens:
            text += f"; at most {self.max_tokens:,} tokens"
        if self.invalid == "skip":
            text += "; skip invalid rows"
        return text

    def validate(self, schema: pl.Schema) -> None:
        if self.format not in FORMATS:
            raise StepError(
                f"Unknown export format {self.format!r}; use one of {', '.join(FORMATS)}."
            )
        if self.invalid not in ("keep", "skip"):
            raise StepError("invalid must be 'keep' or 'skip'.")
        allowed = FIELDS.get(self.format)
        seen: set[str] = set()
        for field, source in self.fields:
            if allowed is not None and field not in allowed:
                raise StepError(
                    f"{self.format} has no field {field!r}; its fields are: {', '.join(allowed)}."
                )
            if field in seen:
                raise StepError(f"Field {field!r} is mapped twice.")
            seen.add(field)
            _check_columns(source_columns(source, schema), schema, field)
        for col in self.keep:
            _check_columns([col], schema, col)
        self.mapped(pl.LazyFrame(schema=schema))

    # -- mapping -------------------------------------------------------------------------
    def field_sources(self) -> dict[str, str]:
        out = {f: s for f, s in self.fields if s.strip()}
        if self.system:
            out["system"] = constant(self.system)
        return out

    def mapped(self, frame: pl.LazyFrame) -> pl.LazyFrame:
        """`_id`, the output fields, the kept columns and `__invalid` (null = valid)."""
        schema = frame.collect_schema()
        sources = self.field_sources()
        builder = {
            "openai": self._openai,
            "sharegpt": self._sharegpt,
            "alpaca": self._alpaca,
        }.get(self.format, self._plain)
        outputs, checks, texts = builder(schema, sources)
        keep = [c for c in self.keep if c not in outputs]
        tokens = self._token_expr(schema, texts, sources)
        if tokens is not None:
            checks = [*checks, (tokens > self.max_tokens, f"over {self.max_tokens:,} tokens")]
        return frame.select(
            pl.col(ID),
            *[e.alias(n) for n, e in outputs.items()],
            *keep,
            _reason(*checks).alias(INVALID),
        )

    def output_columns(self, schema: pl.Schema) -> list[str]:
        outputs, _, _ = {
            "openai": self._openai,
            "sharegpt": self._sharegpt,
            "alpaca": self._alpaca,
        }.get(self.format, self._plain)(schema, self.field_sources())
        return list(outputs)

    def apply(self, frame: pl.LazyFrame) -> pl.LazyFrame:
        out = self.mapped(frame)
        if self.invalid == "skip":
            out = out.filter(pl.col(INVALID).is_null())
        return out.drop(INVALID)

    def removal_reasons(self, before: pl.LazyFrame) -> pl.LazyFrame:
        return (
            self.mapped(before)
            .filter(pl.col(INVALID).is_not_null())
            .select(ID, pl.col(INVALID).alias("reason"))
        )

    # -- formats ---------------------------------------------------------------------------
    def _plain(self, schema: pl.Schema, sources: dict[str, str]) -> Built:
        outputs: dict[str, pl.Expr] = {}
        if not self.fields:
            for name in schema.names():
                if name != ID and name not in self.keep:
                    outputs[name] = pl.col(name)
        for field, source in sources.items():
            columns = source_columns(source, schema)
            if len(columns) == 1 and not is_constant(source) and source.strip() in schema:
                outputs[field] = pl.col(columns[0])
            else:
                outputs[field] = text_expr(source, schema, field)
        return outputs, [], None

    def _messages(
        self, schema: pl.Schema, sources: dict[str, str], user: str, assistant: str
    ) -> tuple[pl.Expr, pl.Expr | None]:
        """The conversation as OpenAI turns, and the system text kept apart (if any)."""
        conv_field = CONVERSATION_FIELD[self.format]
        system = (
            _blank_to_null(text_expr(sources["system"], schema, "system"))
            if "system" in sources
            else None
        )
        if conv_field in sources:
            messages = conversation_expr(sources[conv_field], schema, conv_field)
            if system is not None:
                has_system = messages.pipe(
                    each_element, pl.element().struct.field("role") == "system"
                ).list.any()
                messages = (
                    pl.when(system.is_null() | has_system.fill_null(False))
                    .then(messages)
                    .otherwise(pl.concat_list([_turn("system", system), messages]))
                )
            return messages, None
        turns = [
            _turn("user", text_expr(sources.get(user, ""), schema, user)),
            _turn("assistant", text_expr(sources.get(assistant, ""), schema, assistant)),
        ]
        if system is not None:
            turns.insert(0, _turn("system", system))
        messages = pl.concat_list(turns).pipe(
            each_element, pl.element().filter(pl.element().struct.field("content").is_not_null())
        )
        return messages, system

    def _chat_checks(self, messages: pl.Expr) -> list[tuple[pl.Expr, str]]:
        return [
            (_roles(messages, "user") == 0, "no user turn"),
            (_roles(messages, "assistant") == 0, "no assistant turn"),
            (_any_empty(messages), "empty message"),
        ]

    def _openai(self, schema: pl.Schema, sources: dict[str, str]) -> Built:
        messages, _ = self._messages(schema, sources, "user", "assistant")
        return {"messages": messages}, self._chat_checks(messages), _joined_contents(messages)

    def _sharegpt(self, schema: pl.Schema, sources: dict[str, str]) -> Built:
        messages, system = self._messages(schema, sources, "human", "gpt")
        checks = self._chat_checks(messages)
        outputs: dict[str, pl.Expr] = {}
        if system is not None and "conversations" not in sources:
            body = messages.pipe(
                each_element, pl.element().filter(pl.element().struct.field("role") != "system")
            )
            outputs["conversations"] = _to_sharegpt(body)
            outputs["system"] = system
        else:
            outputs["conversations"] = _to_sharegpt(messages)
        return outputs, checks, _joined_contents(messages)

    def _alpaca(self, schema: pl.Schema, sources: dict[str, str]) -> Built:
        outputs: dict[str, pl.Expr] = {}
        if "messages" in sources:
            messages, _ = self._messages(schema, sources, "instruction", "output")
            parts = messages.map_elements(
                _alpaca_from_turns, return_dtype=_ALPACA_STRUCT, skip_nulls=False
            )
            outputs["instruction"] = parts.struct.field("instruction")
            outputs["input"] = pl.lit("", dtype=pl.String)
            outputs["output"] = parts.struct.field("output")
            outputs["system"] = parts.struct.field("system")
            outputs["history"] = parts.struct.field("history")
            text = _joined_contents(messages)
        else:
            for field in ("instruction", "input", "output"):
                outputs[field] = text_expr(sources.get(field, ""), schema, field)
            outputs["input"] = outputs["input"].fill_null("")
            if "system" in sources:
                outputs["system"] = text_expr(sources["system"], schema, "system")
            text = pl.concat_str(
                [outputs["instruction"], outputs["input"], outputs["output"]],
                separator="\n",
                ignore_nulls=True,
            )
        checks = [
            (outputs["instruction"].fill_null("").str.strip_chars() == "", "empty instruction"),
            (outputs["output"].fill_null("").str.strip_chars() == "", "empty output"),
        ]
        return outputs, checks, text

    # -- tokens ------------------------------------------------------------------------------
    def _token_expr(
        self, schema: pl.Schema, text: pl.Expr | None, sources: dict[str, str]
    ) -> pl.Expr | None:
        if self.max_tokens <= 0:
            return None
        if self.tokenizer:
            if text is None:
                used = [c for s in sources.values() for c in source_columns(s, schema)]
                if not sources:
                    used = [n for n in schema.names() if n != ID and n not in self.keep]
                text = pl.concat_str(
                    [
                        pl.col(c).cast(pl.String)
                        for c in used
                        if not isinstance(schema[c], pl.List | pl.Struct | pl.Array)
                    ],
                    separator="\n",
                    ignore_nulls=True,
                )
            name = self.tokenizer
            return text.map_batches(
                lambda s: pl.Series(count_tokens(s.to_list(), name), dtype=pl.Int64),
                return_dtype=pl.Int64,
            )
        token_cols = [
            n
            for n in schema.names()
            if n.startswith("tokens_")
            and schema[n].is_numeric()
            and not n.endswith(("_prompt", "_trained"))  # parts of tokens_<chat column>
        ]
        used = {c for s in sources.values() for c in source_columns(s, schema)}
        chosen = [c for c in token_cols if c.removeprefix("tokens_") in used] or token_cols
        if not chosen:
            raise StepError(
                "A token limit needs a tokenizer or tokens_<column> columns (see the Tokens pane)."
            )
        return pl.sum_horizontal([pl.col(c).fill_null(0) for c in chosen])


# -- helpers ----------------------------------------------------------------------------------
def _joined_contents(messages: pl.Expr) -> pl.Expr:
    return messages.pipe(
        each_element, pl.element().struct.field("content").fill_null("")
    ).list.join("\n")


def _to_sharegpt(messages: pl.Expr) -> pl.Expr:
    return messages.pipe(
        each_element,
        pl.struct(
            pl.element().struct.field("role").replace(_TO_SHAREGPT_ROLE).alias("from"),
            pl.element().struct.field("content").alias("value"),
        ),
    )


_ALPACA_STRUCT = pl.Struct(
    {
        "instruction": pl.String,
        "output": pl.String,
        "system": pl.String,
        "history": pl.List(pl.List(pl.String)),
    }
)


def _alpaca_from_turns(turns: Any) -> dict[str, Any]:
    """The last exchange as instruction/output; earlier user/assistant pairs as history."""
    if isinstance(turns, pl.Series):
        turns = turns.to_list()
    turns = list(turns or [])
    system = None
    body = []
    for turn in turns:
        if turn.get("role") == "system" and system is None and not body:
            system = turn.get("content")
        else:
            body.append(turn)
    output = instruction = None
    last = max((i for i, t in enumerate(body) if t.get("role") == "assistant"), default=None)
    if last is not None:
        output = body[last].get("content")
        if last > 0 and body[last - 1].get("role") == "user":
            instruction = body[last - 1].get("content")
            body = body[: last - 1]
        else:
            body = body[:last]
    history = []
    pending: str | None = None
    for turn in body:
        if turn.get("role") == "user":
            pending = turn.get("content") or ""
        elif turn.get("role") == "assistant" and pending is not None:
            history.append([pending, turn.get("content") or ""])
            pending = None
    return {"instruction": instruction, "output": output, "system": system, "history": history}
