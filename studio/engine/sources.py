"""Several datasets in one workspace: map each source onto a common shape and combine them.

A source is a file (or folder, or glob) with a task name, an optional mapping of common fields
onto its columns (when the detected shape is not enough) and its own recipe (steps, and rows of
theirs put back, as in `Recipe.restored`), applied before the mapping. `combine(specs)` loads
every source, applies its steps, maps its rows onto the common shape and stacks them into ONE
`Dataset` with a `task` column:

- common shape `alpaca`: `instruction`, `input`, `output` (text);
- common shape `chat`: `messages`, a list of `{role, content}` (OpenAI chat);
- `auto`: chat when any source is a conversation (chat or ShareGPT), else alpaca.

Common fields a mapping may name: `instruction`, `input`, `output`, `system` and `messages`
(aliases: user/prompt/question -> instruction, assistant/response/answer/completion -> output,
context -> input, conversations -> messages). Detected roles: alpaca columns as they are;
classification text -> instruction and label -> output; preference prompt -> instruction and
chosen -> output; a plain text column -> instruction; chat and ShareGPT conversations ->
messages (the alpaca shape keeps the first user turn and the first assistant turn).

Row ids stay unique and traceable: a source's rows get `_id = offset + their id in the source`,
where each source's offset starts past the previous source's largest id, so `Dataset.source_of`
still names the file and line of every row. When the sources change (one removed, or grown by
its recipe), `moved_ids` carries the combined recipe's row ids over to the new offsets.
Columns that do not map are reported (and dropped), fields that no column fills are reported
and left empty, column by column; only when no source maps at all does `combine` raise.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import polars as pl

from studio.engine.dataset import Dataset, Origin, Problem
from studio.engine.errors import LoadError, StudioError
from studio.engine.lists import each_element
from studio.engine.recipe import Recipe, parse_restored, restored_json, run_recipe
from studio.engine.shape import Shape, detect_shape
from studio.engine.steps.base import ID, Step

TASK = "task"
SHAPES = ("auto", "chat", "alpaca")
FIELDS = ("system", "instruction", "input", "output", "messages")
ALPACA_FIELDS = ("instruction", "input", "output")
CHAT_FIELDS = ("messages",)
ALIASES = {
    "user": "instruction",
    "prompt": "instruction",
    "question": "instruction",
    "query": "instruction",
    "assistant": "output",
    "response": "output",
    "answer": "output",
    "completion": "output",
    "context": "input",
    "conversations": "messages",
    "conversation": "messages",
}
_SYSTEM_NAMES = ("system", "system_prompt")
_SHAREGPT_ROLES = {"human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant"}
_MESSAGE = pl.Struct({"role": pl.String, "content": pl.String})


def field_name(name: str) -> str:
    """The common field a mapping key names (aliases resolved); raises on unknown names."""
    key = name.strip().lower()
    key = ALIASES.get(key, key)
    if key not in FIELDS:
        raise StudioError(
            f"Unknown common field {name!r}: use {', '.join(FIELDS)} "
            f"(or {', '.join(sorted(ALIASES))})."
        )
    return key


@dataclass(frozen=True, slots=True)
class SourceSpec:
    """One source of a combined workspace."""

    path: str
    task: str = ""  # defaults to the file stem
    mapping: tuple[tuple[str, str], ...] = ()  # common field <- source column
    steps: tuple[Step, ...] = ()  # the source's own recipe, applied before mapping
    options: tuple[tuple[str, Any], ...] = ()  # load options (see `load_dataset`)
    restored: tuple[tuple[int, tuple[int, ...]], ...] = ()
    """Rows of the source's own steps put back: (step index, ids in the source), sorted."""

    @property
    def recipe(self) -> Recipe:
        """The source's own recipe (its steps and the rows put back), on its own rows."""
        return Recipe(
            steps=list(self.steps),
            restored={k: v for k, v in self.restored if v and k < len(self.steps)},
        )

    @property
    def task_name(self) -> str:
        if self.task:
            return self.task
        name = Path(self.path.rstrip("/")).name
        return name.split(".")[0] or name or "task"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.path, "task": self.task_name}
        if self.mapping:
            out["mapping"] = dict(self.mapping)
        if self.steps:
            out["steps"] = [s.to_json() for s in self.steps]
        if self.options:
            out["options"] = dict(self.options)
        if self.restored:
            out["restored"] = restored_json(dict(self.restored))
        return out

    @classmethod
    def from_json(cls, data: Any) -> SourceSpec:
        if isinstance(data, str):
            return parse_source_arg(data)
        if not isinstance(data, dict) or "path" not in data:
            raise StudioError("A recipe source must be an object with a 'path'.")
        mapping = data.get("mapping") or {}
        return cls(
            path=str(data["path"]),
            task=str(data.get("task") or ""),
            mapping=tuple((field_name(k), str(v)) for k, v in dict(mapping).items()),
            steps=tuple(Step.from_json(s) for s in data.get("steps") or ()),
            options=tuple(sorted(dict(data.get("options") or {}).items())),
            restored=restored_of(parse_restored(data.get("restored"), "A source's")),
        )


