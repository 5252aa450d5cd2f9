"""Multi-task mixtures: how many rows each task gets, the sampling, a preview, cross-task leaks.

Rules (`n_t` = rows of task t, `L_t = floor(n_t * max_repeat)` = the most rows task t may give):

- `counts`: task t gets `counts[t]` rows.
- `percent`: rate `r_t = w_t / sum(w)` (weights are shares or percentages).
- `proportional`: examples-proportional with a per-task cap K (T5): `r_t = min(n_t, K) / S`,
  `S = sum(min(n_s, K))`; without a total each task gets `min(n_t, K)` rows (`K = 0`: no cap).
- `temperature`: `r_t ∝ min(n_t, K)^(1/T)` (`T = 1` is proportional, large T is uniform).

For the rate rules the quota of task t is `total * r_t`, rounded by largest remainder so the
quotas sum to the total and each is within one row of `total * r_t`; a quota above `L_t` is cut
to `L_t`. Without `total`, the total is the largest one no task's quota exceeds its `L_t` at
(`proportional` without total: `S`). Tasks not named by `counts` / `percent` get no rows.

Sampling is seeded: a task with more rows than its quota is subsampled without replacement
(rows keep their order); a task with fewer is taken whole `q // n` times plus a random
`q % n` of its rows, and the repeated rows get fresh `_id`s and a `copy_of` column naming the
original (as `balance.over` does). Rows whose task is null are kept as they are.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from studio.engine.errors import StepError, StudioError
from studio.engine.lists import each_element
from studio.engine.steps.base import ID

RULES = ("counts", "percent", "proportional", "temperature")
COPY_OF = "copy_of"


# -- the formula -------------------------------------------------------------------------------


def parse_weights(text: str | Mapping[str, float]) -> dict[str, float]:
    """`qa=0.5,summarize=0.5` (or percentages `qa=70,sum=30`) -> {task: weight}."""
    if isinstance(text, Mapping):
        return {str(k): float(v) for k, v in text.items()}
    out: dict[str, float] = {}
    for part in str(text).split(","):
        if not part.strip():
            continue
        name, sep, value = part.rpartition("=")
        if not sep or not name.strip():
            raise StudioError(f"Bad weight {part!r}: use TASK=WEIGHT, e.g. qa=0.5,summarize=0.5.")
        try:
            weight = float(value.strip().rstrip("%"))
        except ValueError:
            raise StudioError(f"Bad weight {part!r}: {value!r} is not a number.") from None
        if not math.isfinite(weight):
            raise StudioError(f"Bad weight {part!r}: weights must be finite numbers.")
        if weight < 0:
            raise StudioError(f"Bad weight {part!r}: weights must be zero or more.")
        if name.strip() in out:
            raise StudioError(f"Task {name.strip()!r} is named twice in {str(text)!r}.")
        out[name.strip()] = weight
    if not out:
        raise StudioError("No weights given: use TASK=WEIGHT, e.g. qa=0.5,summarize=0.5.")
    return out


def parse_counts(text: str | Mapping[str, int]) -> dict[str, int]:
    """`qa=1000,summarize=500` -> {task: rows}; counts are whole numbers of rows."""
    if isinstance(text, Mapping):
        return {str(k): int(v) for k, v in text.items()}
    out: dict[str, int] = {}
    for name, value in parse_weights(text).items():
        if value != int(value):
            raise StudioError(f"Bad count {name}={value:g}: a count is a whole number of rows.")
        out[name] = int(value)
    if any(part.strip().endswith("%") for part in str(text).split(",")):
        raise StudioError(
            f"Bad counts {str(text)!r}: a count is a number of rows, not a percentage "
            "(shares go with the weights rule)."
        )
    return out


def largest_remainder(quotas: Mapping[str, float], total: int) -> dict[str, int]:
    """Integers summing to `total`, each the floor or ceiling of its quota (Hamilton method).

    `quotas` must sum to `total` (up to float error)."""
    floors = {k: int(math.floor(q + 1e-9)) for k, q in quotas.items()}
    left = total - sum(floors.values())
    order = sorted(quotas, key=lambda k: (-(quotas[k] - floors[k]), k))
    for k in order[: max(left, 0)]:
        floors[k] += 1
    return floors


def rates(
    sizes: Mapping[str, int],
    rule: str,
    *,
    weights: Mapping[str, float] | None = None,
    cap: int = 0,
    temperature: float = 1.0,
) -> dict[str, float]:
    """The share of the mixture each task gets under a rate rule (sums to 1)."""
    if rule == "percent":
        w = {t: float((weights or {}).get(t, 0.0)) for t in sizes}
    elif rule in ("proportional", "temperature"):
        base = {t: float(min(n, cap) if cap > 0 else n) for t, n in sizes.items()}
        if rule == "temperature":
            if temperature <= 0:
                raise StepError("The temperature must be above 0.")
            w = {t: b ** (1.0 / temperature) if b > 0 else 0.0 for t, b in base.items()}
        else:
            w = base
    else:
        raise StepError(f"Unknown rate rule {rule!r}: use percent, proportional or temperature.")
    s = sum(w.values())
    if s <= 0:
        raise StepError("Every task would get a weight of 0: name at least one task with rows.")
    return {t: v / s for t, v in w.items()}


@dataclass(frozen=True)
class Plan:
    """Per-task targets of a mixture and how they came about."""

    sizes: dict[str, int]
    targets: dict[str, int]
    quotas: dict[str, float]  # the formula's exact (real) row count per task
    limits: dict[str, int]  # the most rows each task may give (max_repeat)
    total: int

    @property
    def limited(self) -> list[str]:
        return [t for t in self.targets if self.quotas[t] > self.limits[t] + 1e-9]


def plan_mixture(
    sizes: Mapping[str, int],
    rule: str,
    *,
    counts: Mapping[str, int] | None = None,
    weights: Mapping[str, float] | None = None,
    total: int = 0,
    cap: int = 0,
    temperature: float = 1.0,
    max_repeat: float = 1.0,
) -> Plan:
    """Targets per task (see the module docstring for the formulas)."""
    if rule not in RULES:
        raise StepError(f"Unknown mixture rule {rule!r}: use {', '.join(RULES)}.")
    if max_repeat < 1:
        raise StepError("max_repeat must be at least 1 (1: never repeat a row).")
    if total < 0 or cap < 0:
        raise StepError("The total and the cap must be 0 or more.")
    sizes = {str(t): int(n) for t, n in sizes.items()}
    limits = {t: int(math.floor(n * max_repeat + 1e-9)) for t, n in sizes.items()}
    if rule == "counts":
        wanted = {str(k): int(v) for k, v in (counts or {}).items()}
        unknown = sorted(set(wanted) - set(sizes))
        if unknown:
            raise StepError(f"No task named {unknown[0]!r}; tasks are: {', '.join(sizes)}.")
        if any(v < 0 for v in wanted.values()):
            raise StepError("Row counts must be 0 or more.")
        quotas = {t: float(wanted.get(t, 0)) for t in sizes}
        targets = {t: min(int(q), limits[t]) for t, q in quotas.items()}
        return Plan(sizes, targets, quotas, limits, int(sum(quotas.values())))
    if rule == "percent":
        unknown = sorted(set(weights or {}) - set(sizes))
        if unknown:
            raise StepError(f"No task named {unknown[0]!r}; tasks are: {', '.join(sizes)}.")
    r = rates(sizes, rule, weights=weights, cap=cap, temperature=temperature)
    if total <= 0:
        if rule == "proportional":
            total = int(sum(min(n, cap) if cap > 0 else n for n in sizes.values()))
        else:
            total = int(min(math.floor(limits[t] / r[t] + 1e-9) for t in r if r[t] > 0))
    quotas = {t: total * r[t] for t in sizes}
    rounded = largest_remainder(quotas, total)
    targets = {t: min(rounded[t], limits[t]) for t in sizes}
    return Plan(sizes, targets, quotas, limits, total)


# -- sampling ----------------------------------------------------------------------------------


def task_positions(series: pl.Series) -> tuple[list[str], list[np.ndarray]]:
    """Task names (sorted) and the row positions of each, in row order; null tasks left out."""
    from studio.engine.steps.balance import classes_of

    classes = classes_of(series.cast(pl.String))
    return [str(k) for k in classes.keys], classes.positions()


def sample_mixture(
    df: pl.DataFrame, column: str, targets: Mapping[str, int], seed: int
) -> pl.DataFrame:
    """Rows of `df` resampled to `targets[task]` rows per task (see the module docstring)."""
    from studio.engine.steps.balance import take_rows

    names, positions = task_positions(df[column])
    rng = np.random.default_rng(seed)
    keep = np.ones(df.height, dtype=bool)
    repeats: list[np.ndarray] = []
    for name, pos in zip(names, positions, strict=True):
        n = len(pos)
        want = int(targets.get(name, 0))
        if want >= n:
            extra = want - n
            if extra and n:
                full, rem = divmod(extra, n)
                parts = [np.tile(pos, full)] if full else []
                if rem:
                    parts.append(pos[np.sort(rng.choice(n, size=rem, replace=False))])
                repeats.append(np.concatenate(parts))
            continue
        keep[pos] = False
        if want > 0:
            keep[pos[rng.choice(n, size=want, replace=False)]] = True
    out = df if keep.all() else df.filter(pl.Series(keep))
    if not repeats:
        return out
    multiplicity = np.bincount(np.concatenate(repeats), minlength=df.height)
    # gather only from the rows that are repeated (a gather over the whole, many-chunked
    # frame would rechunk every column first)
    repeated = multiplicity > 0
    idx = np.repeat(np.arange(int(repeated.sum())), multiplicity[repeated])
    start = int(df[ID].max() or 0) + 1 if df.height else 0  # type: ignore[arg-type]
    out = _with_copy_of(out)
    # only the repeated rows get the column before the gather (on the whole frame it would
    # rebuild every column for nothing)
    copies = take_rows(_with_copy_of(df.filter(pl.Series(repeated))), idx).with_columns(
        pl.coalesce(COPY_OF, ID).alias(COPY_OF),
        pl.Series(ID, np.arange(start, start + len(idx), dtype=np.uint64)),
    )
    return pl.concat([out, copies.select(out.columns)])


def _with_copy_of(frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` with a UInt64 `copy_of` column (null when it had none)."""
    if COPY_OF in frame.columns:
        return frame.with_columns(pl.col(COPY_OF).cast(pl.UInt64))
    return frame.with_columns(pl.lit(None, dtype=pl.UInt64).alias(COPY_OF))


