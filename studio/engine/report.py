"""The quality report: figures measured on the loaded data, each linked to the rows behind it.

`build_report` is used by the Quality pane (in a worker), by `studio report` and by the data
card. Every figure carries the `_id`s of the rows behind it (capped) so the UI can open them.
"""

from __future__ import annotations

import html
import json
import math
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from studio.engine.lists import each_element
from studio.engine.progress import check_cancelled, report
from studio.engine.shape import Shape
from studio.engine.steps.base import ID

MAX_IDS = 10_000
MAX_BARS = 20
LABEL_ERROR_ROWS = 50_000
"""Label errors are searched among at most this many rows (a seeded sample beyond it)."""
SUSPECT_ROWS = 50
"""Likely label errors listed (lowest self-confidence first) in the pane and the report."""
SUSPECT_TEXT = 60
SUSPECTS_TITLE = "Likely label errors (lowest self-confidence first)"
LANGUAGE_SAMPLE = 2000
ESTIMATE_RULE = "≈ ceil(characters / 4)"


@dataclass
class Figure:
    key: str
    label: str
    value: Any
    detail: str = ""
    ids: list[int] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "value": self.value,
            "detail": self.detail,
            "rows": len(self.ids),
        }


@dataclass
class Section:
    title: str
    figures: list[Figure] = field(default_factory=list)
    table: list[dict[str, Any]] = field(default_factory=list)
    table_title: str = ""
    bars: list[tuple[str, float]] = field(default_factory=list)
    """(label, value) pairs drawn as a terminal bar chart or histogram."""

    def add(
        self,
        key: str,
        label: str,
        value: Any,
        detail: str = "",
        ids: pl.Series | list[int] | None = None,
    ) -> Figure:
        id_list = (
            []
            if ids is None
            else (
                ids.head(MAX_IDS).to_list() if isinstance(ids, pl.Series) else list(ids)[:MAX_IDS]
            )
        )
        fig = Figure(key, label, value, detail, [int(i) for i in id_list])
        self.figures.append(fig)
        return fig


@dataclass
class Report:
    name: str
    sections: list[Section]

    def figure(self, key: str) -> Figure | None:
        for section in self.sections:
            for fig in section.figures:
                if fig.key == key:
                    return fig
        return None

    @property
    def values(self) -> dict[str, Any]:
        return {f.key: f.value for s in self.sections for f in s.figures}

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "figures": self.values,
            "sections": [
                {
                    "title": s.title,
                    "figures": [f.to_json() for f in s.figures],
                    "table": s.table,
                    "table_title": s.table_title,
                    "bars": [list(b) for b in s.bars],
                }
                for s in self.sections
            ],
        }

    def to_markdown(self) -> str:
        lines = [f"# Quality report: {self.name}", ""]
        for s in self.sections:
            lines += [f"## {s.title}", "", "| figure | value | detail |", "|---|---|---|"]
            for f in s.figures:
                lines.append(f"| {_md(f.label)} | {_md(_fmt(f.value))} | {_md(f.detail)} |")
            lines.append("")
            if s.bars:
                width = max(len(str(b[0])) for b in s.bars)
                top = max((b[1] for b in s.bars), default=0) or 1
                lines.append("```")
                for label, value in s.bars:
                    lines.append(
                        f"{str(label):<{width}} {'█' * max(0, round(30 * value / top)):<30} {_fmt(value)}"
                    )
                lines += ["```", ""]
            if s.table:
                cols = list(s.table[0])
                if s.table_title:
                    lines += [f"### {s.table_title}", ""]
                lines += ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
                for row in s.table:
                    lines.append("| " + " | ".join(_md(_fmt(row[c])) for c in cols) + " |")
                lines.append("")
        return "\n".join(lines)

    def to_html(self) -> str:
        parts = [
            f"<!doctype html><meta charset='utf-8'><title>Quality report: {html.escape(self.name)}</title>",
            f"<h1>Quality report: {html.escape(self.name)}</h1>",
        ]
        for s in self.sections:
            parts.append(
                f"<h2>{html.escape(s.title)}</h2><table><tr><th>figure</th><th>value</th><th>detail</th></tr>"
            )
            for f in s.figures:
                parts.append(
                    f"<tr><td>{html.escape(f.label)}</td><td>{html.escape(_fmt(f.value))}</td><td>{html.escape(f.detail)}</td></tr>"
                )
            parts.append("</table>")
            if s.bars:
                top = max((b[1] for b in s.bars), default=0) or 1
                parts.append("<table>")
                for label, value in s.bars:
                    parts.append(
                        f"<tr><td>{html.escape(str(label))}</td><td><div style='background:#888;height:1em;width:{200 * value / top:.0f}px'></div></td><td>{html.escape(_fmt(value))}</td></tr>"
                    )
                parts.append("</table>")
            if s.table:
                cols = list(s.table[0])
                if s.table_title:
                    parts.append(f"<h3>{html.escape(s.table_title)}</h3>")
                parts.append(
                    "<table><tr>" + "".join(f"<th>{html.escape(c)}</th>" for c in cols) + "</tr>"
                )
                for row in s.table:
                    parts.append(
                        "<tr>"
                        + "".join(f"<td>{html.escape(_fmt(row[c]))}</td>" for c in cols)
                        + "</tr>"
                    )
                parts.append("</table>")
        return "\n".join(parts) + "\n"