def restored_of(restored: dict[int, tuple[int, ...]]) -> tuple[tuple[int, tuple[int, ...]], ...]:
    """`SourceSpec.restored` from a `Recipe.restored`-like dict (empty entries left out)."""
    return tuple((int(k), tuple(int(i) for i in v)) for k, v in sorted(restored.items()) if v)


_OPTIONS_START = re.compile(r":(?=[A-Za-z_][\w.]*=)")


def parse_source_arg(text: str) -> SourceSpec:
    """`PATH`, or `PATH:task=NAME`, with more `key=value` pairs after `,` or `:`.

    Keys: `task`, a common field (`output=answer` maps the column `answer` onto `output`), or
    `recipe=FILE` (the source's own recipe: the steps of a saved recipe, and its rows put back).
    """
    match = _OPTIONS_START.search(text)
    if match is None:
        path, rest = text, ""
    else:
        path, rest = text[: match.start()], text[match.end() :]
    if not path:
        raise StudioError(f"No path in source {text!r}.")
    task = ""
    mapping: list[tuple[str, str]] = []
    steps: tuple[Step, ...] = ()
    restored: tuple[tuple[int, tuple[int, ...]], ...] = ()
    for part in re.split(r"[,:](?=[A-Za-z_][\w.]*=)", rest) if rest else []:
        key, sep, value = part.partition("=")
        key = key.strip()
        if not sep or not value:
            raise StudioError(f"Bad source option {part!r} in {text!r}: expected key=value.")
        if key == "task":
            task = value.strip()
        elif key == "recipe":
            saved = Recipe.load(value)
            steps, restored = tuple(saved.steps), restored_of(saved.restored)
        else:
            mapping.append((field_name(key), value))
    return SourceSpec(path=path, task=task, mapping=tuple(mapping), steps=steps, restored=restored)


# -- report ------------------------------------------------------------------------------------


@dataclass
class SourceReport:
    """How one source mapped: rows, detected shape, columns used / missing / ignored, problems."""

    path: str
    task: str
    kind: str = "unknown"
    rows_loaded: int = 0
    rows: int = 0  # after the source's own steps
    columns: tuple[str, ...] = ()
    used: dict[str, str] = field(default_factory=dict)  # common field -> source column
    missing: tuple[str, ...] = ()  # common fields nothing fills
    ignored: tuple[str, ...] = ()  # source columns not used
    empty: dict[str, int] = field(default_factory=dict)  # common field -> rows left empty
    problems: list[str] = field(default_factory=list)
    ok: bool = True  # False: the source could not be used at all

    @property
    def name(self) -> str:
        return Path(self.path).name

    def lines(self) -> list[str]:
        if self.ok:
            out = [f"{self.task}: {self.name}, {self.rows:,} rows, detected {self.kind}"]
        else:
            out = [
                f"{self.task}: {self.name}, {self.rows_loaded:,} rows loaded, detected "
                f"{self.kind} (not used)"
            ]
        for common, column in self.used.items():
            note = f" ({self.empty[common]:,} rows empty)" if self.empty.get(common) else ""
            out.append(f"  {common} <- {column}{note}")
        out.extend(f"  {common}: missing (left empty)" for common in self.missing)
        if self.ignored:
            out.append(f"  ignored: {', '.join(self.ignored)}")
        out.extend(f"  problem: {p}" for p in self.problems)
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "task": self.task,
            "kind": self.kind,
            "rows_loaded": self.rows_loaded,
            "rows": self.rows,
            "used": dict(self.used),
            "missing": list(self.missing),
            "ignored": list(self.ignored),
            "empty": dict(self.empty),
            "problems": list(self.problems),
            "ok": self.ok,
        }