# -- preview -----------------------------------------------------------------------------------


def text_expr(schema: pl.Schema, exclude: Sequence[str] = ()) -> pl.Expr:
    """All the text of a row joined (text columns and conversation contents), for token counts
    and near-duplicate checks."""
    parts: list[pl.Expr] = []
    for name, dtype in schema.items():
        if name in (ID, COPY_OF) or name in exclude:
            continue
        if isinstance(dtype, pl.String):
            parts.append(pl.col(name).fill_null(""))
        elif isinstance(dtype, pl.List) and isinstance(dtype.inner, pl.Struct):
            fields = {f.name for f in dtype.inner.fields}
            content = "content" if "content" in fields else "value" if "value" in fields else None
            if content is not None:
                parts.append(
                    pl.col(name)
                    .pipe(each_element, pl.element().struct.field(content).cast(pl.String))
                    .list.join("\n")
                    .fill_null("")
                )
    if not parts:
        return pl.lit("")
    return pl.concat_str(parts, separator="\n")


def chars_expr(schema: pl.Schema, exclude: Sequence[str] = ()) -> pl.Expr:
    """Characters of all the text of a row (what `text_expr` joins, without building it)."""
    parts: list[pl.Expr] = []
    for name, dtype in schema.items():
        if name in (ID, COPY_OF) or name in exclude:
            continue
        if isinstance(dtype, pl.String):
            parts.append(pl.col(name).str.len_chars().fill_null(0).cast(pl.Float64))
        elif isinstance(dtype, pl.List) and isinstance(dtype.inner, pl.Struct):
            fields = {f.name for f in dtype.inner.fields}
            content = "content" if "content" in fields else "value" if "value" in fields else None
            if content is not None:
                parts.append(
                    pl.col(name)
                    .pipe(
                        each_element,
                        pl.element().struct.field(content).cast(pl.String).str.len_chars(),
                    )
                    .list.sum()
                    .fill_null(0)
                    .cast(pl.Float64)
                )
    if not parts:
        return pl.lit(0.0)
    return pl.sum_horizontal(parts)


