"""Hand edits: tag rows with a label, edit one cell, find and replace in a column.

Replacement syntax (regex mode) is the Rust `regex` crate's, which polars uses: groups are
`$1`, `${1}` or `${name}`, `$0` is the whole match and `$$` a literal `$`. For convenience
`\\1` is accepted too and means `${1}`; `$1` is rewritten to `${1}` so `$1x` keeps its
meaning of "group 1 then x". In literal mode both the pattern and the replacement are plain text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import polars as pl

from studio.engine.errors import StepError
from studio.engine.steps.base import ID, Step, id_in, register, require_columns

TAG_COLUMN = "tag"


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _short(value: Any, width: int = 30) -> str:
    text = "null" if value is None else str(value)
    text = text.replace("\n", "⏎")
    return text if len(text) <= width else text[: width - 1] + "…"


@register("rows.tag")
@dataclass(frozen=True, slots=True)
class TagRows(Step):
    """Set a user label (e.g. `review`, `bad`) in the `tag` column for the listed rows.

    An empty `tag` clears the label. Rows not listed keep theirs (null if never tagged)."""

    row_id_fields = ("ids",)
    ids: tuple[int, ...] = ()
    tag: str = "review"
    column: str = TAG_COLUMN

    def validate(self, schema: pl.Schema) -> None:
        if not self.column:
            raise StepError("The tag column needs a name.")
        if self.column in schema and schema[self.column] != pl.String:
            raise StepError(f"Column {self.column!r} exists and does not hold text labels.")

    def apply(self, frame: pl.LazyFrame) -> pl.LazyFrame:
        schema = frame.collect_schema()
        current = pl.col(self.column) if self.column in schema else pl.lit(None, dtype=pl.String)
        value = pl.lit(self.tag or None, dtype=pl.String)
        return frame.with_columns(
            pl.when(id_in(self.ids)).then(value).otherwise(current).alias(self.column)
        )

    def describe(self) -> str:
        if not self.tag:
            return f"clear the {self.column} of {_plural(len(self.ids), 'row')}"
        return f"tag {_plural(len(self.ids), 'row')} as {self.tag!r}"


@register("edit.cell")
@dataclass(frozen=True, slots=True)
class EditCell(Step):
    """Set one cell: row `id`, `column`, from `old` to `new` (old kept for the record)."""

    row_id_fields = ("id",)
    id: int = 0
    column: str = ""
    old: Any = None
    new: Any = None

    def validate(self, schema: pl.Schema) -> None:
        require_columns(schema, self.column)
        if self.column == ID:
            raise StepError("The row id cannot be edited.")
        dtype = schema[self.column]
        if self.new is not None:
            try:
                pl.Series([self.new]).cast(dtype, strict=True)
            except Exception as exc:  # noqa: BLE001
                raise StepError(
                    f"{_short(self.new)!r} is not a valid value for {self.column} ({dtype})."
                ) from exc

    def apply(self, frame: pl.LazyFrame) -> pl.LazyFrame:
        if not self.column:
            return frame
        dtype = frame.collect_schema()[self.column]
        new = None if self.new is None else pl.Series([self.new]).cast(dtype, strict=True)[0]
        value = pl.lit(new, dtype=dtype)
        return frame.with_columns(
            pl.when(pl.col(ID) == self.id)
            .then(value)
            .otherwise(pl.col(self.column))
            .alias(self.column)
        )

    def describe(self) -> str:
        return f"edit {self.column} of row {self.id}: {_short(self.old)!s} → {_short(self.new)!s}"


_GROUP = re.compile(r"\$\$|\$\{[^}]*\}|\$(\d+|[A-Za-z_][A-Za-z0-9_]*)|\\(\d+)")


def replacement_for_polars(text: str) -> str:
    """Normalise a regex replacement: `\\1` and `$1` become `${1}`; `$$` stays a literal `$`."""

    def sub(match: re.Match[str]) -> str:
        token = match.group(0)
        if token == "$$" or token.startswith("${"):
            return token
        name = match.group(1) or match.group(2)
        return "${" + name + "}"

    return _GROUP.sub(sub, text)


def _check_pattern(find: str, regex: bool) -> None:
    if not find:
        raise StepError("Find what? The pattern is empty.")
    if regex:
        try:
            pl.Series([""], dtype=pl.String).str.replace_all(find, "", literal=False)
        except Exception as exc:  # noqa: BLE001
            first = str(exc).strip().splitlines()
            detail = next((line.strip() for line in first if line.strip().startswith("error:")), "")
            raise StepError(
                f"Not a valid regular expression: {find!r}"
                + (f" ({detail.removeprefix('error:').strip()})" if detail else "")
                + "."
            ) from exc


def _replace_expr(column: str, find: str, replace: str, regex: bool, case: bool) -> pl.Expr:
    col = pl.col(column)
    if not regex:
        if case:
            return col.str.replace_all(find, replace, literal=True)
        pattern = "(?i)" + re.escape(find)
        return col.str.replace_all(pattern, replace.replace("$", "$$"), literal=False)
    pattern = find if case else "(?i)" + find
    return col.str.replace_all(pattern, replacement_for_polars(replace), literal=False)


@register("edit.replace")
@dataclass(frozen=True, slots=True)
class Replace(Step):
    """Find and replace in a text column; literal by default, or a regex with `$1`/`\\1` groups."""

    column: str = ""
    find: str = ""
    replace: str = ""
    regex: bool = False
    case_sensitive: bool = True

    def validate(self, schema: pl.Schema) -> None:
        require_columns(schema, self.column)
        if schema[self.column] != pl.String:
            raise StepError(f"Column {self.column!r} does not hold text; replace works on text.")
        _check_pattern(self.find, self.regex)

    def expr(self) -> pl.Expr:
        return _replace_expr(self.column, self.find, self.replace, self.regex, self.case_sensitive)

    def apply(self, frame: pl.LazyFrame) -> pl.LazyFrame:
        if not self.column or not self.find:
            return frame
        return frame.with_columns(self.expr().alias(self.column))

    def describe(self) -> str:
        kind = "regex" if self.regex else "text"
        return f"replace {kind} {self.find!r} with {self.replace!r} in {self.column}"


def replace_preview(
    frame: pl.LazyFrame, step: Replace, *, limit: int = 50
) -> tuple[int, pl.DataFrame]:
    """(number of rows the replace changes, first `limit` of them as `_id`, before, after)."""
    step.validate(frame.collect_schema())
    changed = frame.select(
        pl.col(ID), pl.col(step.column).alias("before"), step.expr().alias("after")
    ).filter(pl.col("before") != pl.col("after"))
    count = changed.select(pl.len()).collect().item()
    return count, changed.head(limit).collect()