@dataclass
class SchemaReport:
    """The common shape and, per source, how its columns line up with it."""

    shape: str
    fields: tuple[str, ...]
    sources: list[SourceReport] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(s.ok and not s.missing and not s.problems for s in self.sources)

    def mismatches(self) -> list[str]:
        """One line per column that does not line up: missing fields, ignored columns, problems."""
        out: list[str] = []
        for s in self.sources:
            out.extend(f"{s.task} ({s.name}): no column for {f}" for f in s.missing)
            out.extend(f"{s.task} ({s.name}): column {c!r} ignored" for c in s.ignored)
            out.extend(f"{s.task} ({s.name}): {p}" for p in s.problems)
        return out

    def table(self) -> list[tuple[str, ...]]:
        """Rows `(field, column of source 1, column of source 2, ...)`; "-" when missing."""
        return [
            (f, *(s.used.get(f, "-") for s in self.sources))
            for f in ("system", *self.fields)
            if f != "system" or any("system" in s.used for s in self.sources)
        ]

    def lines(self) -> list[str]:
        out = [f"common shape: {self.shape} ({', '.join(self.fields)})"]
        for s in self.sources:
            out.extend(s.lines())
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "shape": self.shape,
            "fields": list(self.fields),
            "sources": [s.to_json() for s in self.sources],
        }


@dataclass
class Combined:
    dataset: Dataset
    report: SchemaReport
    specs: tuple[SourceSpec, ...] = ()
    offsets: tuple[int | None, ...] = ()
    """Per spec: what its rows' ids are shifted by (None: the source is not used)."""

    def locate(self, row_id: int) -> tuple[int, int] | None:
        """(spec index, id in that source) of a combined row id; None when out of range."""
        used = sorted((o, i) for i, o in enumerate(self.offsets) if o is not None)
        for (start, index), after in zip(used, [*used[1:], None], strict=True):
            if start <= row_id and (after is None or row_id < after[0]):
                return index, row_id - start
        return None


def moved_ids(
    old: Combined, new: Combined, new_index: dict[int, int]
) -> Callable[[int], int | None]:
    """Where a row id of `old` lands in `new`; `new_index` maps old spec positions to new ones
    (a source left out: its rows are gone, None)."""

    def move(row_id: int) -> int | None:
        found = old.locate(row_id)
        if found is None:
            return None
        index, local = found
        target = new_index.get(index)
        if target is None or target >= len(new.offsets):
            return None
        offset = new.offsets[target]
        return None if offset is None else offset + local

    return move


# -- mapping -----------------------------------------------------------------------------------


def _is_conversation(dtype: pl.DataType) -> bool:
    return isinstance(dtype, pl.List) and isinstance(dtype.inner, pl.Struct)


def _scalar(dtype: pl.DataType) -> bool:
    return not isinstance(dtype, pl.List | pl.Array | pl.Struct | pl.Object)


def detected_fields(shape: Shape, schema: pl.Schema) -> dict[str, str]:
    """Common field -> column, from a detected shape."""
    roles = shape.roles
    by_role: dict[str, str] = {}
    for column, role in roles.items():
        by_role.setdefault(role, column)
    out: dict[str, str] = {}
    kind = shape.kind
    if kind in ("chat", "sharegpt"):
        column = by_role.get("messages") or by_role.get("conversations") or shape.text
        if column:
            out["messages"] = column
    elif kind == "alpaca":
        for common in ALPACA_FIELDS:
            if common in by_role:
                out[common] = by_role[common]
    elif kind == "preference":
        if "prompt" in by_role:
            out["instruction"] = by_role["prompt"]
        if "chosen" in by_role:
            out["output"] = by_role["chosen"]
    elif kind in ("classification", "text"):
        if shape.text:
            out["instruction"] = shape.text
        if shape.label:
            out["output"] = shape.label
    lower = {n.lower(): n for n in schema.names()}
    for name in _SYSTEM_NAMES:
        if name in lower and lower[name] not in out.values():
            out["system"] = lower[name]
            break
    return out


def _message_fields(dtype: pl.DataType) -> tuple[str, str] | None:
    """(role field, content field) of a conversation column's turns."""
    if not _is_conversation(dtype):
        return None
    names = {f.name.lower(): f.name for f in dtype.inner.fields}  # type: ignore[union-attr]
    for role, content in (("role", "content"), ("from", "value")):
        if role in names and content in names:
            return names[role], names[content]
    return None