@dataclass
class TaskMix:
    task: str
    rows_in: int
    rows_out: int
    share_rows: float
    tokens_out: float
    share_tokens: float
    epochs: float  # rows out / rows in: 2.0 means every row twice
    quota: float
    limited: bool


@dataclass
class MixPreview:
    tasks: list[TaskMix]
    rows_in: int
    rows_out: int
    tokens_out: float
    tokens_label: str  # the tokenizer, or the estimate's label
    estimated: bool
    notes: list[str] = field(default_factory=list)

    def table(self) -> list[tuple[str, ...]]:
        head = ("task", "rows in", "rows out", "% rows", "% tokens", "epochs")
        body = [
            (
                t.task,
                f"{t.rows_in:,}",
                f"{t.rows_out:,}" + (" *" if t.limited else ""),
                f"{100 * t.share_rows:.1f}",
                f"{100 * t.share_tokens:.1f}",
                f"{t.epochs:.2f}",
            )
            for t in self.tasks
        ]
        return [head, *body]

    def lines(self) -> list[str]:
        rows = self.table()
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        out = [
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(r, widths, strict=True))
            )
            for r in rows
        ]
        how = f", {self.tokens_label}" if self.estimated else f" ({self.tokens_label})"
        out.append(
            f"total: {self.rows_in:,} → {self.rows_out:,} rows, ~{self.tokens_out:,.0f} tokens{how}"
        )
        if any(t.limited for t in self.tasks):
            out.append("* cut to max_repeat passes over the task's rows")
        out.extend(self.notes)
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "rows_in": self.rows_in,
            "rows_out": self.rows_out,
            "tokens_out": self.tokens_out,
            "tokens": self.tokens_label,
            "estimated": self.estimated,
            "tasks": [t.__dict__ for t in self.tasks],
            "notes": list(self.notes),
        }


