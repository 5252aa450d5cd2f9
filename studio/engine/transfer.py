"""Transfer learning stages: stage 1 (the source task or tasks) and stage 2 (the target task),
written separately, with the target's evaluation rows checked against stage 1 for leaks.

- Stage 1: the source datasets combined onto one common shape with a `task` column
  (`studio.engine.sources.combine`, the same code the mixture uses).
- Stage 2: the target (the current dataset) split into train / validation / test by `ratios`
  (seeded, stratified by its label column when it has one; `split.assign`'s algorithm). With a
  separate test file the target is split into train / validation only and the test file is
  the test set. A target that already has a `split` column keeps it.
- Leaks: every validation and test row of stage 2 is compared with every stage-1 row on their
  input text (the instruction and input, the user turns of a conversation, or the main text
  column): exact (same text), normalized (same text after case, whitespace and punctuation
  folding; `dedup.normalized_keys`) and near (MinHash LSH + rapidfuzz verification;
  `dedup.near_duplicates`). The leaking stage-1 rows are removed and listed in `leaks.jsonl`.
- Summary per stage: rows, tokens (a tokenizer, or the labelled chars/4 estimate), tasks and
  the label set (the label column, or the outputs when they look like labels: at most
  `MAX_LABELS` distinct values), and the label overlap between the stages.

Outputs in DIR: `stage1/train.<ext>`, `stage2/{train,validation,test}.<ext>`, `leaks.jsonl`,
`summary.json` and `transfer.recipe.json` (the target's steps plus the `transfer.stages` step),
written all or nothing.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from studio.engine.errors import StepError, WriteError
from studio.engine.lists import each_element
from studio.engine.progress import check_cancelled, report
from studio.engine.steps.base import ID

if TYPE_CHECKING:
    from studio.engine.dataset import Dataset
    from studio.engine.recipe import Recipe
    from studio.engine.steps.transfer import TransferStages
    from studio.engine.tokens import TokenCounter

SPLIT = "split"
EVAL_SPLITS = ("validation", "test")
MAX_LABELS = 50
FORMATS = {"jsonl": ".jsonl", "parquet": ".parquet", "csv": ".csv"}
CHECKS = ("exact", "normalized", "near")


# -- texts ---------------------------------------------------------------------------------------
def _conversation_inputs(column: str, dtype: pl.DataType) -> pl.Expr:
    inner = dtype.inner  # type: ignore[union-attr]
    names = [f.name for f in inner.fields]
    role = "role" if "role" in names else "from"
    content = "content" if "content" in names else "value"
    return (
        pl.col(column)
        .pipe(
            each_element,
            pl.element()
            .filter(pl.element().struct.field(role).cast(pl.String).is_in(["user", "human"]))
            .struct.field(content)
            .cast(pl.String),
        )
        .list.join("\n")
    )


def input_text(frame: pl.LazyFrame) -> pl.Expr:
    """The input text of each row, by the detected shape (what a leak check compares)."""
    from studio.engine.fewshot import _columns_of, _is_conversation, default_fields
    from studio.engine.shape import detect_shape
    from studio.engine.steps.filter import text_of

    schema = frame.collect_schema()
    shape = detect_shape(frame)
    source, _ = default_fields(shape, schema)
    columns = [c for c in _columns_of(source, schema) if c in schema]
    if not columns:
        raise StepError("Cannot tell which column holds the input text of this data.")
    parts = [
        _conversation_inputs(c, schema[c])
        if _is_conversation(schema[c])
        else text_of(c, schema[c]).fill_null("")
        for c in columns
    ]
    if len(parts) == 1:
        return parts[0].fill_null("")
    blanks = [pl.when(p.str.strip_chars() == "").then(None).otherwise(p) for p in parts]
    return pl.concat_str(blanks, separator="\n\n", ignore_nulls=True).fill_null("")


def full_text(schema: pl.Schema) -> pl.Expr:
    """All text of a row (for token counts): every column but `_id`, `task` and `split`."""
    from studio.engine.steps.filter import text_of

    parts = [
        text_of(n, t).fill_null("")
        for n, t in schema.items()
        if n not in (ID, "task", SPLIT) and not t.is_numeric()
    ]
    if not parts:
        return pl.lit("")
    return pl.concat_str(parts, separator="\n").fill_null("")


def label_values(frame: pl.DataFrame) -> tuple[str, list[str]]:
    """(where the labels come from, the sorted label set), or ("", []) for free text."""
    from studio.engine.fewshot import _values, default_fields
    from studio.engine.shape import detect_shape

    shape = detect_shape(frame)
    candidates: list[tuple[str, list[str]]] = []
    if shape.label and shape.label in frame.columns and shape.label != "task":
        values = frame[shape.label].cast(pl.String).fill_null("(none)").to_list()
        candidates.append((shape.label, values))
    _, output = default_fields(shape, frame.schema)
    if output and not candidates:
        candidates.append((output, _values(frame, output, "output")))
    for name, values in candidates:
        distinct = sorted(set(values))
        if values and len(distinct) <= MAX_LABELS and len(distinct) <= max(2, len(values) // 2):
            return name, distinct
    return "", []


# -- stage 2 -------------------------------------------------------------------------------------
def split_target(frame: pl.DataFrame, step: TransferStages) -> tuple[pl.DataFrame, str]:
    """The target with a `split` column, and a note on how it was split."""
    from studio.engine.steps.split import SPLITS, assign_splits

    if SPLIT in frame.columns and not step.test:
        values = set(frame[SPLIT].cast(pl.String).drop_nulls().unique().to_list())
        if values and values <= set(SPLITS):
            return frame, "the target's own split column"
    ratios = tuple(step.ratios)
    if step.test and len(ratios) == 3:
        total = ratios[0] + ratios[1]
        ratios = (ratios[0] / total, ratios[1] / total) if total > 0 else (0.9, 0.1)
    stratify = step.stratify
    if stratify == "auto":
        from studio.engine.shape import detect_shape

        label = detect_shape(frame).label
        stratify = label if label and label in frame.columns else ""
    index = assign_splits(frame, ratios=ratios, stratify=stratify, seed=step.seed)
    names = pl.Series(SPLIT, [*SPLITS, None], dtype=pl.String)
    out = frame.drop(SPLIT, strict=False).with_columns(names.gather(index.astype(np.uint32)))
    out = out.filter(pl.col(SPLIT).is_not_null())
    how = "/".join(f"{r:g}" for r in ratios)
    strat = f", stratified by {stratify}" if stratify else ""
    return out, f"split {how}{strat} (seed {step.seed})"


# -- leaks ---------------------------------------------------------------------------------------
def find_leaks(
    stage1: pl.DataFrame,
    stage1_text: pl.Series,
    evaluation: pl.DataFrame,
    eval_text: pl.Series,
    *,
    check: str = "near",
    threshold: float = 0.5,
    similarity: float = 0.8,
) -> pl.DataFrame:
    """Stage-1 rows that duplicate an evaluation row: `_id`, `kind`, `eval_index` (the
    evaluation row's position), `stage1_index`; the first kind found wins (exact, then normalized, then near)."""
    from studio.engine.dedup.exact import blank_rows, normalized_keys

    if check not in CHECKS:
        raise StepError(f"Leak check is {', '.join(CHECKS)}.")
    empty = pl.DataFrame(
        schema={ID: pl.UInt64, "kind": pl.String, "eval_index": pl.Int64, "stage1_index": pl.Int64}
    )
    if stage1.height == 0 or evaluation.height == 0:
        return empty
    found: dict[int, tuple[str, int]] = {}

    def add(positions: np.ndarray, partners: np.ndarray, kind: str) -> None:
        for pos, partner in zip(positions.tolist(), partners.tolist(), strict=True):
            found.setdefault(pos, (kind, partner))

    def by_keys(left: np.ndarray, right: np.ndarray, kind: str) -> None:
        # rows with no text match nothing (an empty input is not a copy of another)
        first: dict[int, int] = {}
        for i, key in enumerate(right.tolist()):
            if not ev_blank[i]:
                first.setdefault(key, i)
        hits = [
            (i, first[k]) for i, k in enumerate(left.tolist()) if k in first and not s1_blank[i]
        ]
        if hits:
            pos, partner = zip(*hits, strict=True)
            add(np.asarray(pos), np.asarray(partner), kind)

    report(0, 3, "exact leaks")
    s1 = stage1_text.fill_null("")
    ev = eval_text.fill_null("")
    s1_blank = blank_rows(s1.to_frame("t"), ["t"])
    ev_blank = blank_rows(ev.to_frame("t"), ["t"])
    by_keys(s1.hash(seed=1).to_numpy(), ev.hash(seed=1).to_numpy(), "exact")
    check_cancelled()
    if check in ("normalized", "near"):
        report(1, 3, "normalized leaks")
        # one call: keys are comparable only within a call (unique rows get cheap stand-ins)
        both = normalized_keys(pl.concat([s1, ev]))
        by_keys(both[: len(s1)], both[len(s1) :], "normalized")
    check_cancelled()
    if check == "near":
        from studio.engine.dedup.minhash import MinHashConfig, near_duplicates

        report(2, 3, "near leaks")
        texts = pl.concat([ev, s1])
        clusters = near_duplicates(
            texts, config=MinHashConfig(threshold=threshold, similarity=similarity)
        )
        label = clusters.label
        n_eval = len(ev)
        eval_label, s1_label = label[:n_eval], label[n_eval:]
        first_eval = np.full(max(clusters.count, 1), -1, dtype=np.int64)
        members = np.flatnonzero(eval_label >= 0)[::-1]
        first_eval[eval_label[members]] = members
        hit = (s1_label >= 0) & (first_eval[np.maximum(s1_label, 0)] >= 0)
        pos = np.flatnonzero(hit)
        add(pos, first_eval[s1_label[pos]], "near")
    report(3, 3, "leaks checked")
    if not found:
        return empty
    positions = sorted(found)
    return pl.DataFrame(
        {
            ID: stage1[ID].gather(positions),
            "kind": [found[p][0] for p in positions],
            "eval_index": [found[p][1] for p in positions],
            "stage1_index": positions,
        },
        schema={ID: pl.UInt64, "kind": pl.String, "eval_index": pl.Int64, "stage1_index": pl.Int64},
    )


# -- the plan --------------------------------------------------------------------------------------
@dataclass
class StageSummary:
    name: str
    rows: int
    tokens: int
    splits: dict[str, int]
    tasks: list[str]
    label_column: str
    labels: list[str]

    def to_json(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "tokens": self.tokens,
            "splits": self.splits,
            "tasks": self.tasks,
            "label_column": self.label_column,
            "labels": self.labels,
        }


@dataclass
class TransferPlan:
    stage1: pl.DataFrame  # kept stage-1 rows (common shape, `task`)
    stage2: pl.DataFrame  # target rows with `split` (and test-file rows when given)
    leaks: pl.DataFrame  # removed stage-1 rows: source, task, kind, eval split and source
    summaries: list[StageSummary]
    overlap: dict[str, Any]
    tokenizer_label: str
    estimate: bool
    split_note: str
    schema_lines: list[str] = field(default_factory=list)

    def summary_json(self) -> dict[str, Any]:
        return {
            "stage1": self.summaries[0].to_json(),
            "stage2": self.summaries[1].to_json(),
            "label_overlap": self.overlap,
            "leaks": {
                "removed": self.leaks.height,
                "by_kind": {
                    str(k): int(n)
                    for k, n in self.leaks.group_by("kind").len().sort("kind").iter_rows()
                },
            },
            "tokenizer": self.tokenizer_label,
            "tokens_estimated": self.estimate,
            "stage2_split": self.split_note,
        }

    def table(self) -> list[tuple[str, str, str]]:
        """(figure, stage 1, stage 2) rows for a printed or on-screen table."""
        s1, s2 = self.summaries
        kind = "≈ " if self.estimate else ""

        def labels(s: StageSummary) -> str:
            if not s.labels:
                return "(free text)"
            shown = ", ".join(s.labels[:8]) + (" …" if len(s.labels) > 8 else "")
            return f"{len(s.labels)}: {shown}"

        def splits(s: StageSummary) -> str:
            return ", ".join(f"{k} {v:,}" for k, v in s.splits.items())

        return [
            ("rows", f"{s1.rows:,}", f"{s2.rows:,}"),
            ("splits", splits(s1), splits(s2)),
            ("tokens", f"{kind}{s1.tokens:,}", f"{kind}{s2.tokens:,}"),
            ("tasks", ", ".join(s1.tasks) or "-", ", ".join(s2.tasks) or "-"),
            ("labels", labels(s1), labels(s2)),
            (
                "label overlap",
                f"{len(self.overlap['shared'])} shared",
                f"jaccard {self.overlap['jaccard']:.2f}",
            ),
            ("leaks removed", f"{self.leaks.height:,} stage-1 rows", ""),
        ]

    def table_text(self) -> str:
        rows = [("", "stage 1", "stage 2"), *self.table()]
        widths = [max(len(r[i]) for r in rows) for i in range(3)]
        return "\n".join(
            "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(r)).rstrip() for r in rows
        )


def label_overlap(first: list[str], second: list[str]) -> dict[str, Any]:
    a, b = set(first), set(second)
    union = a | b
    return {
        "shared": sorted(a & b),
        "only_stage1": sorted(a - b),
        "only_stage2": sorted(b - a),
        "jaccard": round(len(a & b) / len(union), 4) if union else 0.0,
    }


def _tokens(frame: pl.DataFrame, counter: TokenCounter) -> int:
    if frame.height == 0:
        return 0
    texts = frame.select(full_text(frame.schema).alias("__t"))["__t"].to_list()
    total = 0
    for lo in range(0, len(texts), 16_384):
        check_cancelled()
        total += sum(counter.count(texts[lo : lo + 16_384]))
    return total


def _summary(name: str, frame: pl.DataFrame, counter: TokenCounter) -> StageSummary:
    splits = (
        {str(k): int(n) for k, n in frame.group_by(SPLIT).len().iter_rows() if k is not None}
        if SPLIT in frame.columns
        else {"train": frame.height}
    )
    order = ("train", "validation", "test")
    splits = {
        k: splits[k]
        for k in sorted(
            splits, key=lambda s: (s not in order, order.index(s) if s in order else 0, s)
        )
    }
    tasks = (
        sorted(frame["task"].cast(pl.String).unique().to_list()) if "task" in frame.columns else []
    )
    body = frame.drop(SPLIT, strict=False)
    column, labels = label_values(body)
    return StageSummary(name, frame.height, _tokens(body, counter), splits, tasks, column, labels)


def plan_transfer(target: Dataset, frame: pl.LazyFrame, step: TransferStages) -> TransferPlan:
    """Combine the sources, split the target, find and remove leaks, summarise."""
    from studio.engine.io import load_dataset
    from studio.engine.sources import combine, parse_source_arg, require_sources
    from studio.engine.tokens import load_tokenizer

    if not step.sources:
        raise StepError("Name at least one stage-1 source.")
    report(0, 5, "combining the stage-1 sources")
    combined = combine([parse_source_arg(s) for s in step.sources], shape=step.shape)
    require_sources(combined)
    stage1 = combined.dataset.frame.collect()
    check_cancelled()
    report(1, 5, "splitting the target")
    stage2, note = split_target(frame.collect(), step)
    evaluation = stage2.filter(pl.col(SPLIT).is_in(list(EVAL_SPLITS)))
    eval_sources = target.source_ids(evaluation[ID])
    if step.test:
        test = load_dataset(step.test)
        test_rows = test.frame.collect()
        if SPLIT in test_rows.columns:
            test_rows = test_rows.drop(SPLIT)
        test_rows = test_rows.with_columns(pl.lit("test").alias(SPLIT))
        stage2 = pl.concat([stage2, test_rows], how="diagonal_relaxed")
        evaluation = pl.concat([evaluation, test_rows], how="diagonal_relaxed")
        eval_sources = pl.concat([eval_sources, test.source_ids(test_rows[ID])])
        note += f"; test set from {Path(step.test).name}"
    check_cancelled()
    report(2, 5, "checking stage 1 against the target's evaluation rows")
    s1_text = stage1.select(input_text(stage1.lazy()).alias("__t"))["__t"]
    ev_text = evaluation.select(input_text(evaluation.lazy()).alias("__t"))["__t"]
    found = find_leaks(
        stage1,
        s1_text,
        evaluation,
        ev_text,
        check=step.check,
        threshold=step.threshold,
        similarity=step.similarity,
    )
    leaks = found.join(stage1.select(ID, "task"), on=ID, how="left").with_columns(
        combined.dataset.source_ids(found[ID]).alias("source"),
        evaluation[SPLIT].gather(found["eval_index"]).alias("eval_split"),
        eval_sources.gather(found["eval_index"]).alias("eval_source"),
        s1_text.gather(found["stage1_index"]).alias("text"),
    )
    kept = stage1.join(found.select(ID), on=ID, how="anti", maintain_order="left")
    report(3, 5, "counting tokens")
    counter = load_tokenizer(step.tokenizer)
    summaries = [_summary("stage 1", kept, counter), _summary("stage 2", stage2, counter)]
    report(5, 5, "done")
    return TransferPlan(
        stage1=kept,
        stage2=stage2,
        leaks=leaks.select("source", "task", "kind", "eval_split", "eval_source", "text"),
        summaries=summaries,
        overlap=label_overlap(summaries[0].labels, summaries[1].labels),
        tokenizer_label=counter.label,
        estimate=counter.estimate,
        split_note=note,
        schema_lines=combined.report.lines(),
    )


# -- writing -------------------------------------------------------------------------------------
@dataclass
class TransferResult:
    folder: Path
    files: list[Path]
    plan: TransferPlan

    def summary(self) -> str:
        s1, s2 = self.plan.summaries
        return (
            f"wrote stage 1 ({s1.rows:,} rows, {self.plan.leaks.height:,} leaking rows removed) "
            f"and stage 2 ({s2.rows:,} rows) to {self.folder}"
        )


def output_paths(folder: Path, fmt: str, splits: list[str]) -> list[Path]:
    ext = FORMATS[fmt]
    return [
        folder / "stage1" / f"train{ext}",
        *(folder / "stage2" / f"{s}{ext}" for s in splits),
        folder / "leaks.jsonl",
        folder / "summary.json",
        folder / "transfer.recipe.json",
    ]


def existing_targets(folder: str | Path, fmt: str = "jsonl") -> list[Path]:
    return [
        p for p in output_paths(Path(folder), fmt, ["train", "validation", "test"]) if p.exists()
    ]


def _data_bytes(frame: pl.DataFrame, fmt: str) -> bytes:
    import io

    from studio.engine.io.export_writers import csv_bytes, ndjson_bytes

    data = frame.drop(ID, strict=False)
    if fmt == "csv":
        return csv_bytes(data, header=True)
    if fmt == "parquet":
        buffer = io.BytesIO()
        data.write_parquet(buffer)
        return buffer.getvalue()
    return ndjson_bytes(data)


def write_transfer(
    target: Dataset,
    frame: pl.LazyFrame,
    step: TransferStages,
    folder: str | Path,
    *,
    force: bool = False,
    recipe: Recipe | None = None,
    plan: TransferPlan | None = None,
) -> TransferResult:
    """Write both stages, the leaks, the summary and the recipe into `folder` (all or nothing)."""
    from studio.engine.io.export_writers import OutputGroup
    from studio.engine.recipe import Recipe

    folder = Path(folder)
    if step.format not in FORMATS:
        raise StepError(f"Unknown format {step.format!r}; use {', '.join(FORMATS)}.")
    if folder.exists() and not folder.is_dir():
        raise WriteError(f"{folder} is a file; choose a folder for the stages.")
    if not force:
        existing = existing_targets(folder, step.format)
        if existing:
            raise WriteError(f"{existing[0]} already exists; pass --force to overwrite it.")
    plan = plan or plan_transfer(target, frame, step)
    check_cancelled()
    splits = list(plan.summaries[1].splits)
    paths = output_paths(folder, step.format, splits)
    try:
        (folder / "stage1").mkdir(parents=True, exist_ok=True)
        (folder / "stage2").mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WriteError(f"Cannot create the folder {folder} ({exc.strerror or exc}).") from exc
    full = Recipe(
        steps=[*(recipe.steps if recipe else []), step],
        source=dict(recipe.source)
        if recipe and recipe.source
        else {"paths": list(target.paths), "options": dict(target.options)},
        restored=dict(recipe.restored) if recipe else {},
    )
    payloads: list[bytes] = [_data_bytes(plan.stage1, step.format)]
    for split in splits:
        payloads.append(
            _data_bytes(plan.stage2.filter(pl.col(SPLIT) == split).drop(SPLIT), step.format)
        )
    payloads.append(_data_bytes(plan.leaks, "jsonl"))
    payloads.append(
        (json.dumps(plan.summary_json(), indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    )
    payloads.append(full.dumps().encode("utf-8"))
    group = OutputGroup()
    try:
        for path, payload in zip(paths, payloads, strict=True):
            tmp = group.file(path)
            with open(tmp, "wb") as handle:
                handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())
            check_cancelled()
    except BaseException:
        group.rollback()
        raise
    group.commit()
    return TransferResult(folder=folder, files=paths, plan=plan)