def _messages_expr(column: str, dtype: pl.DataType) -> pl.Expr | None:
    fields = _message_fields(dtype)
    if fields is None:
        return None
    role, content = fields
    role_expr = pl.element().struct.field(role).cast(pl.String)
    if role == "from":
        role_expr = role_expr.replace(_SHAREGPT_ROLES)
    return (
        pl.col(column)
        .pipe(
            each_element,
            pl.struct(
                role_expr.alias("role"),
                pl.element().struct.field(content).cast(pl.String).alias("content"),
            ),
        )
        .cast(pl.List(_MESSAGE))
    )


def _first_turn(messages: pl.Expr, role: str) -> pl.Expr:
    return messages.pipe(
        each_element,
        pl.element().filter(pl.element().struct.field("role") == role).struct.field("content"),
    ).list.first()


def _text(column: str | None) -> pl.Expr:
    if column is None:
        return pl.lit(None, dtype=pl.String)
    return pl.col(column).cast(pl.String)


def _user_text(instruction: pl.Expr, input_: pl.Expr) -> pl.Expr:
    return (
        pl.when(input_.is_null() | (input_ == ""))
        .then(instruction)
        .otherwise(pl.concat_str([instruction.fill_null(""), pl.lit("\n\n"), input_]))
    )


def _turn(role: str, content: pl.Expr) -> pl.Expr:
    return (
        pl.when(content.is_not_null() & (content != ""))
        .then(pl.struct(pl.lit(role).alias("role"), content.alias("content")))
        .otherwise(pl.lit(None, dtype=_MESSAGE))
    )


def map_frame(
    frame: pl.LazyFrame, used: dict[str, str], shape: str, schema: pl.Schema
) -> pl.LazyFrame:
    """Select the common fields of `shape` from `frame` using `used` (field -> column)."""
    messages = (
        _messages_expr(used["messages"], schema[used["messages"]]) if "messages" in used else None
    )
    system = _text(used.get("system"))
    if shape == "alpaca":
        if messages is not None:
            instruction = _first_turn(messages, "user")
            output = _first_turn(messages, "assistant")
            input_ = _text(used.get("input"))
        else:
            instruction, output = _text(used.get("instruction")), _text(used.get("output"))
            input_ = _text(used.get("input"))
        exprs = [
            instruction.alias("instruction"),
            (input_ if "input" in used else pl.lit("")).alias("input"),
            output.alias("output"),
        ]
        if "system" in used:
            exprs.insert(0, system.alias("system"))
        return frame.select(pl.col(ID), *exprs)
    if messages is not None:
        return frame.select(pl.col(ID), messages.alias("messages"))
    user = _user_text(_text(used.get("instruction")), _text(used.get("input")))
    turns = pl.concat_list(
        [
            _turn("system", system),
            _turn("user", user),
            _turn("assistant", _text(used.get("output"))),
        ]
    ).list.drop_nulls()
    return frame.select(pl.col(ID), turns.alias("messages"))


def _resolve_fields(
    spec: SourceSpec, shape: Shape, schema: pl.Schema, report: SourceReport
) -> dict[str, str]:
    used = detected_fields(shape, schema)
    for common, column in spec.mapping:
        common = field_name(common)
        if column not in schema:
            report.problems.append(f"mapping {common} <- {column!r}: no such column")
            continue
        if common == "messages":
            for key in ("instruction", "input", "output"):
                used.pop(key, None)
        elif common in ALPACA_FIELDS:
            used.pop("messages", None)
        used[common] = column
    for common, column in list(used.items()):
        dtype = schema[column]
        if common == "messages":
            if _message_fields(dtype) is None:
                report.problems.append(
                    f"column {column!r} is not a conversation (a list of role/content turns)"
                )
                del used[common]
        elif not _scalar(dtype):
            report.problems.append(
                f"column {column!r} holds {dtype}, not text; {common} left empty"
            )
            del used[common]
    return used


def _needed(shape: str, used: dict[str, str]) -> tuple[str, ...]:
    if "messages" in used:
        return ()
    return ("instruction", "output")


def _pick_shape(shape: str, kinds: list[str], useds: list[dict[str, str]]) -> str:
    if shape not in SHAPES:
        raise StudioError(f"Unknown common shape {shape!r}: use {', '.join(SHAPES)}.")
    if shape != "auto":
        return shape
    if any(k in ("chat", "sharegpt") for k in kinds) or any("messages" in u for u in useds):
        return "chat"
    return "alpaca"


