"""The data card written beside an export (`OUT.card.md`): where the rows came from, every step
with rows in and out, and the final figures (rows, columns, shape, labels, lengths, quality)."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from studio.engine.lists import each_element
from studio.engine.shape import detect_shape
from studio.engine.steps.base import ID

PERCENTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


@dataclass
class StepLine:
    description: str
    rows_in: int
    rows_out: int


@dataclass
class CardInput:
    title: str
    format_title: str
    sources: list[str]
    source_format: str
    source_rows: int
    source_problems: int
    steps: list[StepLine]
    files: list[tuple[str, int]]
    recipe_name: str
    data: pl.DataFrame
    """The rows exported, before mapping (all their columns), to compute the figures on."""
    output_schema: pl.Schema
    invalid_counts: dict[str, int] = field(default_factory=dict)
    skipped: int = 0
    tokens_note: str = ""
    figures: list[str] | None = None
    """Precomputed `figures(data)`; computed from `data` when None."""


def _cell(value: object, width: int = 60) -> str:
    text = "(null)" if value is None else str(value)
    text = text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")
    return text if len(text) <= width else text[: width - 1] + "…"


def _num(n: float | int | None) -> str:
    if n is None:
        return "—"
    if isinstance(n, float) and not n.is_integer():
        return f"{n:,.1f}"
    return f"{int(n):,}"


def _table(header: Sequence[str], rows: Sequence[Sequence[object]], align: str = "") -> list[str]:
    out = ["| " + " | ".join(header) + " |"]
    marks = [("---:" if a == "r" else "---") for a in (align or "l" * len(header))]
    out.append("| " + " | ".join(marks) + " |")
    out.extend("| " + " | ".join(str(c) for c in row) + " |" for row in rows)
    return out


def _lengths(data: pl.DataFrame, column: str) -> list[str]:
    dtype = data.schema[column]
    if isinstance(dtype, pl.List):
        inner = getattr(dtype, "inner", None)
        if isinstance(inner, pl.Struct):
            names = [f.name for f in inner.fields]
            key = "content" if "content" in names else "value" if "value" in names else None
            if key is None:
                return []
            lengths = data.select(
                pl.col(column)
                .pipe(each_element, pl.element().struct.field(key).cast(pl.String).str.len_chars())
                .list.sum()
                .alias("n")
            )["n"]
        else:
            return []
    else:
        lengths = data[column].cast(pl.String).str.len_chars()
    return _percentile_table(f"Length of `{column}` (characters)", lengths)


def _percentile_table(title: str, values: pl.Series) -> list[str]:
    values = values.drop_nulls()
    if values.len() == 0:
        return []
    cells = [_num(values.quantile(q, interpolation="nearest")) for q in PERCENTILES]
    cells += [_num(values.mean()), _num(values.max())]  # type: ignore[arg-type]
    return [
        f"### {title}",
        "",
        *_table(["p5", "p25", "median", "p75", "p95", "mean", "max"], [cells], "r" * 7),
        "",
    ]


def render_card(card: CardInput) -> str:
    now = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    data = card.data
    rows = sum(n for _, n in card.files)
    lines = [
        f"# Data card: {card.title}",
        "",
        f"Written {now} by Dataset Studio as {card.format_title}.",
        "",
        "## Source",
        "",
    ]
    for source in card.sources:
        lines.append(f"- `{source}`")
    lines += [
        f"- format {card.source_format}, {card.source_rows:,} rows loaded"
        + (f", {card.source_problems:,} problem lines skipped" if card.source_problems else ""),
        "",
        "## Steps",
        "",
    ]
    if card.steps:
        lines += _table(
            ["#", "step", "rows in", "rows out", "removed"],
            [
                [
                    i,
                    _cell(s.description, 120),
                    f"{s.rows_in:,}",
                    f"{s.rows_out:,}",
                    f"{s.rows_in - s.rows_out:,}",
                ]
                for i, s in enumerate(card.steps, start=1)
            ],
            "rlrrr",
        )
    else:
        lines.append("No steps: the rows were exported as loaded.")
    lines += [
        "",
        f"Replay: `studio run {card.recipe_name} SOURCE -o OUT` (the last step is the export mapping).",
        "",
        "## Output",
        "",
    ]
    lines += _table(["file", "rows"], [[f"`{name}`", f"{n:,}"] for name, n in card.files], "lr")
    lines += [
        "",
        f"- rows: {rows:,}",
        "- columns: " + ", ".join(f"`{n}` ({dtype})" for n, dtype in card.output_schema.items()),
    ]
    if card.invalid_counts:
        verb = "skipped" if card.skipped else "found"
        lines.append(
            f"- invalid rows {verb}: "
            + ", ".join(f"{n:,} {reason}" for reason, n in card.invalid_counts.items())
        )
    if card.tokens_note:
        lines.append(f"- {card.tokens_note}")
    lines += ["", "## Figures", ""]
    lines += card.figures if card.figures is not None else figures(data)
    return "\n".join(lines)


def figures(data: pl.DataFrame) -> list[str]:
    """The figures section (shape, labels, lengths, tokens, quality) for the exported rows.

    Separate from `render_card` so the exporter can compute it while the file is written."""
    lines: list[str] = []
    shape = detect_shape(data.drop(ID, strict=False)) if data.width else None
    if shape is not None:
        lines.append(
            f"- shape: {shape.kind}"
            + (f" (text `{shape.text}`" if shape.text else "")
            + (f", label `{shape.label}`)" if shape.label else (")" if shape.text else ""))
        )
        lines.append("")
        if shape.label and shape.label in data.columns:
            counts = data[shape.label].cast(pl.String).value_counts(sort=True, name="rows").head(30)
            total = max(data.height, 1)
            lines += [f"### Labels (`{shape.label}`)", ""]
            lines += _table(
                ["label", "rows", "share"],
                [[_cell(v), f"{n:,}", f"{n / total:.1%}"] for v, n in counts.iter_rows()],
                "lrr",
            )
            if data[shape.label].n_unique() > 30:
                lines.append(f"\n({data[shape.label].n_unique():,} labels; the 30 largest shown)")
            lines.append("")
        if shape.text and shape.text in data.columns:
            lines += _lengths(data, shape.text)
    for col in [c for c in data.columns if c.startswith("tokens_")]:
        if data.schema[col].is_numeric():
            lines += _percentile_table(f"Tokens (`{col}`)", data[col])
    lines += ["### Quality", ""]
    quality: list[str] = []
    if shape is not None and shape.text and shape.text in data.columns:
        text = data[shape.text]
        if text.dtype == pl.String:
            short = text.fill_null("").filter(text.fill_null("").str.len_bytes() < 256)
            empty = int(short.str.contains(r"^\s*$").sum())
            quality.append(f"- empty `{shape.text}`: {empty:,}")
        dup = data.height - data.select(pl.col(shape.text).hash().n_unique()).item()
        quality.append(f"- exact duplicate `{shape.text}` values: {dup:,}")
    nulls = data.drop(ID, strict=False).null_count()
    with_nulls = [(c, nulls[c][0]) for c in nulls.columns if nulls[c][0]]
    quality.append(
        "- missing values: "
        + (", ".join(f"`{c}` {n:,}" for c, n in with_nulls) if with_nulls else "none")
    )
    lines += quality
    lines.append("")
    return lines


def relative_name(path: Path, base: Path) -> str:
    try:
        return str(path.relative_to(base))
    except ValueError:
        return str(path)
