"""Export: the current rows, mapped onto a trainer format, validated, written atomically, with
the recipe and a data card beside the output.

Formats: jsonl, parquet, csv, openai (`messages`), alpaca (`instruction`/`input`/`output`),
sharegpt (`conversations` of from/value) and hf (a `datasets.load_from_disk` folder).

Outputs, for `-o OUT` (say `out/data.jsonl`):
- one file `out/data.jsonl`, or with a split column one file per split, named
  `out/data_train.jsonl`, `out/data_validation.jsonl`, `out/data_test.jsonl` (for hf: one
  `DatasetDict` folder `OUT/` with `dataset_dict.json` and a subfolder per split);
- `out/data.jsonl.recipe.json` (OUT + `.recipe.json`): the steps applied plus the export
  mapping (`studio run` replays it);
- `out/data.jsonl.card.md` (OUT + `.card.md`): the data card;
- for alpaca and sharegpt, an entry per file in `out/dataset_info.json` (LLaMA-Factory),
  merged into an existing one.

Everything is written to temporary names in the target folder and renamed only when every file
is complete, so a failure or a cancel leaves no partial output.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from studio.engine.dataset import Dataset
from studio.engine.errors import StepError, WriteError
from studio.engine.io.export_card import CardInput, StepLine, render_card
from studio.engine.io.export_card import figures as card_figures
from studio.engine.io.export_writers import (
    BatchWriter,
    CsvWriter,
    HfWriter,
    JsonArrayWriter,
    JsonlWriter,
    OutputGroup,
    ParquetWriter,
    csv_bytes,
    ndjson_bytes,
    write_json,
)
from studio.engine.progress import check_cancelled, report
from studio.engine.recipe import Recipe, StepResult
from studio.engine.shape import Shape, detect_shape
from studio.engine.steps.base import ID, id_in
from studio.engine.steps.export import (
    CONVERSATION_FIELD,
    FIELDS,
    FORMAT_TITLES,
    FORMATS,
    INVALID,
    PLAIN_FORMATS,
    ExportMap,
    constant,
    is_constant,
)

if TYPE_CHECKING:
    from studio.engine.workspace import Workspace

__all__ = [
    "DEFAULT_SUFFIX",
    "FIELDS",
    "FORMATS",
    "ExportBlocked",
    "ExportOptions",
    "ExportResult",
    "Validation",
    "auto_fields",
    "build_step",
    "constant",
    "existing_targets",
    "export_dataset",
    "export_workspace",
    "is_constant",
    "output_plan",
    "parse_map",
    "preview",
    "serialise",
    "source_syntax_help",
    "split_column_for",
    "validate",
]

SPLIT_ORDER = ("train", "validation", "test")
DEFAULT_SUFFIX = {
    "jsonl": ".jsonl",
    "parquet": ".parquet",
    "csv": ".csv",
    "openai": ".jsonl",
    "alpaca": ".json",
    "sharegpt": ".json",
    "hf": "",
}
BATCH_BYTES = 64_000_000
LLAMA_FACTORY_INFO = "dataset_info.json"


class ExportBlocked(WriteError):
    """Invalid rows stop the export (the user chose to block)."""

    def __init__(self, message: str, validation: Validation) -> None:
        super().__init__(message)
        self.validation = validation


# -- mapping ------------------------------------------------------------------------------------
def parse_map(text: str) -> dict[str, str]:
    """`FIELD=SOURCE,...` -> {field: source}; commas inside "quoted constants" are kept."""
    out: dict[str, str] = {}
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    for char in text:
        if char == '"':
            quoted = not quoted
        if char == "," and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    for part in parts:
        if not part.strip():
            continue
        name, eq, source = part.partition("=")
        if not eq or not name.strip():
            raise StepError(f"Bad mapping {part.strip()!r}: write FIELD=COLUMN.")
        out[name.strip()] = source.strip()
    return out


def auto_fields(fmt: str, shape: Shape, columns: Sequence[str]) -> dict[str, str]:
    """Default field sources for a format from the detected shape (empty: keep everything)."""
    if fmt in PLAIN_FORMATS:
        return {}
    lower = {c.lower(): c for c in columns}
    roles = {role: col for col, role in shape.roles.items()}
    conv = roles.get("messages") or roles.get("conversations")
    if shape.kind in ("chat", "sharegpt") and shape.text:
        conv = shape.text
    system = lower.get("system")
    names = {
        "openai": ("user", "assistant"),
        "sharegpt": ("human", "gpt"),
        "alpaca": ("instruction", "output"),
    }[fmt]
    out: dict[str, str] = {}
    if system:
        out["system"] = system
    if conv:
        out[CONVERSATION_FIELD[fmt]] = conv
        return out
    if shape.kind == "alpaca":
        instruction = roles.get("instruction", lower.get("instruction", ""))
        extra = roles.get("input") or lower.get("input")
        output = (
            roles.get("output") or lower.get("output") or lower.get("response") or shape.text or ""
        )
        if fmt == "alpaca":
            out["instruction"] = instruction
            if extra:
                out["input"] = extra
        else:
            out[names[0]] = f"{instruction}+{extra}" if extra else instruction
        out[names[1]] = output
        return out
    if shape.kind == "preference":
        chosen = roles.get("chosen") or lower.get("chosen")
        prompt = roles.get("prompt") or (shape.text if shape.text != chosen else None)
        if prompt:
            out[names[0]] = prompt
        out[names[1]] = roles.get("chosen") or lower.get("chosen", "")
        return out
    if shape.kind == "classification" and shape.text and shape.label:
        out[names[0]] = shape.text
        out[names[1]] = shape.label
        return out
    if shape.text:
        out[names[0]] = shape.text
    return out


def build_step(
    fmt: str,
    schema: pl.Schema,
    *,
    shape: Shape | None = None,
    fields: dict[str, str] | None = None,
    system: str = "",
    split_column: str | None = None,
    on_invalid: str = "block",
    max_tokens: int = 0,
    tokenizer: str = "",
) -> ExportMap:
    """The export step for a format: `fields` (or the defaults for `shape`) plus options."""
    if fmt not in FORMATS:
        raise StepError(f"Unknown export format {fmt!r}; use one of {', '.join(FORMATS)}.")
    if on_invalid not in ("block", "skip"):
        raise StepError("--on-invalid must be block or skip.")
    if fields is None:
        shape = shape or detect_shape(pl.LazyFrame(schema=schema))
        fields = auto_fields(fmt, shape, [n for n in schema.names() if n != ID])
    if system and "system" in fields:
        fields = {k: v for k, v in fields.items() if k != "system"}
    keep = (split_column,) if split_column else ()
    step = ExportMap(
        format=fmt,
        fields=tuple((k, v) for k, v in fields.items() if v.strip()),
        system=system,
        keep=keep,
        invalid="skip" if on_invalid == "skip" else "keep",
        max_tokens=max_tokens,
        tokenizer=tokenizer,
    )
    step.validate(schema)
    return step


def split_column_for(
    schema: pl.Schema, requested: str | None, *, per_split: bool = True
) -> str | None:
    """The column that splits the output: the requested one, else `split` when present."""
    if not per_split:
        return None
    if requested:
        if requested not in schema:
            raise StepError(f"No split column named {requested!r}.")
        return requested
    return "split" if "split" in schema else None


# -- validation ---------------------------------------------------------------------------------
@dataclass
class Validation:
    """Invalid rows found by the export step: how many for each reason, and which."""

    total: int
    invalid: pl.DataFrame  # _id, reason, source
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return self.invalid.height

    def summary(self) -> str:
        if not self.count:
            return f"all {self.total:,} rows valid"
        reasons = ", ".join(f"{n:,} {r}" for r, n in self.counts.items())
        return f"{self.count:,} of {self.total:,} rows invalid ({reasons})"

    def examples(self, n: int = 5) -> str:
        return ", ".join(self.invalid["source"].head(n).to_list())


def _validation(mapped: pl.DataFrame, dataset: Dataset | None) -> Validation:
    bad = mapped.filter(pl.col(INVALID).is_not_null()).select(ID, pl.col(INVALID).alias("reason"))
    sources = dataset.source_ids(bad[ID]) if dataset is not None else bad[ID].cast(pl.String)
    bad = bad.with_columns(sources.alias("source"))
    counts = (
        bad.select(pl.col("reason").str.split("; ").explode())
        .group_by("reason", maintain_order=True)
        .len()
        .sort("len", descending=True, maintain_order=True)
    )
    return Validation(
        total=mapped.height,
        invalid=bad,
        counts={r: int(n) for r, n in counts.iter_rows()},
    )


def validate(frame: pl.LazyFrame, step: ExportMap, dataset: Dataset | None = None) -> Validation:
    """Run the export step's checks on every row (without writing)."""
    checking = replace(step, invalid="keep")
    mapped = checking.mapped(frame).select(ID, INVALID).collect()
    return _validation(mapped, dataset)