def _source_root(dataset: Dataset) -> str:
    if len(dataset.paths) == 1:
        return dataset.paths[0]
    import os

    return os.path.commonpath(dataset.paths)


def spec_of_dataset(
    dataset: Dataset,
    steps: tuple[Step, ...] = (),
    task: str = "",
    restored: dict[int, tuple[int, ...]] | None = None,
) -> SourceSpec:
    """The spec that reopens a (single-source) dataset with `steps` (and the rows of theirs
    put back, `restored`) as its own recipe."""
    return SourceSpec(
        path=_source_root(dataset),
        task=task,
        steps=tuple(steps),
        options=tuple(sorted(dataset.options.items())),
        restored=restored_of({k: v for k, v in (restored or {}).items() if k < len(steps)}),
    )


def combine(
    specs: list[SourceSpec] | tuple[SourceSpec, ...],
    *,
    shape: str = "auto",
    loaded: dict[int, Dataset] | None = None,
    prepared: dict[int, tuple[Dataset, pl.LazyFrame | pl.DataFrame]] | None = None,
) -> Combined:
    """Load, transform and map every source, and stack them into one Dataset with a `task`.

    `loaded` may hold already-open datasets by spec position; `prepared` open datasets with
    their frame after the spec's steps already applied (the TUI's current workspace).
    """
    from studio.engine.io import load_dataset

    if not specs:
        raise StudioError("Name at least one source.")
    if shape not in SHAPES:
        raise StudioError(f"Unknown common shape {shape!r}: use {', '.join(SHAPES)}.")
    reports: list[SourceReport] = []
    items: list[tuple[SourceSpec, Dataset, pl.LazyFrame, dict[str, str]] | None] = []
    problems: list[Problem] = []
    for index, spec in enumerate(specs):
        report = SourceReport(path=spec.path, task=spec.task_name)
        reports.append(report)
        ready = (prepared or {}).get(index)
        try:
            dataset = (
                ready[0]
                if ready is not None
                else (loaded or {}).get(index) or load_dataset(spec.path, **dict(spec.options))
            )
        except LoadError as exc:
            report.ok = False
            report.problems.append(f"could not open: {exc}")
            problems.append(Problem(spec.path, None, f"could not open: {exc}"))
            items.append(None)
            continue
        problems.extend(dataset.problems)
        report.rows_loaded = dataset.rows
        # stay lazy where we can: the mapping then reads only the columns it uses
        lazy: pl.LazyFrame
        try:
            if ready is not None:
                lazy = ready[1].lazy()
            elif spec.steps:
                lazy = run_recipe(dataset.frame, spec.recipe)[0].lazy()
            else:
                lazy = dataset.frame
            schema = lazy.collect_schema()
        except StudioError as exc:
            report.ok = False
            report.problems.append(f"its steps failed: {exc}")
            items.append(None)
            continue
        transformed = ready is not None or bool(spec.steps)
        detected = detect_shape(lazy) if transformed else dataset.shape
        if transformed and dataset.options:
            opts = {
                k: v
                for k, v in dataset.options.items()
                if (k == "kind") or (k in ("text", "label") and v in schema)
            }
            detected = detected.with_overrides(**opts)  # type: ignore[arg-type]
        report.kind = detected.kind
        report.columns = tuple(c for c in schema.names() if c != ID)
        used = _resolve_fields(spec, detected, schema, report)
        report.used = dict(used)
        if not used:
            report.ok = False
            columns = ", ".join(report.columns) or "none"
            report.problems.append(
                f"no column maps onto the common shape (its columns: {columns}; "
                "map one with FIELD=COLUMN)"
            )
        items.append((spec, dataset, lazy, used) if report.ok else None)
    good = [p for p in items if p is not None]
    if not good:
        lines = "; ".join(f"{r.name}: {', '.join(r.problems)}" for r in reports)
        raise LoadError(f"No source maps onto a common shape ({lines}).")
    common = _pick_shape(shape, [r.kind for r in reports if r.ok], [p[3] for p in good])
    fields = ALPACA_FIELDS if common == "alpaca" else CHAT_FIELDS
    with_system = common == "alpaca" and any("system" in p[3] for p in good)
    parts: list[pl.DataFrame] = []
    origins: list[Origin] = []
    offsets: list[int | None] = []
    offset = 0
    for report, item in zip(reports, items, strict=True):
        offsets.append(offset if item is not None else None)
        if item is None:
            continue
        spec, dataset, lazy, used = item
        schema = lazy.collect_schema()
        needed = _needed(common, used)
        report.missing = tuple(f for f in needed if f not in used)
        if "messages" in used and common == "alpaca":
            report.problems.extend(
                f"{f} mapped from {used[f]!r} is not used: the conversation fills it"
                for f in ALPACA_FIELDS
                if f in used
            )
        report.ignored = tuple(c for c in report.columns if c not in set(used.values()))
        mapped = map_frame(lazy, used, common, schema)
        if with_system and "system" not in mapped.collect_schema().names():
            mapped = mapped.with_columns(pl.lit(None, dtype=pl.String).alias("system"))
        part = mapped.with_columns(
            (pl.col(ID).cast(pl.UInt64) + offset).alias(ID),
            pl.lit(report.task, dtype=pl.String).alias(TASK),
        ).collect()
        report.rows = part.height
        report.empty = _empty_counts(part, common)
        if common == "alpaca" and "messages" in used:
            many = lazy.select((pl.col(used["messages"]).list.len() > 2).sum()).collect().item()
            if many:
                report.problems.append(
                    f"{many:,} conversations have more than one exchange; "
                    "the alpaca shape keeps the first"
                )
        parts.append(part)
        for origin in dataset.origins:
            origins.append(replace(origin, first_id=origin.first_id + offset, count=origin.count))
        largest = int(part[ID].max()) - offset + 1 if part.height else 0  # type: ignore[arg-type]
        offset += max(dataset.rows, largest)
    columns = [ID, *(["system"] if with_system else []), *fields, TASK]
    frame_all = pl.concat([p.select(columns) for p in parts], how="vertical", rechunk=False)
    for report in reports:
        for line in report.problems:
            if not line.startswith("could not open"):
                problems.append(Problem(report.path, None, line))
    schema_report = SchemaReport(shape=common, fields=fields, sources=reports)
    if common == "alpaca":
        roles = {"instruction": "instruction", "input": "input", "output": "output", TASK: "label"}
        data_shape = Shape(kind="alpaca", text="output", label=TASK, roles=roles)
    else:
        data_shape = Shape(
            kind="chat", text="messages", label=TASK, roles={"messages": "messages", TASK: "label"}
        )
    formats = {p[1].format for p in good}
    used_specs = tuple(specs)
    dataset = Dataset(
        frame=frame_all.lazy(),
        format=formats.pop() if len(formats) == 1 else "mixed",
        paths=[path for p in good for path in p[1].paths],
        rows=frame_all.height,
        shape=data_shape,
        problems=problems,
        origins=origins,
        options={},
        combined={"sources": [s.to_json() for s in used_specs], "shape": shape},
    )
    return Combined(dataset=dataset, report=schema_report, specs=used_specs, offsets=tuple(offsets))