def tokens_per_row(
    frame: pl.LazyFrame, column: str, tokenizer: str | None = None, sample: int = 512
) -> tuple[dict[str, float], str, bool]:
    """Mean tokens per row of each task: a tokenizer over a sample of each task's rows, or the
    characters / 4 estimate over every row (labelled as an estimate)."""
    from studio.engine.tokens import load_tokenizer

    counter = load_tokenizer(tokenizer)
    schema = frame.collect_schema()
    text = text_expr(schema, exclude=(column,))
    if counter.estimate:
        from studio.engine.tokens import CHARS_PER_TOKEN

        means = (
            frame.group_by(pl.col(column).cast(pl.String))
            .agg((chars_expr(schema, (column,)) / CHARS_PER_TOKEN).mean().alias("m"))
            .collect()
        )
        return (
            {str(k): float(v or 0.0) for k, v in means.iter_rows()},
            counter.label,
            True,
        )
    rows = (
        frame.select(pl.col(column).cast(pl.String), text.alias("__text"))
        .filter(pl.int_range(pl.len()).over(column) < sample)
        .collect()
    )
    out: dict[str, float] = {}
    for (task,), part in rows.group_by(column):
        counts = counter.count(part["__text"].to_list())
        out[str(task)] = float(np.mean(counts)) if counts else 0.0
    return out, counter.label, False


def preview(
    frame: pl.LazyFrame, plan: Plan, column: str = "task", tokenizer: str | None = None
) -> MixPreview:
    """Rows and (estimated or counted) training tokens per task of the mixture `plan`."""
    means, label, estimated = tokens_per_row(frame, column, tokenizer)
    return preview_from(plan, means, label, estimated)