# -- preview ------------------------------------------------------------------------------------
def serialise(batch: pl.DataFrame, fmt: str, *, header: bool = True) -> list[str]:
    """Rows as the writers put them in a file: JSON lines, or CSV lines with the header.
    Parquet and hf are binary; they show the same records as JSON lines."""
    if fmt == "csv":
        return csv_bytes(batch, header=header).decode("utf-8").splitlines()
    return ndjson_bytes(batch).decode("utf-8").splitlines()


def preview(frame: pl.LazyFrame, step: ExportMap, n: int = 5) -> list[str]:
    """The first `n` rows exactly as the export writes them (same mapping, same serialiser)."""
    head = step.apply(frame).head(n).collect()
    return serialise(_records(head, step), step.format)


def _records(frame: pl.DataFrame, step: ExportMap) -> pl.DataFrame:
    return frame.drop([ID, INVALID, *step.keep], strict=False)


# -- outputs ------------------------------------------------------------------------------------
@dataclass
class ExportOptions:
    output: Path
    format: str = "jsonl"
    fields: dict[str, str] | None = None
    system: str = ""
    split_column: str | None = None
    per_split: bool = True
    on_invalid: str = "block"
    max_tokens: int = 0
    tokenizer: str = ""
    force: bool = False
    batch_rows: int = 0