def require_sources(combined: Combined, *, mapped: bool = True) -> None:
    """Raise when a source could not be opened (or, with `mapped`, does not map at all): a
    mixture or a stage without one of the tasks asked for is not what was asked for."""
    bad = [
        r
        for r in combined.report.sources
        if not r.ok and (mapped or any(p.startswith("could not open") for p in r.problems))
    ]
    if bad:
        raise LoadError(
            " ".join(
                f"Source {r.task} ({r.path}) cannot be used: "
                + "; ".join(p.rstrip(".") for p in r.problems)
                + "."
                for r in bad
            )
        )


def _empty_counts(part: pl.DataFrame, shape: str) -> dict[str, int]:
    if part.height == 0:
        return {}
    if shape == "alpaca":
        out = {
            f: int(part.select((pl.col(f).is_null() | (pl.col(f) == "")).sum()).item())
            for f in ("instruction", "output")
        }
    else:
        out = {"messages": int(part.select((pl.col("messages").list.len() == 0).sum()).item())}
    return {k: v for k, v in out.items() if v}


def specs_of(source: dict[str, Any]) -> list[SourceSpec]:
    """The source specs a recipe's `source` records (empty for a single-source recipe)."""
    return [SourceSpec.from_json(s) for s in source.get("sources") or ()]


def combine_recipe_source(source: dict[str, Any], paths: list[str] | None = None) -> Combined:
    """Reopen a combined recipe source; `paths` replace the recorded paths in order."""
    specs = specs_of(source)
    for i, path in enumerate(paths or ()):
        if i < len(specs):
            specs[i] = replace(specs[i], path=path)
        else:
            specs.append(SourceSpec(path=path))
    return combine(specs, shape=str(source.get("shape") or "auto"))