def _shorten(value: Any, width: int = SUSPECT_TEXT) -> str:
    text = " ".join(str(value or "").split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return str(value)
        if 0 < abs(value) < 0.01:
            return f"{value:.2%}"
        return f"{value:.1%}" if 0 < abs(value) < 1 else f"{value:,.2f}".rstrip("0").rstrip(".")
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return "" if value is None else str(value)


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


# -- text of a row ---------------------------------------------------------------------------
def text_expr(shape: Shape, schema: pl.Schema) -> pl.Expr:
    """The row's main text as one string (conversations joined turn by turn)."""
    if (
        shape.kind in ("chat", "sharegpt")
        and shape.text
        and isinstance(schema.get(shape.text), pl.List)
    ):
        inner = schema[shape.text].inner  # type: ignore[union-attr]
        key = "content" if shape.kind == "chat" else "value"
        if isinstance(inner, pl.Struct) and key in [f.name for f in inner.fields]:
            return (
                pl.col(shape.text)
                .pipe(each_element, pl.element().struct.field(key).cast(pl.String).fill_null(""))
                .list.join("\n")
                .fill_null("")
            )
    if shape.kind == "alpaca":
        parts = [
            c
            for c, r in shape.roles.items()
            if r in ("instruction", "input", "output") and c in schema
        ]
        return pl.concat_str(
            [pl.col(c).cast(pl.String).fill_null("") for c in parts], separator="\n"
        )
    if shape.text and shape.text in schema:
        return pl.col(shape.text).cast(pl.String).fill_null("")
    strings = [n for n, t in schema.items() if t == pl.String and n != ID]
    return (
        pl.concat_str([pl.col(c).fill_null("") for c in strings], separator="\n")
        if strings
        else pl.lit("")
    )


def normalized_expr(expr: pl.Expr) -> pl.Expr:
    return (
        expr.str.to_lowercase()
        .str.replace_all(r"[^\w\s]", "")
        .str.replace_all(r"\s+", " ")
        .str.strip_chars()
    )


def _pct(values: pl.Series, q: float) -> int:
    v = values.quantile(q, interpolation="nearest")
    return int(v) if v is not None else 0


def histogram(values: pl.Series, buckets: int = 12) -> list[tuple[str, float]]:
    """Equal-width buckets over [0, p99] (the tail folded into the last bucket)."""
    if values.len() == 0:
        return []
    top = max(1, _pct(values, 0.99))
    width = max(1, math.ceil(top / buckets))
    idx = (values.clip(0, top) // width).clip(0, buckets - 1)
    counts = idx.value_counts().sort(idx.name)
    lookup = dict(zip(counts[idx.name].to_list(), counts["count"].to_list(), strict=False))
    return [
        (f"{i * width}-{(i + 1) * width - 1 if i < buckets - 1 else '…'}", float(lookup.get(i, 0)))
        for i in range(buckets)
    ]


# -- the report --------------------------------------------------------------------------------
def build_report(
    frame: pl.LazyFrame | pl.DataFrame,
    shape: Shape,
    *,
    name: str = "data",
    max_tokens: int | None = None,
    label_errors: bool = True,
    languages: bool = True,
    seed: int = 0,
) -> Report:
    data = frame.collect() if isinstance(frame, pl.LazyFrame) else frame
    schema = data.schema
    columns = [c for c in data.columns if c != ID]
    rows = data.height
    sections: list[Section] = []
    steps_total = 7
    report(0, steps_total, "overview")

    overview = Section("Overview")
    overview.add("rows", "Rows", rows)
    overview.add("columns", "Columns", len(columns), ", ".join(columns))
    overview.add(
        "shape",
        "Detected shape",
        shape.kind,
        f"text: {shape.text or '-'}, label: {shape.label or '-'}",
    )
    sections.append(overview)

    # empty fields
    empty = Section("Empty fields")
    any_empty = pl.lit(False)
    for c in columns:
        dtype = schema[c]
        if dtype == pl.String:
            cond = pl.col(c).is_null() | (pl.col(c).str.strip_chars() == "")
        elif isinstance(dtype, pl.List):
            cond = pl.col(c).is_null() | (pl.col(c).list.len() == 0)
        else:
            cond = pl.col(c).is_null()
        ids = data.filter(cond)[ID]
        any_empty = any_empty | cond
        if ids.len():
            empty.add(f"empty.{c}", f"Empty {c}", ids.len(), f"{ids.len() / rows:.1%} of rows", ids)
    all_empty = data.filter(any_empty)[ID]
    empty.add(
        "empty_rows",
        "Rows with an empty field",
        all_empty.len(),
        f"{all_empty.len() / max(rows, 1):.1%} of rows",
        all_empty,
    )
    sections.append(empty)
    check_cancelled()
    report(1, steps_total, "duplicates")

    # duplicates
    text = text_expr(shape, schema)
    keyed = data.select(ID, text.alias("__text")).with_columns(
        normalized_expr(pl.col("__text")).alias("__norm")
    )
    dups = Section("Duplicates")
    exact_ids = keyed.filter(
        pl.col("__text").is_duplicated() & ~pl.col("__text").is_first_distinct()
    )[ID]
    norm_ids = keyed.filter(
        pl.col("__norm").is_duplicated() & ~pl.col("__norm").is_first_distinct()
    )[ID]
    dups.add(
        "duplicate_rate",
        "Exact duplicate rate",
        exact_ids.len() / max(rows, 1),
        f"{exact_ids.len():,} rows repeat an earlier row",
        exact_ids,
    )
    dups.add(
        "normalized_duplicate_rate",
        "Normalized duplicate rate",
        norm_ids.len() / max(rows, 1),
        f"{norm_ids.len():,} rows (case, punctuation, whitespace ignored)",
        norm_ids,
    )
    near = _near_duplicates(data, shape, text)
    if near is not None:
        dups.add(
            "near_duplicate_rate",
            "Near-duplicate rate",
            near.len() / max(rows, 1),
            f"{near.len():,} rows (MinHash LSH, verified similarity ≥ 0.8)",
            near,
        )
    sections.append(dups)
    check_cancelled()
    report(2, steps_total, "labels")

    # labels
    if shape.label and shape.label in schema:
        labels = Section("Labels")
        dist = data.group_by(shape.label).len().sort("len", descending=True)
        counts = dist["len"].to_list()
        names = [str(v) for v in dist[shape.label].to_list()]
        labels.add("classes", "Classes", dist.height)
        labels.add("labelled_rows", "Labelled rows", int(data[shape.label].is_not_null().sum()))
        if counts:
            labels.add("smallest_class", "Smallest class", int(counts[-1]), names[-1])
            labels.add(
                "imbalance_ratio",
                "Imbalance ratio (largest / smallest)",
                counts[0] / max(counts[-1], 1),
                f"{names[0]} {counts[0]:,} / {names[-1]} {counts[-1]:,}",
            )
            if dist.height == 2:
                labels.add(
                    "binary_ratio",
                    "Positive / negative ratio",
                    counts[1] / max(counts[0], 1),
                    f"{names[1]} {counts[1]:,} : {names[0]} {counts[0]:,}",
                )
        labels.bars = [(n, float(c)) for n, c in zip(names, counts, strict=False)]
        conflicts = (
            keyed.with_columns(data[shape.label].cast(pl.String).alias("__label"))
            .filter(pl.col("__norm") != "")
            .filter(pl.col("__label").n_unique().over("__norm") > 1)
        )
        labels.add(
            "conflicting_labels",
            "Rows in conflicting-label groups",
            conflicts.height,
            f"{conflicts['__norm'].n_unique():,} texts carry more than one label",
            conflicts[ID],
        )
        if (
            label_errors
            and dist.height >= 2
            and int(counts[-1]) >= 2
            and shape.text
            and schema.get(shape.text) == pl.String
        ):
            from studio.engine.label_errors import find_label_errors

            pool = data if rows <= LABEL_ERROR_ROWS else data.sample(LABEL_ERROR_ROWS, seed=seed)
            found = find_label_errors(
                pool, text_expr_name(shape, schema, pool), shape.label, seed=seed
            )
            sus = found.suspects
            sampled = f" in a sample of {pool.height:,} rows" if pool.height < rows else ""
            labels.add(
                "label_noise",
                "Likely label errors (estimated noise)",
                found.noise_rate,
                f"{sus.height:,} suspects{sampled} from {found.folds}-fold TF-IDF + logistic regression",
                sus[ID],
            )
            text_col = text_expr_name(shape, schema, pool)
            shown = sus.head(SUSPECT_ROWS)
            texts = pool.filter(pl.col(ID).is_in(shown[ID].implode())).select(ID, text_col)
            text_of = dict(zip(texts[ID].to_list(), texts[text_col].to_list(), strict=True))
            labels.table_title = SUSPECTS_TITLE
            labels.table = [
                {
                    "row": int(r[ID]),
                    "given": r["given"],
                    "predicted": r["predicted"],
                    "self_confidence": round(r["self_confidence"], 3),
                    "margin": round(r["margin"], 3),
                    "text": _shorten(text_of.get(r[ID])),
                }
                for r in shown.iter_rows(named=True)
            ]
        sections.append(labels)
    check_cancelled()
    report(3, steps_total, "lengths")

    # lengths and tokens
    lengths = Section("Lengths and tokens")
    chars = keyed["__text"].str.len_chars()
    words = keyed["__text"].str.count_matches(r"\S+")
    for unit, series in (("chars", chars), ("words", words)):
        lengths.add(f"{unit}_p50", f"Length p50 ({unit})", _pct(series, 0.5))
        lengths.add(f"{unit}_p90", f"Length p90 ({unit})", _pct(series, 0.9))
        lengths.add(f"{unit}_p99", f"Length p99 ({unit})", _pct(series, 0.99))
        lengths.add(f"{unit}_max", f"Length max ({unit})", int(series.max() or 0))
    token_cols = [c for c in columns if c.startswith("tokens_") and schema[c].is_integer()]
    if token_cols:
        tokens = data.select(pl.sum_horizontal(token_cols)).to_series()
        estimated = False
        detail = "from " + ", ".join(token_cols)
    else:
        tokens = (chars + 3) // 4
        estimated = True
        detail = f"estimate: {ESTIMATE_RULE}, no tokenizer set"
    lengths.add("tokens_total", "Training tokens per epoch", int(tokens.sum()), detail)
    lengths.add("tokens_estimated", "Token counts are estimates", estimated, detail)
    lengths.add("tokens_p50", "Tokens p50", _pct(tokens, 0.5))
    lengths.add("tokens_p90", "Tokens p90", _pct(tokens, 0.9))
    lengths.add("tokens_p99", "Tokens p99", _pct(tokens, 0.99))
    lengths.add("tokens_max", "Tokens max", int(tokens.max() or 0))
    if max_tokens:
        over = data.filter(tokens > max_tokens)[ID]
        lengths.add("over_limit", f"Rows over {max_tokens:,} tokens", over.len(), detail, over)
    lengths.bars = histogram(tokens)
    sections.append(lengths)
    check_cancelled()
    report(4, steps_total, "flags")

    flag_cols = [c for c in columns if c.startswith("flag_") and schema[c] == pl.Boolean]
    if flag_cols:
        flags = Section("Quality flags")
        for c in flag_cols:
            ids = data.filter(pl.col(c).fill_null(False))[ID]
            flags.add(
                c,
                c.removeprefix("flag_").replace("_", " "),
                ids.len(),
                f"{ids.len() / max(rows, 1):.1%} of rows",
                ids,
            )
        sections.append(flags)
    report(5, steps_total, "languages")

    if languages and rows:
        mix = _language_mix(keyed, seed)
        if mix is not None:
            lang = Section("Language mix")
            total = sum(mix.values()) or 1
            for code, n in sorted(mix.items(), key=lambda kv: -kv[1])[:8]:
                lang.add(f"lang.{code}", code, n / total, f"{n:,} of {total:,} sampled rows")
            lang.bars = [
                (code, float(n)) for code, n in sorted(mix.items(), key=lambda kv: -kv[1])[:8]
            ]
            sections.append(lang)
    report(6, steps_total, "leaks")

    if "split" in schema:
        leaks = Section("Leaks between splits")
        grouped = keyed.with_columns(data["split"].cast(pl.String).alias("__split")).filter(
            pl.col("__norm") != ""
        )
        leak = grouped.filter(pl.col("__split").n_unique().over("__norm") > 1).filter(
            pl.col("__split") != "train"
        )
        leaks.add(
            "split_leaks",
            "Validation/test rows also in another split",
            leak.height,
            "normalized text match",
            leak[ID],
        )
        sections.append(leaks)
    report(steps_total, steps_total, "done")
    return Report(name, sections)


def text_expr_name(shape: Shape, schema: pl.Schema, pool: pl.DataFrame) -> str:
    """The text column label errors learn from (the main text column when it is a string)."""
    return shape.text if shape.text and schema.get(shape.text) == pl.String else shape.text or ""


def _near_duplicates(data: pl.DataFrame, shape: Shape, text: pl.Expr) -> pl.Series | None:
    """Ids of rows that near-duplicate an earlier row (the Clean pane's MinHash kernel)."""
    try:
        from studio.engine.dedup.minhash import near_duplicates
    except ImportError:
        return None
    if data.height < 2:
        return data[ID].head(0)
    clusters = near_duplicates(data.select(text).to_series(), data[ID].to_numpy())
    label = pl.Series("label", clusters.label)
    repeat = (label >= 0) & ~label.is_first_distinct()
    return data[ID].filter(repeat)


def _language_mix(keyed: pl.DataFrame, seed: int) -> dict[str, int] | None:
    try:
        import py3langid
    except ImportError:
        return None
    sample = keyed.filter(pl.col("__text").str.len_chars() >= 20)
    if sample.height > LANGUAGE_SAMPLE:
        sample = sample.sample(LANGUAGE_SAMPLE, seed=seed)
    counts: dict[str, int] = {}
    for t in sample["__text"].to_list():
        code, _ = py3langid.classify(t[:1000])
        counts[code] = counts.get(code, 0) + 1
    return counts


def figures_for_approach(rep: Report) -> dict[str, Any]:
    """The figures the Approach panel reads (a plain dict to keep modules decoupled)."""
    v = rep.values
    return {
        "rows": v.get("rows", 0),
        "labelled_rows": v.get("labelled_rows", 0),
        "classes": v.get("classes", 0),
        "smallest_class": v.get("smallest_class", 0),
        "smallest_class_name": (
            rep.figure("smallest_class").detail if rep.figure("smallest_class") else ""
        ),
        "imbalance_ratio": v.get("imbalance_ratio", 1.0),
        "train_tokens": v.get("tokens_total", 0),
        "tokens_estimated": bool(v.get("tokens_estimated", True)),
        "label_noise": v.get("label_noise"),
        "duplicate_rate": max(
            v.get("duplicate_rate", 0.0), v.get("normalized_duplicate_rate", 0.0)
        ),
        "shape": v.get("shape", "unknown"),
    }


_CACHE: dict[tuple[int, int], Report] = {}
_CACHE_LOCK = __import__("threading").Lock()


def token_limit(workspace: Any) -> int | None:
    """The token limit of the recipe's latest token step that has one (drop over or truncate
    to `max_tokens`), so the pane's "rows over the limit" uses the limit the user chose."""
    for step in reversed(list(workspace.recipe().steps)):
        limit = getattr(step, "max_tokens", 0)
        if limit and step.to_json()["step"].startswith("tokens."):
            return int(limit)
    return None


def report_for(workspace: Any, *, max_tokens: int | None = None) -> Report:
    """The report of a workspace's current data, computed once per change and shared by the
    Quality and Approach panes (call from a worker). The token limit defaults to the recipe's
    (`token_limit`)."""
    if max_tokens is None:
        max_tokens = token_limit(workspace)
    key = (id(workspace), workspace.generation)
    with _CACHE_LOCK:
        if key in _CACHE:
            return _CACHE[key]
        rep = build_report(
            workspace.frame,
            workspace.dataset.shape,
            name=workspace.dataset.name,
            max_tokens=max_tokens,
        )
        for old in [k for k in _CACHE if k[0] == key[0]]:
            del _CACHE[old]
        _CACHE[key] = rep
        return rep
