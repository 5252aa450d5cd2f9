"""Token steps: count, drop rows over a limit, truncate to a limit, split into chunks.

Every step stores the tokenizer as given by the user (a Hugging Face name or folder,
`tiktoken:NAME`, or "" for the documented estimate of ceil(characters / 4)), so a recipe
replays with the same tokenizer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl

from studio.engine.errors import StepError
from studio.engine.steps.base import ID, Step, fresh_ids, register, require_columns
from studio.engine.tokens import (
    LENGTH,
    PROMPT,
    TRAINED,
    CountPlan,
    count_column_name,
    count_tokens,
    load_tokenizer,
    plan_columns,
)


def _who(tokenizer: str) -> str:
    return tokenizer or "≈ estimate"


def _plan(frame: pl.LazyFrame, columns: tuple[str, ...]) -> CountPlan:
    plan = plan_columns(frame, columns=columns)
    if not plan.columns:
        raise StepError("No text column to count tokens in; name one.")
    return plan


def _text_column(frame: pl.LazyFrame, column: str) -> str:
    schema = frame.collect_schema()
    if column:
        require_columns(schema, column)
        if schema[column] != pl.String:
            raise StepError(f"Column {column!r} is not text; truncating and chunking need text.")
        return column
    plan = plan_columns(frame)
    if plan.chat is not None or not plan.columns:
        raise StepError("Choose a text column (chat conversations cannot be cut by tokens).")
    return plan.columns[-1] if len(plan.columns) > 1 else plan.columns[0]


_MEMO: dict[tuple[Any, int], tuple[pl.LazyFrame, pl.DataFrame]] = {}


def _lengths(step: Any, frame: pl.LazyFrame, columns: tuple[str, ...]) -> pl.DataFrame:
    """Row lengths (`_id`, `tokens`), remembered for the frame last seen (apply then reasons)."""
    key = (step, id(frame))
    hit = _MEMO.get(key)
    if hit is not None and hit[0] is frame:
        return hit[1]
    counts = count_tokens(frame, load_tokenizer(step.tokenizer), plan=_plan(frame, columns))
    _MEMO.clear()
    _MEMO[key] = (frame, counts)
    return counts


@register("tokens.count")
@dataclass(frozen=True, slots=True)
class CountTokens(Step):
    """Add `tokens_<column>` for each main text column (chat: also `_prompt` and `_trained`)."""

    tokenizer: str = ""
    columns: tuple[str, ...] = ()
    special_tokens: bool = False

    def validate(self, schema: pl.Schema) -> None:
        require_columns(schema, *self.columns)

    def apply(self, frame: pl.LazyFrame) -> pl.LazyFrame:
        plan = _plan(frame, self.columns)
        counts = count_tokens(
            frame, load_tokenizer(self.tokenizer), plan=plan, special=self.special_tokens
        )
        added = [count_column_name(c) for c in plan.columns]
        renames = {}
        if plan.chat is not None:
            base = count_column_name(plan.chat)
            renames = {PROMPT: f"{base}_prompt", TRAINED: f"{base}_trained"}
            added += list(renames)
        new = counts.select(ID, *added).rename(renames)
        keep = [c for c in frame.collect_schema().names() if c not in new.columns or c == ID]
        return frame.select(keep).join(new.lazy(), on=ID, how="left", maintain_order="left")

    def describe(self) -> str:
        what = ", ".join(self.columns) or "the main text"
        return f"count tokens of {what} ({_who(self.tokenizer)})"


@register("tokens.drop_over")
@dataclass(frozen=True, slots=True)
class DropOverLimit(Step):
    """Drop rows longer than `max_tokens` (the row's length as the trainer sees it)."""

    tokenizer: str = ""
    max_tokens: int = 2048
    columns: tuple[str, ...] = ()

    def validate(self, schema: pl.Schema) -> None:
        require_columns(schema, *self.columns)
        if self.max_tokens < 1:
            raise StepError("The token limit must be at least 1.")

    def apply(self, frame: pl.LazyFrame) -> pl.LazyFrame:
        lengths = _lengths(self, frame, self.columns)
        keep = lengths.filter(pl.col(LENGTH) <= self.max_tokens).select(ID)
        return frame.join(keep.lazy(), on=ID, how="semi", maintain_order="left")

    def removal_reasons(self, before: pl.LazyFrame) -> pl.LazyFrame:
        lengths = _lengths(self, before, self.columns)
        return (
            lengths.lazy()
            .filter(pl.col(LENGTH) > self.max_tokens)
            .select(
                ID,
                pl.format(
                    "{} tokens, over the limit of {} ({})",
                    pl.col(LENGTH),
                    pl.lit(self.max_tokens),
                    pl.lit(_who(self.tokenizer)),
                ).alias("reason"),
            )
        )

    def describe(self) -> str:
        return f"drop rows over {self.max_tokens:,} tokens ({_who(self.tokenizer)})"


@register("tokens.truncate")
@dataclass(frozen=True, slots=True)
class TruncateTokens(Step):
    """Cut a text column to at most `max_tokens` tokens, keeping its start or its end.

    Without a column, the main text column of the shape is cut (Alpaca: `output`) so that the
    whole row fits the limit: it keeps `max_tokens` minus the other counted fields' tokens.
    A row whose other fields alone reach the limit is left as it is (cutting its answer to
    nothing would not help; drop it with `tokens.drop_over`).

    The cut falls on a token boundary of the original text, so the kept text is exactly the
    decoded tokens (no normalisation of what remains)."""

    tokenizer: str = ""
    max_tokens: int = 2048
    column: str = ""
    keep: str = "start"

    def validate(self, schema: pl.Schema) -> None:
        if self.column:
            require_columns(schema, self.column)
        if self.max_tokens < 1:
            raise StepError("The token limit must be at least 1.")
        if self.keep not in ("start", "end"):
            raise StepError("keep must be 'start' or 'end'.")

    def apply(self, frame: pl.LazyFrame) -> pl.LazyFrame:
        column = _text_column(frame, self.column)
        counter = load_tokenizer(self.tokenizer)
        df = frame.collect()
        plan = CountPlan((column,)) if self.column else _plan(frame, ())
        counts = count_tokens(df, counter, plan=plan)
        # the row's other fields take their share of the limit; the cut column gets the rest
        budget = pl.lit(self.max_tokens) - (pl.col(LENGTH) - pl.col(count_column_name(column)))
        over = counts.filter((pl.col(LENGTH) > self.max_tokens) & (budget > 0)).select(
            ID, budget.alias("__budget")
        )
        if over.height == 0:
            return df.lazy()
        rows = df.join(over, on=ID, how="inner", maintain_order="left")
        cut = [
            counter.truncate(text or "", int(room), self.keep)
            for text, room in zip(rows[column].to_list(), rows["__budget"].to_list(), strict=True)
        ]
        fixed = pl.DataFrame({ID: rows[ID], "__cut": pl.Series(cut, dtype=pl.String)})
        return (
            df.lazy()
            .join(fixed.lazy(), on=ID, how="left", maintain_order="left")
            .with_columns(pl.coalesce("__cut", column).alias(column))
            .drop("__cut")
        )

    def describe(self) -> str:
        what = (
            f"{self.column} to {self.max_tokens:,} tokens"
            if self.column
            else f"the main text so rows fit {self.max_tokens:,} tokens"
        )
        return f"truncate {what}, keeping the {self.keep} ({_who(self.tokenizer)})"


CHUNK_OF = "chunk_of"


@register("tokens.chunk")
@dataclass(frozen=True, slots=True)
class ChunkTokens(Step):
    """Split texts longer than `max_tokens` into chunks of at most `max_tokens` tokens, each
    overlapping the previous by `overlap` tokens. Chunks are new rows (fresh ids) in the
    source's place, with `chunk_of` = the source row's id; the source row is removed."""

    scope = "global"
    tokenizer: str = ""
    max_tokens: int = 512
    overlap: int = 64
    column: str = ""

    def validate(self, schema: pl.Schema) -> None:
        if self.column:
            require_columns(schema, self.column)
        if self.max_tokens < 1:
            raise StepError("The chunk size must be at least 1 token.")
        if not 0 <= self.overlap < self.max_tokens:
            raise StepError("The overlap must be at least 0 and smaller than the chunk size.")

    def group_keys(self) -> tuple[str, ...]:
        return ()

    def apply(self, frame: pl.LazyFrame) -> pl.LazyFrame:
        column = _text_column(frame, self.column)
        counter = load_tokenizer(self.tokenizer)
        df = frame.collect().with_row_index("__pos")
        if CHUNK_OF not in df.columns:
            df = df.with_columns(pl.lit(None, dtype=pl.UInt64).alias(CHUNK_OF))
        counts = count_tokens(df.drop("__pos"), counter, plan=CountPlan((column,)))
        over = counts.filter(pl.col(LENGTH) > self.max_tokens)[ID]
        if over.len() == 0:
            return df.drop("__pos").lazy()
        long_rows = df.filter(pl.col(ID).is_in(over.implode()))
        pieces: list[list[str]] = [
            counter.windows(text or "", self.max_tokens, self.overlap)
            for text in long_rows[column].to_list()
        ]
        added = (
            long_rows.with_columns(
                pl.Series("__pieces", pieces, dtype=pl.List(pl.String)),
                pl.col(ID).alias("__src"),
            )
            .explode("__pieces")
            .with_columns(
                pl.col("__pieces").alias(column),
                pl.col("__src").alias(CHUNK_OF),
                pl.int_range(pl.len()).over("__src").alias("__k"),
            )
            .drop("__pieces", "__src")
        )
        added = fresh_ids(df.lazy(), added.lazy()).collect()
        short = df.filter(~pl.col(ID).is_in(over.implode())).with_columns(
            pl.lit(0, dtype=added["__k"].dtype).alias("__k")
        )
        out = pl.concat([short, added.select(short.columns)], how="vertical_relaxed")
        return out.sort("__pos", "__k", maintain_order=True).drop("__pos", "__k").lazy()

    def removal_reasons(self, before: pl.LazyFrame) -> pl.LazyFrame:
        return before.select(ID).with_columns(
            pl.lit(
                f"split into chunks of at most {self.max_tokens:,} tokens (overlap {self.overlap})"
            ).alias("reason")
        )

    def describe(self) -> str:
        return (
            f"split {self.column or 'text'} into chunks of at most {self.max_tokens:,} tokens "
            f"with {self.overlap} overlap ({_who(self.tokenizer)})"
        )
