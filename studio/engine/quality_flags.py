"""Per-row quality flags: Boolean `flag_<name>` columns computed with polars expressions.

Each flag and its default threshold (all editable through `FlagConfig`):

- `flag_empty`: any checked field is null, empty or only whitespace.
- `flag_too_short`: the text has fewer than `min_words` (3) words.
- `flag_too_long`: the text has more than `max_words` (2,000) words.
- `flag_repeated_lines`: more than `max_duplicate_lines` (0.30) of the non-empty lines repeat an
  earlier line (Gopher's duplicate-line fraction).
- `flag_repeated_ngrams`: more than `max_duplicate_ngrams` (0.20) of the word `ngram`-grams
  (3) repeat an earlier one in the row (a Gopher-style repetition ratio on words).
- `flag_low_alpha`: fewer than `min_alpha_words` (0.80) of the words contain a letter
  (Gopher's alphabetic-word rule).
- `flag_nonprinting`: control characters other than tab/newline/CR, zero-width spaces, BOMs
  or U+FFFD replacement characters (a sign of broken decoding).
- `flag_url_only`: the whole text is one URL.
- `flag_refusal`: refusal boilerplate ("As an AI language model...", "I cannot assist").
- `flag_placeholder`: unfilled template placeholders (`{{name}}`, `[INSERT ...]`,
  `<PLACEHOLDER>`).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from studio.engine.lists import each_element

FLAG_NAMES = (
    "empty",
    "too_short",
    "too_long",
    "repeated_lines",
    "repeated_ngrams",
    "low_alpha",
    "nonprinting",
    "url_only",
    "refusal",
    "placeholder",
)

NONPRINTING = r"[\x00-\x08\x0B\x0C\x0E-\x1F\x7F\x{200B}\x{FEFF}\x{FFFD}]"
URL_ONLY = r"^\s*(?:https?://|www\.)\S+\s*$"
REFUSAL = (
    r"(?i)\bas an ai(?: language)? model\b|\bas a language model\b|\bi(?:'m| am) an ai\b"
    r"|\bi(?: cannot|can't|can not|'m unable to|am unable to|'m not able to) "
    r"(?:help|assist|provide|fulfill|comply|do that|answer)\b"
    r"|\bi(?:'m| am) sorry,? but i (?:cannot|can't)\b"
)
PLACEHOLDER = r"\{\{\s*[^{}\s]{0,40}\s*\}\}|(?i:\[(?:insert|your|placeholder)\b[^\]]{0,60}\])|<(?i:placeholder)>"


@dataclass(frozen=True, slots=True)
class FlagConfig:
    min_words: int = 3
    max_words: int = 2000
    max_duplicate_lines: float = 0.30
    max_duplicate_ngrams: float = 0.20
    ngram: int = 3
    min_alpha_words: float = 0.80


ALPACA_OPTIONAL = ("input", "system")
"""Alpaca fields that are empty by convention (an instruction needs no input)."""


def default_required(schema: pl.Schema) -> list[str]:
    """The fields `flag_empty` checks when none are named: every text column, except Alpaca's
    optional `input` and `system` when the data has `instruction` and `output`."""
    text = [c for c, t in schema.items() if t == pl.String]
    if "instruction" in text and "output" in text:
        text = [c for c in text if c not in ALPACA_OPTIONAL]
    return text


ANSWER_ROLES = ("assistant", "gpt", "model", "chatgpt")


def text_of(column: str, schema: pl.Schema) -> pl.Expr:
    """The text the flags read: a text column as is; a conversation (chat `role`/`content` or
    ShareGPT `from`/`value` messages) as its assistant messages joined by line breaks."""
    from studio.engine.errors import StepError

    if column not in schema:
        raise StepError(f"No column named {column!r}.")
    dtype = schema[column]
    if dtype == pl.String:
        return pl.col(column).fill_null("")
    inner = dtype.inner if isinstance(dtype, pl.List) else None
    fields = {f.name: f.dtype for f in inner.fields} if isinstance(inner, pl.Struct) else {}
    for role, content in (("role", "content"), ("from", "value")):
        if {role, content} <= fields.keys():
            if fields[content].is_nested():
                raise StepError(
                    f"The messages of {column!r} hold {fields[content]} as their {content}, "
                    "not text; flags read text answers."
                )
            element = pl.element().struct
            answers = each_element(
                pl.col(column),
                element.field(content)
                .cast(pl.String)  # content that is null throughout the file is typed Null
                .filter(element.field(role).is_in(list(ANSWER_ROLES))),
            )
            return answers.list.join("\n").fill_null("")
    raise StepError(f"Column {column!r} holds {dtype}, not text; name a text column.")


def flag_columns(
    frame: pl.LazyFrame,
    text: str,
    fields: tuple[str, ...] = (),
    config: FlagConfig | None = None,
    names: tuple[str, ...] = FLAG_NAMES,
) -> pl.LazyFrame:
    """`frame` with a Boolean `flag_<name>` column per flag in `names` (text flags use `text`;
    `flag_empty` checks `fields`, else `default_required`)."""
    config = config or FlagConfig()
    schema = frame.collect_schema()
    col = text_of(text, schema)
    chat = schema[text] != pl.String
    words = col.str.count_matches(r"\S+")
    exprs: list[pl.Expr] = []
    for name in names:
        if name == "empty":
            cols = list(fields) or default_required(schema)
            checks = [
                pl.col(c).is_null() | (pl.col(c).cast(pl.String).str.strip_chars() == "")
                for c in cols
            ]
            if chat:  # a conversation with no assistant text
                checks.append(col.str.strip_chars() == "")
            expr = pl.any_horizontal(checks) if checks else pl.lit(False)
        elif name == "too_short":
            expr = words < config.min_words
        elif name == "too_long":
            expr = words > config.max_words
        elif name == "repeated_lines":
            lines = col.str.split("\n").pipe(
                each_element,
                pl.element().str.strip_chars().filter(pl.element().str.strip_chars() != ""),
            )
            total = lines.list.len()
            unique = lines.list.n_unique()
            expr = (total > 1) & (
                (total - unique).cast(pl.Float64) / total.cast(pl.Float64)
                > config.max_duplicate_lines
            )
        elif name == "repeated_ngrams":
            expr = _repeated_ngrams(col, config)
        elif name == "low_alpha":
            alpha = col.str.count_matches(r"\S*\p{L}\S*")
            expr = (words > 0) & (
                alpha.cast(pl.Float64) / words.cast(pl.Float64) < config.min_alpha_words
            )
        elif name == "nonprinting":
            expr = col.str.contains(NONPRINTING)
        elif name == "url_only":
            expr = col.str.contains(URL_ONLY)
        elif name == "refusal":
            expr = col.str.contains(REFUSAL)
        elif name == "placeholder":
            expr = col.str.contains(PLACEHOLDER)
        else:
            from studio.engine.errors import StepError

            raise StepError(f"Unknown flag {name!r}; flags are: {', '.join(FLAG_NAMES)}.")
        exprs.append(expr.fill_null(False).alias(f"flag_{name}"))
    return frame.with_columns(exprs)


def _repeated_ngrams(col: pl.Expr, config: FlagConfig) -> pl.Expr:
    n = max(config.ngram, 1)
    return col.map_batches(
        lambda s: ngram_duplicate_fraction(s, n), return_dtype=pl.Float64
    ) > pl.lit(config.max_duplicate_ngrams)


def ngram_duplicate_fraction(texts: pl.Series, n: int = 3) -> pl.Series:
    """Per row: the share of its word n-grams that repeat an earlier n-gram of the row."""
    frame = pl.DataFrame({"t": texts.cast(pl.String)}).with_row_index("__r")
    grams = (
        frame.select("__r", pl.col("t").str.to_lowercase().str.extract_all(r"\S+").alias("w"))
        .explode("w")
        .drop_nulls("w")
        .with_columns(
            pl.concat_str(
                [pl.col("w").shift(-k).over("__r") for k in range(n)], separator=" "
            ).alias("g")
        )
        .drop_nulls("g")
    )
    stats = grams.group_by("__r").agg(
        pl.len().alias("total"), pl.col("g").n_unique().alias("unique")
    )
    out = frame.select("__r").join(stats, on="__r", how="left", maintain_order="left")
    return out.select(
        ((pl.col("total") - pl.col("unique")) / pl.col("total")).fill_null(0.0).cast(pl.Float64)
    ).to_series()


def flag_counts(frame: pl.DataFrame) -> dict[str, int]:
    """How many rows raise each `flag_*` column."""
    cols = [c for c in frame.columns if c.startswith("flag_")]
    if not cols:
        return {}
    row = frame.select([pl.col(c).sum() for c in cols]).row(0)
    return {c.removeprefix("flag_"): int(v or 0) for c, v in zip(cols, row, strict=True)}
