"""Cleaning steps: whitespace, Unicode forms, control characters, HTML, empty markers, empty
required fields, and the classic classifier preprocessing (lowercase, stemming, stop words).

Text steps work on `column` and write to `output` (empty: in place). Large language models
usually train better on unaltered text: lowercasing, stemming and stop-word removal are meant
for bag-of-words classifiers.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from studio.engine.errors import StepError
from studio.engine.lists import each_element
from studio.engine.steps.base import ID, Step, register, require_columns

EMPTY_MARKERS = (
    "",
    "n/a",
    "na",
    "none",
    "null",
    "nil",
    "-",
    "--",
    "<noinput>",
    "<no input>",
    "no input",
    "no input.",
    "noinput",
    "<empty>",
    "empty",
)
"""Compared after stripping and lowercasing."""

ENGLISH_STOPWORDS = frozenset(
    [
        "a",
        "about",
        "above",
        "after",
        "again",
        "against",
        "all",
        "am",
        "an",
        "and",
        "any",
        "are",
        "aren't",
        "as",
        "at",
        "be",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "but",
        "by",
        "can",
        "can't",
        "cannot",
        "could",
        "couldn't",
        "did",
        "didn't",
        "do",
        "does",
        "doesn't",
        "doing",
        "don't",
        "down",
        "during",
        "each",
        "few",
        "for",
        "from",
        "further",
        "had",
        "hadn't",
        "has",
        "hasn't",
        "have",
        "haven't",
        "having",
        "he",
        "he'd",
        "he'll",
        "he's",
        "her",
        "here",
        "here's",
        "hers",
        "herself",
        "him",
        "himself",
        "his",
        "how",
        "how's",
        "i",
        "i'd",
        "i'll",
        "i'm",
        "i've",
        "if",
        "in",
        "into",
        "is",
        "isn't",
        "it",
        "it's",
        "its",
        "itself",
        "let's",
        "me",
        "more",
        "most",
        "mustn't",
        "my",
        "myself",
        "no",
        "nor",
        "not",
        "of",
        "off",
        "on",
        "once",
        "only",
        "or",
        "other",
        "ought",
        "our",
        "ours",
        "ourselves",
        "out",
        "over",
        "own",
        "same",
        "shan't",
        "she",
        "she'd",
        "she'll",
        "she's",
        "should",
        "shouldn't",
        "so",
        "some",
        "such",
        "than",
        "that",
        "that's",
        "the",
        "their",
        "theirs",
        "them",
        "themselves",
        "then",
        "there",
        "there's",
        "these",
        "they",
        "they'd",
        "they'll",
        "they're",
        "they've",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "very",
        "was",
        "wasn't",
        "we",
        "we'd",
        "we'll",
        "we're",
        "we've",
        "were",
        "weren't",
        "what",
        "what's",
        "when",
        "when's",
        "where",
        "where's",
        "which",
        "while",
        "who",
        "who's",
        "whom",
        "why",
        "why's",
        "with",
        "won't",
        "would",
        "wouldn't",
        "you",
        "you'd",
        "you'll",
        "you're",
        "you've",
        "your",
        "yours",
        "yourself",
        "yourselves",
    ]
)
"""A common English stop-word list (the classic "long" list used by many IR systems)."""

LLM_NOTE = (
    "Large language models usually train better on unaltered text; lowercasing, stemming and "
    "stop-word removal are for bag-of-words classifiers."
)


class TextStep(Step):
    """A row step rewriting `column` into `output` (in place when `output` is empty)."""

    def validate(self, schema: pl.Schema) -> None:
        require_columns(schema, self.column)  # type: ignore[attr-defined]
        dtype = schema[self.column]  # type: ignore[attr-defined]
        if isinstance(dtype, pl.List):
            raise StepError(
                f"Column {self.column!r} holds a list (conversations), not text; cleaning ops "  # type: ignore[attr-defined]
                "work on text columns: name one."
            )
        if dtype != pl.String:
            raise StepError(f"Column {self.column!r} holds {dtype}, not text.")  # type: ignore[attr-defined]

    def expr(self, col: pl.Expr) -> pl.Expr:
        raise NotImplementedError

    def apply(self, frame: pl.LazyFrame) -> pl.LazyFrame:
        target = self.output or self.column  # type: ignore[attr-defined]
        return frame.with_columns(self.expr(pl.col(self.column)).alias(target))  # type: ignore[attr-defined]

    def _where(self) -> str:
        out = self.output  # type: ignore[attr-defined]
        return f"{self.column}" + (f" into {out}" if out else "")  # type: ignore[attr-defined]


@register("clean.whitespace")
@dataclass(frozen=True, slots=True)
class CleanWhitespace(TextStep):
    """Strip both ends, turn CRLF/CR into LF, collapse runs of spaces and tabs to one space and
    three or more line breaks to two; `newlines=False` folds every line break into a space."""

    column: str = "text"
    output: str = ""
    newlines: bool = True

    def expr(self, col: pl.Expr) -> pl.Expr:
        text = col.str.replace_all("\r\n?", "\n")
        if self.newlines:
            text = (
                text.str.replace_all(r"[^\S\n]+", " ")
                .str.replace_all(r" ?\n ?", "\n")
                .str.replace_all(r"\n{3,}", "\n\n")
            )
        else:
            text = text.str.replace_all(r"\s+", " ")
        return text.str.strip_chars()

    def describe(self) -> str:
        return f"strip and collapse whitespace in {self._where()}"


@register("clean.unicode")
@dataclass(frozen=True, slots=True)
class CleanUnicode(TextStep):
    """Unicode normalization: NFC (compose accents) or NFKC (also fold compatibility forms such
    as full-width letters and ligatures)."""

    column: str = "text"
    output: str = ""
    form: str = "NFC"

    def validate(self, schema: pl.Schema) -> None:
        TextStep.validate(self, schema)
        if self.form.upper() not in ("NFC", "NFKC", "NFD", "NFKD"):
            raise StepError("The Unicode form is NFC, NFKC, NFD or NFKD.")

    def expr(self, col: pl.Expr) -> pl.Expr:
        return col.str.normalize(self.form.upper())  # type: ignore[arg-type]

    def describe(self) -> str:
        return f"normalize Unicode ({self.form.upper()}) in {self._where()}"


_CONTROL = r"[\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F\x{00AD}\x{200B}\x{2060}\x{FEFF}]"


@register("clean.control")
@dataclass(frozen=True, slots=True)
class CleanControl(TextStep):
    """Remove control characters (keeping tab, line feed and carriage return), zero-width
    spaces, word joiners, byte-order marks and soft hyphens. Emoji joiners (ZWJ) stay."""

    column: str = "text"
    output: str = ""

    def expr(self, col: pl.Expr) -> pl.Expr:
        return col.str.replace_all(_CONTROL, "")

    def describe(self) -> str:
        return f"remove control characters in {self._where()}"


def _unescape(series: pl.Series) -> pl.Series:
    mask = series.str.contains("&", literal=True).fill_null(False)
    if not mask.any():
        return series
    index = mask.arg_true()
    decoded = pl.Series([html.unescape(v) for v in series.gather(index).to_list()], dtype=pl.String)
    out = series.clone()
    out.scatter(index, decoded)
    return out


_HTML_TAGS = [
    "a",
    "abbr",
    "address",
    "article",
    "aside",
    "audio",
    "b",
    "big",
    "blockquote",
    "body",
    "br",
    "button",
    "caption",
    "center",
    "cite",
    "code",
    "col",
    "colgroup",
    "dd",
    "del",
    "details",
    "div",
    "dl",
    "dt",
    "em",
    "embed",
    "fieldset",
    "figcaption",
    "figure",
    "font",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "head",
    "header",
    "hr",
    "html",
    "i",
    "iframe",
    "img",
    "input",
    "ins",
    "kbd",
    "label",
    "legend",
    "li",
    "link",
    "main",
    "mark",
    "meta",
    "nav",
    "nobr",
    "ol",
    "optgroup",
    "option",
    "p",
    "param",
    "picture",
    "pre",
    "q",
    "s",
    "samp",
    "section",
    "select",
    "small",
    "source",
    "span",
    "strike",
    "strong",
    "sub",
    "summary",
    "sup",
    "svg",
    "table",
    "tbody",
    "td",
    "textarea",
    "tfoot",
    "th",
    "thead",
    "time",
    "title",
    "tr",
    "tt",
    "u",
    "ul",
    "var",
    "video",
    "wbr",
]
_TAG = r"(?i)</?(?:" + "|".join(_HTML_TAGS) + r")\b(?:\s[^<>]*)?/?>"
"""Known HTML element names only, so literal markers like `<noinput>` survive."""


@register("clean.html")
@dataclass(frozen=True, slots=True)
class CleanHtml(TextStep):
    """Drop `<script>`/`<style>` blocks, comments and tags (line-break tags become line
    breaks), then decode entities (`&amp;`, `&#233;`, `&nbsp;`...)."""

    column: str = "text"
    output: str = ""

    def expr(self, col: pl.Expr) -> pl.Expr:
        text = (
            col.str.replace_all(r"(?is)<(script|style)\b[^>]*>.*?</(script|style)\s*>", "")
            .str.replace_all(r"(?s)<!--.*?-->", "")
            .str.replace_all(r"(?i)<br\s*/?>|</(p|div|li|h[1-6]|tr)\s*>", "\n")
            .str.replace_all(_TAG, "")
        )
        return text.map_batches(_unescape, return_dtype=pl.String)

    def describe(self) -> str:
        return f"strip HTML tags and decode entities in {self._where()}"


@register("clean.empty_markers")
@dataclass(frozen=True, slots=True)
class CleanEmptyMarkers(TextStep):
    """Values that only say "nothing here" (`N/A`, `<noinput>`, `No input`, ...) become `""`
    (or null with `to_null`). Compared after stripping and lowercasing."""

    column: str = "text"
    output: str = ""
    markers: tuple[str, ...] = EMPTY_MARKERS
    to_null: bool = False

    def expr(self, col: pl.Expr) -> pl.Expr:
        markers = pl.Series([m.strip().lower() for m in self.markers], dtype=pl.String)
        is_marker = col.str.strip_chars().str.to_lowercase().is_in(markers.implode())
        empty = pl.lit(None, dtype=pl.String) if self.to_null else pl.lit("")
        return pl.when(is_marker).then(empty).otherwise(col)

    def describe(self) -> str:
        return f"turn empty markers (N/A, <noinput>, ...) into {'null' if self.to_null else 'empty'} in {self._where()}"


@register("clean.drop_empty")
@dataclass(frozen=True, slots=True)
class DropEmpty(Step):
    """Drop rows where any of `columns` is null, empty or only whitespace."""

    columns: tuple[str, ...] = ("text",)

    def validate(self, schema: pl.Schema) -> None:
        require_columns(schema, *self.columns)

    def _empty(self, column: str) -> pl.Expr:
        return pl.col(column).is_null() | (
            pl.col(column).cast(pl.String).str.strip_chars() == ""
        ).fill_null(True)

    def apply(self, frame: pl.LazyFrame) -> pl.LazyFrame:
        if not self.columns:
            return frame
        return frame.filter(~pl.any_horizontal([self._empty(c) for c in self.columns]))

    def removal_reasons(self, before: pl.LazyFrame) -> pl.LazyFrame:
        reason = pl.coalesce(
            [pl.when(self._empty(c)).then(pl.lit(f"empty {c}")) for c in self.columns]
            or [pl.lit("")]
        )
        return before.select(ID, reason.alias("reason"))

    def describe(self) -> str:
        return f"drop rows with an empty {', '.join(self.columns)}"


@register("clean.lowercase")
@dataclass(frozen=True, slots=True)
class Lowercase(TextStep):
    column: str = "text"
    output: str = ""

    def expr(self, col: pl.Expr) -> pl.Expr:
        return col.str.to_lowercase()

    def describe(self) -> str:
        return f"lowercase {self._where()}"


def _stem_batch(series: pl.Series, language: str) -> pl.Series:
    import snowballstemmer  # listed in the project dependencies

    try:
        stemmer = snowballstemmer.stemmer(language)
    except KeyError as exc:
        raise StepError(f"No Snowball stemmer for {language!r}.") from exc
    frame = pl.DataFrame({"t": series}).with_row_index("__row")
    tokens = frame.select(
        "__row", pl.col("t").str.to_lowercase().str.extract_all(r"\w+").alias("w")
    ).explode("w")
    unique = tokens["w"].drop_nulls().unique()
    words = unique.to_list()
    stems = pl.Series(stemmer.stemWords(words), dtype=pl.String)
    mapped = tokens.with_columns(
        pl.col("w").replace_strict(unique, stems, default=pl.col("w"), return_dtype=pl.String)
    )
    joined = mapped.group_by("__row", maintain_order=True).agg(
        pl.col("w").drop_nulls().str.join(" ")
    )
    out = frame.join(joined, on="__row", how="left", maintain_order="left")
    return out.select(
        pl.when(pl.col("t").is_null()).then(None).otherwise(pl.col("w").fill_null(""))
    ).to_series()


@register("clean.stem")
@dataclass(frozen=True, slots=True)
class Stem(TextStep):
    """Snowball stemming: the text becomes its lowercase word stems joined by spaces
    (punctuation dropped). Each distinct word is stemmed once."""

    column: str = "text"
    output: str = ""
    language: str = "english"

    def expr(self, col: pl.Expr) -> pl.Expr:
        language = self.language
        return col.map_batches(lambda s: _stem_batch(s, language), return_dtype=pl.String)

    def describe(self) -> str:
        return f"stem words ({self.language}) in {self._where()}"


_PUNCT_EDGES = "".join(chr(c) for c in range(33, 127) if not chr(c).isalnum() and chr(c) != "'")


@register("clean.stopwords")
@dataclass(frozen=True, slots=True)
class RemoveStopwords(TextStep):
    """Remove stop words (the built-in English list, or one word per line from `path`);
    words keep their punctuation and the rest is joined by single spaces."""

    column: str = "text"
    output: str = ""
    path: str = ""

    def words(self) -> list[str]:
        if not self.path:
            return sorted(ENGLISH_STOPWORDS)
        try:
            lines = Path(self.path).read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise StepError(f"Cannot read the stop-word file {self.path}: {exc.strerror}.") from exc
        return sorted({w.strip().lower() for w in lines if w.strip() and not w.startswith("#")})

    def expr(self, col: pl.Expr) -> pl.Expr:
        words = pl.Series(self.words(), dtype=pl.String).implode()
        key = pl.element().str.to_lowercase().str.strip_chars(_PUNCT_EDGES)
        return (
            col.str.split(" ")
            .pipe(each_element, pl.element().filter((pl.element() != "") & ~key.is_in(words)))
            .list.join(" ")
        )

    def apply(self, frame: pl.LazyFrame) -> pl.LazyFrame:
        target = self.output or self.column
        source = pl.col(self.column).str.replace_all(r"\s+", " ")
        return frame.with_columns(self.expr(source).alias(target))

    def describe(self) -> str:
        where = Path(self.path).name if self.path else "English"
        return f"remove {where} stop words from {self._where()}"


OPS: dict[str, tuple[type[Step], dict[str, object]]] = {
    "strip": (CleanWhitespace, {}),
    "whitespace": (CleanWhitespace, {}),
    "nfc": (CleanUnicode, {"form": "NFC"}),
    "nfkc": (CleanUnicode, {"form": "NFKC"}),
    "control": (CleanControl, {}),
    "html": (CleanHtml, {}),
    "empty": (CleanEmptyMarkers, {}),
    "lower": (Lowercase, {}),
    "stem": (Stem, {}),
    "stopwords": (RemoveStopwords, {}),
    "drop_empty": (DropEmpty, {}),
}
"""Short names used by `studio clean --ops` and the Clean pane."""


def build_ops(
    names: str | list[str],
    column: str,
    output: str = "",
    *,
    stopwords: str = "",
    language: str = "",
) -> list[Step]:
    """Steps for comma-separated op names, in the order given (`stopwords`: a file of stop
    words for the `stopwords` op instead of the built-in list; `language`: the Snowball
    stemmer of the `stem` op)."""
    if isinstance(names, str):
        names = [n.strip() for n in names.split(",") if n.strip()]
    for name in names:
        if name not in OPS:
            raise StepError(f"Unknown cleaning op {name!r}; ops are: {', '.join(OPS)}.")
    steps: list[Step] = []
    for name in names:
        cls, extra = OPS[name]
        if cls is DropEmpty:
            # the text as it stands: the source column before the first op, then the new one
            steps.append(DropEmpty(columns=(column,)))
            continue
        if cls is RemoveStopwords and stopwords:
            step: Step = RemoveStopwords(column=column, output=output, path=stopwords)
        elif cls is Stem and language:
            step = Stem(column=column, output=output, language=language.lower())
        else:
            step = cls(column=column, output=output, **extra)  # type: ignore[call-arg]
        steps.append(step)
        if output:
            # the first op writes the new column; the next ones refine it in place, so the
            # chain adds up instead of each op starting again from the source column
            column, output = output, ""
    return steps