def preview_from(plan: Plan, means: Mapping[str, float], label: str, estimated: bool) -> MixPreview:
    """The preview from mean tokens per row of each task (pure arithmetic: the TUI recomputes
    it on every keystroke from means counted once in a worker)."""
    rows_out = sum(plan.targets.values())
    tokens = {t: plan.targets[t] * means.get(t, 0.0) for t in plan.sizes}
    total_tokens = sum(tokens.values())
    limited = set(plan.limited)
    tasks = [
        TaskMix(
            task=t,
            rows_in=n,
            rows_out=plan.targets[t],
            share_rows=plan.targets[t] / rows_out if rows_out else 0.0,
            tokens_out=tokens[t],
            share_tokens=tokens[t] / total_tokens if total_tokens else 0.0,
            epochs=plan.targets[t] / n if n else 0.0,
            quota=plan.quotas[t],
            limited=t in limited,
        )
        for t, n in plan.sizes.items()
    ]
    notes = []
    dropped = [t.task for t in tasks if t.rows_out == 0 and t.rows_in]
    if dropped:
        notes.append(f"no rows from: {', '.join(dropped)}")
    if tasks and all(t.rows_out == t.rows_in for t in tasks):
        notes.append(
            "every task keeps its rows as they are: set a cap K, a total, weights or a "
            "temperature to change the mixture"
        )
    return MixPreview(
        tasks=tasks,
        rows_in=sum(plan.sizes.values()),
        rows_out=rows_out,
        tokens_out=total_tokens,
        tokens_label=label,
        estimated=estimated,
        notes=notes,
    )


def task_sizes(frame: pl.LazyFrame | pl.DataFrame, column: str = "task") -> dict[str, int]:
    """Rows per task, in order of first appearance (null tasks left out)."""
    lazy = frame.lazy() if isinstance(frame, pl.DataFrame) else frame
    df = (
        lazy.select(pl.col(column).cast(pl.String))
        .drop_nulls()
        .group_by(column, maintain_order=True)
        .len()
        .collect()
    )
    return {str(k): int(v) for k, v in df.iter_rows()}


# -- cross-task leaks --------------------------------------------------------------------------


def cross_task_duplicates(
    df: pl.DataFrame,
    column: str = "task",
    fields: Sequence[str] = (),
    method: str = "exact",
    similarity: float = 0.8,
    threshold: float = 0.5,
) -> pl.DataFrame:
    """Rows that duplicate (exactly, or nearly) a row of ANOTHER task: `_id`, task, `dup_of`
    (the `_id` kept) and `dup_task`. In each group of duplicates the row of the task that comes
    first in row order is kept; duplicates inside one task are left alone."""
    from studio.engine.dedup.exact import blank_rows, exact_duplicates, normalized_keys

    empty = pl.DataFrame(
        schema={ID: pl.UInt64, column: pl.String, "dup_of": pl.UInt64, "dup_task": pl.String}
    )
    if df.height == 0:
        return empty
    schema = df.schema
    if fields:
        missing = [f for f in fields if f not in schema]
        if missing:
            raise StepError(f"No column named {missing[0]!r} to compare.")
        sub = pl.Schema({f: schema[f] for f in fields})
    else:
        sub = schema
    text = df.select(text_expr(sub, exclude=(column,)).alias("t"))["t"]
    ids = df[ID].cast(pl.UInt64).to_numpy()
    blank = blank_rows(text.to_frame(), [text.name])
    if method == "exact":
        clusters = exact_duplicates(text.hash(seed=0x5EED).to_numpy(), ids, blank)
    elif method == "normalized":
        clusters = exact_duplicates(normalized_keys(text), ids, blank)
    elif method == "near":
        from studio.engine.dedup.minhash import MinHashConfig, near_duplicates

        clusters = near_duplicates(
            text, ids, MinHashConfig(threshold=threshold, similarity=similarity)
        )
    else:
        raise StepError(f"Unknown method {method!r}: use exact, normalized or near.")
    label = clusters.label
    if not (label >= 0).any():
        return empty
    tasks = df[column].cast(pl.String).fill_null("")
    frame = pl.DataFrame(
        {
            ID: ids,
            column: tasks,
            "__c": label,
            "__pos": np.arange(df.height),
        }
    ).filter(pl.col("__c") >= 0)
    # the task kept in each cluster: the one of its first row
    first = (
        frame.sort("__pos")
        .group_by("__c", maintain_order=True)
        .agg(pl.col(column).first().alias("dup_task"), pl.col(ID).first().alias("dup_of"))
    )
    out = (
        frame.join(first, on="__c")
        .filter(pl.col(column) != pl.col("dup_task"))
        .sort("__pos")
        .select(ID, column, "dup_of", "dup_task")
    )
    return out.with_columns(pl.col(ID).cast(pl.UInt64), pl.col("dup_of").cast(pl.UInt64))