@dataclass
class OutputPlan:
    files: list[tuple[str | None, Path]]
    recipe: Path
    card: Path
    llama_factory: Path | None
    hf: bool = False

    @property
    def targets(self) -> list[Path]:
        return [p for _, p in self.files] + [self.recipe, self.card]


def _sidecar_stem(output: Path) -> Path:
    return output.with_suffix("") if output.suffix else output


def output_plan(output: Path, fmt: str, splits: Sequence[str] | None) -> OutputPlan:
    """Every path an export writes (see the module docstring for the naming)."""
    output = Path(output)
    stem = _sidecar_stem(output)
    if fmt == "hf" or not splits:
        files: list[tuple[str | None, Path]] = [(None, output)]
    else:
        suffix = output.suffix or DEFAULT_SUFFIX[fmt]
        files = [(s, output.with_name(f"{stem.name}_{s}{suffix}")) for s in splits]
    llama = output.parent / LLAMA_FACTORY_INFO if fmt in ("alpaca", "sharegpt") else None
    return OutputPlan(
        files=files,
        recipe=output.with_name(output.name + ".recipe.json"),
        card=output.with_name(output.name + ".card.md"),
        llama_factory=llama,
        hf=fmt == "hf",
    )


def _check_targets(plan: OutputPlan, *, force: bool, sources: Sequence[str]) -> None:
    folder = plan.recipe.parent
    if not folder.exists():
        raise WriteError(f"The folder {folder} does not exist.")
    resolved_sources = set()
    for source in sources:
        try:
            resolved_sources.add(Path(source).resolve())
        except OSError:
            continue
    for target in plan.targets:
        folder_output = plan.hf and target in [p for _, p in plan.files]
        if target.is_dir() and not folder_output:
            raise WriteError(f"{target} is a folder; choose another output.")
        resolved = target.resolve()
        if resolved in resolved_sources or any(
            s.is_relative_to(resolved) for s in resolved_sources
        ):
            raise WriteError(f"Refusing to write onto the source {target}; choose another output.")
        if target.exists() and not force:
            raise WriteError(f"{target} already exists; pass --force to overwrite it.")


def existing_targets(output: Path, fmt: str, splits: Sequence[str] | None) -> list[Path]:
    """The outputs that already exist (the TUI asks before replacing them)."""
    return [p for p in output_plan(output, fmt, splits).targets if p.exists()]


def _ordered_splits(values: Sequence[str]) -> list[str]:
    known = [s for s in SPLIT_ORDER if s in values]
    return known + sorted(v for v in values if v not in SPLIT_ORDER)


def _writer(fmt: str, final: Path, group: OutputGroup, split: str | None, note: str) -> BatchWriter:
    if fmt == "hf":
        return HfWriter(group.folder(final), split=split, description=note)
    tmp = group.file(final)
    if fmt == "parquet":
        return ParquetWriter(tmp)
    if fmt == "csv":
        return CsvWriter(tmp)
    if final.suffix.lower() == ".json":
        return JsonArrayWriter(tmp)
    return JsonlWriter(tmp)


def _llama_factory_entries(plan: OutputPlan, fmt: str, columns: Sequence[str]) -> dict[str, dict]:
    entries: dict[str, dict] = {}
    for _, path in plan.files:
        entry: dict[str, object] = {"file_name": path.name, "formatting": fmt}
        if fmt == "alpaca":
            cols = {"prompt": "instruction", "query": "input", "response": "output"}
            for extra in ("system", "history"):
                if extra in columns:
                    cols[extra] = extra
            entry["columns"] = cols
        else:
            cols = {"messages": "conversations"}
            if "system" in columns:
                cols["system"] = "system"
            entry["columns"] = cols
            entry["tags"] = {
                "role_tag": "from",
                "content_tag": "value",
                "user_tag": "human",
                "assistant_tag": "gpt",
                "observation_tag": "observation",
                "function_tag": "function_call",
                "system_tag": "system",
            }
        entries[Path(path.name).stem] = entry
    return entries


def _merged_llama_factory(path: Path, entries: dict[str, dict], force: bool) -> str:
    existing: dict[str, object] = {}
    if path.exists():
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise WriteError(f"{path} exists but is not valid JSON; move it away first.") from exc
        if not isinstance(loaded, dict):
            raise WriteError(f"{path} exists but is not a JSON object; move it away first.")
        existing = loaded
    for name, entry in entries.items():
        if name in existing and existing[name] != entry and not force:
            raise WriteError(f"{path} already has an entry {name!r}; pass --force to replace it.")
        existing[name] = entry
    return json.dumps(existing, indent=2, ensure_ascii=False) + "\n"


@dataclass
class ExportResult:
    files: list[Path]
    rows: dict[str, int]
    recipe: Path
    card: Path
    validation: Validation
    skipped: int
    llama_factory: Path | None = None

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())

    def summary(self) -> str:
        names = ", ".join(p.name for p in self.files)
        text = f"wrote {self.total_rows:,} rows to {names}"
        if self.skipped:
            text += f" ({self.skipped:,} invalid rows skipped)"
        return text


def _estimate_bytes(data: pl.DataFrame, fmt: str) -> int:
    size = data.estimated_size()
    factor = {"parquet": 0.7, "hf": 1.1, "csv": 1.3}.get(fmt, 1.5)
    return int(size * factor) + 1_000_000


def export_dataset(
    dataset: Dataset,
    frame: pl.LazyFrame,
    options: ExportOptions,
    *,
    recipe: Recipe | None = None,
    results: Sequence[StepResult] = (),
) -> ExportResult:
    """Map, validate and write `frame` (the current rows of `dataset`) per `options`.

    `recipe` holds the steps that led to `frame` (with `results` giving their rows in and out);
    the export's own mapping step is appended to it in the saved recipe and the card.
    """
    output = Path(options.output)
    fmt = options.format
    schema = frame.collect_schema()
    split_col = split_column_for(schema, options.split_column, per_split=options.per_split)
    shape = dataset.shape
    if any(col not in schema for col in shape.roles):  # steps renamed or dropped columns
        shape = detect_shape(frame)
    step = build_step(
        fmt,
        schema,
        shape=shape,
        fields=options.fields,
        system=options.system,
        split_column=split_col,
        on_invalid=options.on_invalid,
        max_tokens=options.max_tokens,
        tokenizer=options.tokenizer,
    )
    check_cancelled()
    report(0, 1, "mapping and validating")
    mapped = step.mapped(frame).collect()
    validation = _validation(mapped, dataset)
    if validation.count and options.on_invalid == "block":
        raise ExportBlocked(
            f"{validation.summary()}, e.g. {validation.examples(3)}; fix them or skip them "
            "(--on-invalid skip).",
            validation,
        )
    if validation.count:
        mapped = mapped.filter(pl.col(INVALID).is_null())
    mapped = mapped.drop(INVALID)
    splits: list[str] | None = None
    if split_col:
        values = mapped[split_col]
        if values.null_count():
            raise WriteError(
                f"{values.null_count():,} rows have no value in the split column {split_col!r}."
            )
        splits = _ordered_splits(values.cast(pl.String).unique().to_list())
        if not splits:
            splits = None
    plan = output_plan(output, fmt, splits)
    _check_targets(plan, force=options.force, sources=dataset.paths)
    records = _records(mapped, step)
    needed = _estimate_bytes(records, fmt)
    free = shutil.disk_usage(plan.recipe.parent).free
    if free < needed:
        raise WriteError(
            f"Not enough free disk space in {plan.recipe.parent}: about {needed / 1e6:,.0f} MB "
            f"needed, {free / 1e6:,.0f} MB free."
        )
    total = max(records.height, 1)
    batch_rows = options.batch_rows or max(
        1_000, min(500_000, int(total * BATCH_BYTES / max(records.estimated_size(), 1)))
    )

    group = OutputGroup()
    pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="export")
    # the card's figures are computed while the rows are written (another core, same data)
    exported = frame if not validation.count else frame.filter(id_in(mapped[ID]))
    figures_future = pool.submit(lambda: card_figures(exported.collect()))
    writers: list[BatchWriter] = []
    rows: dict[str, int] = {}
    done = 0
    try:
        jobs: list[tuple[str | None, str, Callable[[], BatchWriter]]] = []
        if fmt == "hf" and splits:
            root = group.folder(output)
            write_json(root / "dataset_dict.json", {"splits": splits})
            for name in splits:
                jobs.append(
                    (name, f"{output.name}/{name}", partial(HfWriter, root / name, split=name))
                )
        else:
            for name, path in plan.files:
                jobs.append(
                    (name, path.name, partial(_writer, fmt, path, group, name, dataset.name))
                )
        labels = mapped[split_col].cast(pl.String) if split_col else None
        for name, label, make in jobs:
            writer = make()
            writers.append(writer)
            part = records if name is None or labels is None else records.filter(labels == name)
            for start in range(0, part.height, batch_rows):
                check_cancelled()
                writer.write(part.slice(start, batch_rows))
                done += min(batch_rows, part.height - start)
                report(done, total, f"writing {label}")
            if part.height == 0:
                writer.write(part)
            check_cancelled()
            writer.close()
            rows[label] = part.height
        report(total, total, "writing recipe and card")
        # fsync the data while the card is computed (the disk waits, the CPU works)
        syncing = pool.submit(lambda: [w.sync() for w in writers])
        full_recipe = Recipe(
            steps=[*(recipe.steps if recipe else []), step],
            source=dict(recipe.source) if recipe and recipe.source else _source(dataset),
            restored=dict(recipe.restored) if recipe else {},
        )
        group.text(plan.recipe, full_recipe.dumps())
        written_names = list(rows.items())
        group.text(
            plan.card,
            _card(
                dataset,
                figures_future.result(),
                mapped,
                step,
                results,
                validation,
                written_names,
                plan,
                records.schema,
                fmt,
            ),
        )
        if plan.llama_factory is not None:
            entries = _llama_factory_entries(plan, fmt, records.columns)
            group.text(
                plan.llama_factory,
                _merged_llama_factory(plan.llama_factory, entries, options.force),
            )
        syncing.result()
        check_cancelled()
    except BaseException:
        pool.shutdown(wait=True)
        for writer in writers:
            writer.abort()
        group.rollback()
        raise
    pool.shutdown(wait=True)
    group.commit()
    files = [p for _, p in plan.files]
    return ExportResult(
        files=files,
        rows=rows,
        recipe=plan.recipe,
        card=plan.card,
        validation=validation,
        skipped=validation.count,
        llama_factory=plan.llama_factory,
    )


def _source(dataset: Dataset) -> dict[str, object]:
    return dataset.recipe_source()


def _card(
    dataset: Dataset,
    figures: list[str],
    mapped: pl.DataFrame,
    step: ExportMap,
    results: Sequence[StepResult],
    validation: Validation,
    files: list[tuple[str, int]],
    plan: OutputPlan,
    output_schema: pl.Schema,
    fmt: str,
) -> str:
    lines = [StepLine(r.step.describe(), r.rows_in, r.rows_out) for r in results]
    lines.append(StepLine(step.describe(), validation.total, mapped.height))
    tokens_note = ""
    if step.max_tokens:
        how = f"tokenizer {step.tokenizer}" if step.tokenizer else "the tokens_ columns"
        tokens_note = f"token limit {step.max_tokens:,} ({how})"
    return render_card(
        CardInput(
            title=plan.recipe.name.removesuffix(".recipe.json"),
            format_title=FORMAT_TITLES[fmt],
            sources=[str(Path(p).resolve()) for p in dataset.paths],
            source_format=dataset.format,
            source_rows=dataset.rows,
            source_problems=len(dataset.problems),
            steps=lines,
            files=files,
            recipe_name=plan.recipe.name,
            data=pl.DataFrame(),
            output_schema=output_schema,
            invalid_counts=validation.counts,
            skipped=validation.count,
            tokens_note=tokens_note,
            figures=figures,
        )
    )


def export_workspace(workspace: Workspace, options: ExportOptions) -> ExportResult:
    """Export a `Workspace`'s current rows; its steps go into the recipe and the card."""
    return export_dataset(
        workspace.dataset,
        workspace.frame,
        options,
        recipe=workspace.recipe(),
        results=workspace.results,
    )


def source_syntax_help() -> str:
    return 'COLUMN, COL1+COL2 (joined by a blank line) or "constant text"'
