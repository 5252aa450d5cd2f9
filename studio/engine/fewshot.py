"""Few-shot prompt packs: k exemplars, a held-out evaluation set, a rendered prompt.

Selection (`select_pack`), in this order so that prompts are refined against the same rows:

1. the evaluation rows are drawn FIRST: a seeded sample of `eval_n` rows (numpy PCG64 on
   `seed`). With a label column it is stratified (each label keeps its share) and never takes
   the last row of a label, so every label stays available as an exemplar. In `marked` mode the
   marked rows are held out of this draw (a hand-picked exemplar is never an evaluation row).
   The draw depends only on the data, `eval_n`, `seed` and the label column: changing k or the
   mode keeps the same evaluation rows.
2. the exemplars come from the remaining rows only: `random` (seeded), `diverse` (the Select
   pane's clustering of the input text into k clusters, one row per cluster, via
   `select.cluster_texts` + `select.diverse_positions`, on a seeded sample of at most
   `DIVERSE_POOL` rows per label) or `marked` (the given row ids). With
   `per_label`, k exemplars are chosen for each value of that column (diverse within a label).
   Exemplars are shown in a seeded random order (marked rows keep their order).

Templates: `{name}` placeholders parsed with `string.Formatter().parse` and replaced from a
fixed set of names (no attribute access, no conversions, no format specs, nothing evaluated);
`{{` and `}}` are literal braces.

- prompt template: `{exemplars}`, `{input}`, `{labels}` (the label set, comma separated), `{k}`
- exemplar format: `{input}`, `{output}`, `{label}`, `{n}` (1-based position)

`PROMPT.md` holds the prompt with the exemplars filled in and `{input}` left as a placeholder;
token counts are measured on the prompt filled with each evaluation row's input and compared
with the context limit (the tokenizer's `model_max_length`, or `context` when given, else
`DEFAULT_CONTEXT`). Without a tokenizer the counts are the labelled chars/4 estimate.
"""

from __future__ import annotations

import json
import string
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from studio.engine.errors import StepError, WriteError
from studio.engine.progress import check_cancelled, report
from studio.engine.steps.base import ID, id_in, require_columns

if TYPE_CHECKING:
    from studio.engine.dataset import Dataset
    from studio.engine.recipe import Recipe
    from studio.engine.shape import Shape
    from studio.engine.steps.fewshot import FewShotPack
    from studio.engine.tokens import TokenCounter

MODES = ("random", "diverse", "marked")
MODE_TITLES = {"random": "random", "diverse": "diverse", "marked": "marked rows"}
DEFAULT_TEMPLATE = "Answer like the examples.\n\n{exemplars}\n\nInput: {input}\nOutput:"  # noqa: RUF027
DEFAULT_EXEMPLAR = "Input: {input}\nOutput: {output}"  # noqa: RUF027
EXEMPLAR_SEPARATOR = "\n\n"
PROMPT_FIELDS = ("exemplars", "input", "labels", "k")
EXEMPLAR_FIELDS = ("input", "output", "label", "n")
DEFAULT_CONTEXT = 4096
DIVERSE_POOL = 1_500
"""Diverse mode clusters at most this many rows of a label (a seeded sample of bigger ones)."""
ROLE = "fewshot"
"""Column the `fewshot.pack` step writes: `exemplar` or `eval`."""
FILES = ("PROMPT.md", "exemplars.jsonl", "eval.jsonl", "fewshot.recipe.json")


# -- templates ---------------------------------------------------------------------------------
def template_fields(template: str, allowed: Sequence[str], what: str) -> list[str]:
    """The placeholder names used by `template`; a clear StepError for anything else."""
    names: list[str] = []
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise StepError(
            f"The {what} is malformed ({exc}); write a literal brace as {{{{ or }}}}."
        ) from exc
    for _literal, name, spec, conversion in parsed:
        if name is None:
            continue
        if name not in allowed:
            shown = "{" + name + "}" if name else "{}"
            raise StepError(
                f"The {what} has an unknown placeholder {shown}; use "
                + ", ".join("{" + a + "}" for a in allowed)
                + " (a literal brace is {{ or }})."
            )
        if spec or conversion:
            raise StepError(
                f"The {what} placeholder {{{name}}} cannot have a format or conversion; "
                f"write just {{{name}}}."
            )
        names.append(name)
    return names


def fill(template: str, values: dict[str, str]) -> str:
    """Replace `{name}` from `values` (names checked by `template_fields` first)."""
    out: list[str] = []
    for literal, name, _spec, _conversion in string.Formatter().parse(template):
        out.append(literal)
        if name is not None:
            out.append(values[name])
    return "".join(out)


def check_templates(template: str, exemplar_format: str) -> None:
    used = template_fields(template, PROMPT_FIELDS, "prompt template")
    for name, why in (
        ("exemplars", "where the k exemplars go"),
        ("input", "where each evaluation row's input goes"),
    ):
        if name not in used:
            raise StepError(f"The prompt template has no {{{name}}} ({why}).")
    template_fields(exemplar_format, EXEMPLAR_FIELDS, "exemplar format")


def read_template(path: str | Path) -> str:
    path = Path(path)
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise StepError(f"{path}: no such template file.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise StepError(f"{path}: cannot read the template ({exc}).") from exc


# -- input and output of a row -------------------------------------------------------------------
def default_fields(shape: Shape, schema: pl.Schema, per_label: str = "") -> tuple[str, str]:
    """(input source, output source) from the detected shape; `COL` or `COL1+COL2`."""
    roles = {role: col for col, role in shape.roles.items()}
    conv = roles.get("messages") or roles.get("conversations")
    if shape.kind in ("chat", "sharegpt") and conv:
        return conv, per_label or conv
    if shape.kind == "alpaca":
        instruction = roles.get("instruction", "")
        extra = roles.get("input")
        source = f"{instruction}+{extra}" if extra else instruction
        return source, per_label or roles.get("output", "")
    if shape.kind == "preference":
        return roles.get("prompt", shape.text or ""), per_label or roles.get("chosen", "")
    text = shape.text or ""
    if not text:
        text = next((n for n, t in schema.items() if n != ID and t == pl.String), "")
    return text, per_label or shape.label or ""


def _columns_of(source: str, schema: pl.Schema) -> list[str]:
    from studio.engine.steps.export import source_columns

    return source_columns(source, schema)


def _is_conversation(dtype: pl.DataType) -> bool:
    return isinstance(dtype, pl.List | pl.Array) and isinstance(dtype.inner, pl.Struct)


def check_fields(schema: pl.Schema, input_source: str, output_source: str) -> None:
    if not input_source.strip():
        raise StepError("Choose the input column (this data has no text column).")
    for source in (input_source, output_source):
        require_columns(schema, *_columns_of(source, schema))


def _turns(value: Any) -> list[dict[str, Any]]:
    from studio.engine.tokens import normalise_messages

    if isinstance(value, pl.Series):
        value = value.to_list()
    try:
        return normalise_messages(value or [])
    except Exception:  # noqa: BLE001 - a malformed conversation reads as no turns
        return []


def _conversation_parts(value: Any) -> tuple[str, str]:
    """(everything before the last assistant turn, the last assistant turn)."""
    turns = _turns(value)
    last = max((i for i, t in enumerate(turns) if t.get("role") == "assistant"), default=None)
    before = turns if last is None else turns[:last]
    answer = "" if last is None else str(turns[last].get("content") or "")
    text = "\n".join(
        str(t.get("content") or "") for t in before if t.get("role") not in ("system",)
    )
    return text, answer


def _values(frame: pl.DataFrame, source: str, role: str) -> list[str]:
    """The text of `source` for each row (`role` input/output picks the conversation part)."""
    if not source.strip():
        return [""] * frame.height
    schema = frame.schema
    columns = _columns_of(source, schema)
    if len(columns) == 1 and _is_conversation(schema[columns[0]]):
        parts = [_conversation_parts(v) for v in frame[columns[0]].to_list()]
        return [p[0] if role == "input" else p[1] for p in parts]
    from studio.engine.steps.filter import text_of

    parts_expr = [text_of(c, schema[c]).fill_null("") for c in columns]
    if len(parts_expr) == 1:
        expr = parts_expr[0]
    else:
        expr = pl.concat_str(
            [pl.when(p.str.strip_chars() == "").then(None).otherwise(p) for p in parts_expr],
            separator="\n\n",
            ignore_nulls=True,
        ).fill_null("")
    return frame.select(expr.alias("__v"))["__v"].to_list()


def _cluster_texts(frame: pl.LazyFrame, source: str) -> pl.DataFrame:
    """`_id` and a text per row to cluster on (conversations: every turn joined)."""
    from studio.engine.steps.filter import text_of

    schema = frame.collect_schema()
    columns = _columns_of(source, schema)
    parts = [text_of(c, schema[c]).fill_null("") for c in columns]
    return frame.select(
        ID, pl.concat_str(parts, separator="\n").fill_null("").alias("__text")
    ).collect()


# -- selection -----------------------------------------------------------------------------------
@dataclass
class Selection:
    exemplar_ids: list[int]
    eval_ids: list[int]
    notes: list[str] = field(default_factory=list)


def _label_strings(series: pl.Series) -> np.ndarray:
    return np.asarray(series.cast(pl.String).fill_null("(none)").to_list(), dtype=object)


def _groups(labels: np.ndarray | None, positions: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """(label, positions in row order) for each label among `positions`, labels sorted."""
    if labels is None:
        return [("", positions)]
    if len(positions) == 0:
        return []
    names, codes = np.unique(labels[positions].astype(str), return_inverse=True)
    order = np.argsort(codes, kind="stable")
    cuts = np.flatnonzero(np.diff(codes[order])) + 1
    return [
        (str(names[codes[part[0]]]), positions[part]) for part in np.split(order, cuts) if len(part)
    ]


def draw_eval(
    ids: np.ndarray, labels: np.ndarray | None, eval_n: int, seed: int, held: np.ndarray
) -> np.ndarray:
    """Positions of the evaluation rows (see the module docstring)."""
    from studio.engine.steps.select import _choose, _proportional_quotas

    rng = np.random.default_rng(seed)
    candidates = np.flatnonzero(~held)
    if eval_n <= 0 or len(candidates) == 0:
        return np.zeros(0, dtype=np.int64)
    if labels is None:
        return np.sort(_choose(rng, candidates, min(eval_n, len(candidates))))
    groups = _groups(labels, candidates)
    caps = [max(len(p) - 1, 0) for _, p in groups]
    target = min(eval_n, sum(caps))
    if target <= 0:
        return np.zeros(0, dtype=np.int64)
    quotas = _proportional_quotas(caps, target)
    parts = [_choose(rng, p, q) for (_, p), q in zip(groups, quotas, strict=True) if q]
    return np.sort(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)


def select_pack(frame: pl.LazyFrame, step: FewShotPack) -> Selection:
    """The exemplar and evaluation row ids for `step` on `frame` (deterministic)."""
    from studio.engine.steps.select import _choose, cluster_texts, diverse_positions

    label_col = step.per_label if step.mode != "marked" else ""
    keys = frame.select([ID, *([step.per_label] if step.per_label else [])]).collect()
    ids = keys[ID].to_numpy()
    n = len(ids)
    labels = _label_strings(keys[step.per_label]) if label_col else None
    strat = _label_strings(keys[step.per_label]) if step.per_label else None
    notes: list[str] = []
    held = np.zeros(n, dtype=bool)
    marked_pos = np.zeros(0, dtype=np.int64)
    if step.mode == "marked":
        where = {int(v): i for i, v in enumerate(ids.tolist())}
        marked_pos = np.asarray([where[i] for i in step.ids if i in where], dtype=np.int64)
        missing = len(step.ids) - len(marked_pos)
        if missing:
            notes.append(f"{missing} marked row(s) are no longer in the data")
        held[marked_pos] = True
    report(0, 1, "drawing the evaluation rows")
    eval_pos = draw_eval(ids, strat, step.eval_n, step.seed, held)
    if len(eval_pos) < step.eval_n:
        notes.append(f"only {len(eval_pos)} evaluation rows could be drawn (asked {step.eval_n})")
    in_eval = np.zeros(n, dtype=bool)
    in_eval[eval_pos] = True
    if step.mode == "marked":
        chosen = marked_pos
        if len(chosen) == 0:
            raise StepError("No rows are marked: mark exemplars in Browse (space) first.")
    else:
        pool = np.flatnonzero(~in_eval)
        rng = np.random.default_rng([step.seed, 1])
        parts: list[np.ndarray] = []
        plans: list[tuple[np.ndarray, int]] = []
        for name, members in _groups(labels, pool):
            take = min(step.k, len(members))
            if 0 < take < step.k:
                rows = f"{len(members)} row{'' if len(members) == 1 else 's'}"
                got = f"{take} exemplar{'' if take == 1 else 's'}"
                notes.append(
                    f"label {name!r} has only {rows} outside evaluation: {got} of it, not {step.k}"
                    if labels is not None
                    else f"only {rows} outside evaluation: {got}, not {step.k}"
                )
            if take == len(members):
                parts.append(members)
            elif step.mode == "diverse":
                # clustering a seeded sample of a big group finds the same kinds of rows
                if len(members) > DIVERSE_POOL:
                    members = _choose(rng, members, DIVERSE_POOL)
                plans.append((members, take))
            else:
                parts.append(_choose(rng, members, take))
        if plans:
            report(0.2, 1, "clustering for diverse exemplars")
            needed = np.unique(np.concatenate([m for m, _ in plans]))
            texts = _cluster_texts(
                frame.filter(id_in(pl.Series(ids[needed], dtype=pl.UInt64))),
                step.input_source(frame.collect_schema()),
            )
            text_of_id = dict(zip(texts[ID].to_list(), texts["__text"].to_list(), strict=True))
            for members, take in plans:
                check_cancelled()
                group_texts = [text_of_id.get(int(i), "") for i in ids[members]]
                try:
                    found = cluster_texts(ids[members], group_texts, k=take, seed=step.seed)
                    picked = diverse_positions(found.labels, found.k, take, step.seed)
                    parts.append(members[picked])
                except StepError:  # e.g. no words to cluster on: fall back to a seeded sample
                    notes.append("too little text to cluster; exemplars drawn at random")
                    parts.append(_choose(rng, members, take))
        chosen = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
        chosen = chosen[np.random.default_rng([step.seed, 2]).permutation(len(chosen))]
        if len(chosen) == 0:
            raise StepError(
                f"No rows are left for exemplars: the {len(eval_pos):,} evaluation rows take "
                f"all {n:,} rows; ask for fewer evaluation rows."
            )
    report(1, 1, "done")
    return Selection(
        exemplar_ids=[int(i) for i in ids[chosen]],
        eval_ids=[int(i) for i in ids[eval_pos]],
        notes=notes,
    )


def pack_frame(frame: pl.LazyFrame, selection: Selection) -> pl.LazyFrame:
    """The pack rows: exemplars in their order, then the evaluation rows, with `fewshot`."""
    order = pl.DataFrame(
        {
            ID: pl.Series(selection.exemplar_ids + selection.eval_ids, dtype=pl.UInt64),
            ROLE: ["exemplar"] * len(selection.exemplar_ids) + ["eval"] * len(selection.eval_ids),
            "__order": np.arange(len(selection.exemplar_ids) + len(selection.eval_ids)),
        }
    )
    wanted = id_in(order[ID])
    return (
        frame.filter(wanted)
        .drop(ROLE, strict=False)
        .join(order.lazy(), on=ID, how="inner")
        .sort("__order")
        .drop("__order")
    )


# -- rendering and tokens --------------------------------------------------------------------------
@dataclass
class Pack:
    """What a pack holds, ready to preview or write."""

    exemplars: pl.DataFrame  # _id, input, output, label
    eval: pl.DataFrame  # _id, input, output
    labels: list[str]
    prompt: str  # PROMPT.md: exemplars filled, {input} kept
    preview: str  # the prompt filled with the first evaluation input
    prompt_tokens: int  # tokens of the prompt without an input
    eval_tokens: list[int]  # tokens of the prompt filled with each evaluation input
    context: int
    context_source: str
    tokenizer_label: str
    estimate: bool
    notes: list[str] = field(default_factory=list)

    @property
    def max_tokens(self) -> int:
        return max(self.eval_tokens, default=self.prompt_tokens)

    @property
    def over_limit(self) -> int:
        return sum(1 for t in self.eval_tokens if t > self.context)

    def token_line(self) -> str:
        kind = "≈ " if self.estimate else ""
        line = (
            f"{kind}{self.prompt_tokens:,} tokens without an input, up to {kind}{self.max_tokens:,}"
            f" with an evaluation input, of {self.context:,} ({self.context_source}); "
            f"tokenizer: {self.tokenizer_label}"
        )
        if self.over_limit:
            line += f"; {self.over_limit} evaluation prompt(s) over the limit"
        return line


def context_limit(counter: TokenCounter, requested: int = 0) -> tuple[int, str]:
    """The context size to compare against and where it came from."""
    if requested > 0:
        return requested, "given"
    tokenizer = getattr(counter, "tokenizer", None)
    limit = getattr(tokenizer, "model_max_length", None)
    if isinstance(limit, int) and 0 < limit < 10_000_000:
        return limit, "the tokenizer's model_max_length"
    return DEFAULT_CONTEXT, "assumed; pass a context size"


def render_exemplars(exemplar_format: str, rows: pl.DataFrame) -> str:
    blocks = []
    for n, row in enumerate(rows.iter_rows(named=True), start=1):
        values = {
            "input": row["input"],
            "output": row["output"],
            "label": row.get("label") or row["output"],
            "n": str(n),
        }
        blocks.append(fill(exemplar_format, values))
    return EXEMPLAR_SEPARATOR.join(blocks)


def render_prompt(template: str, exemplars: str, input_text: str, labels: list[str], k: int) -> str:
    values = {"exemplars": exemplars, "input": input_text, "labels": ", ".join(labels), "k": str(k)}
    return fill(template, values)


def _rows(frame: pl.LazyFrame, ids: list[int], step: FewShotPack) -> pl.DataFrame:
    schema = frame.collect_schema()
    if not ids:
        return pl.DataFrame(
            schema={ID: pl.UInt64, "input": pl.String, "output": pl.String, "label": pl.String}
        )
    order = pl.DataFrame({ID: pl.Series(ids, dtype=pl.UInt64), "__o": np.arange(len(ids))})
    data = (
        frame.filter(id_in(order[ID]))
        .join(order.lazy(), on=ID, how="inner")
        .sort("__o")
        .drop("__o")
        .collect()
    )
    source_in = step.input_source(schema)
    source_out = step.output_source(schema)
    out = pl.DataFrame(
        {
            ID: data[ID],
            "input": pl.Series(_values(data, source_in, "input"), dtype=pl.String),
            "output": pl.Series(_values(data, source_out, "output"), dtype=pl.String),
        }
    )
    if step.per_label and step.per_label in data.columns:
        out = out.with_columns(data[step.per_label].cast(pl.String).alias("label"))
    else:
        out = out.with_columns(pl.col("output").alias("label"))
    return out


def build_pack(frame: pl.LazyFrame, step: FewShotPack, selection: Selection | None = None) -> Pack:
    """Select, render and count tokens (selection can be passed in when already known)."""
    from studio.engine.tokens import load_tokenizer

    schema = frame.collect_schema()
    step.validate(schema)
    selection = selection or select_pack(frame, step)
    both = _rows(frame, selection.exemplar_ids + selection.eval_ids, step)
    exemplars = both.head(len(selection.exemplar_ids))
    evaluation = both.slice(len(selection.exemplar_ids)).drop("label")
    if step.per_label:
        labels = sorted(
            frame.select(pl.col(step.per_label).cast(pl.String).fill_null("(none)").unique())
            .collect()
            .to_series()
            .to_list()
        )
    else:
        labels = sorted({v for v in exemplars["label"].to_list() if v})
    block = render_exemplars(step.exemplar_format, exemplars)
    k = exemplars.height
    prompt = render_prompt(step.template, block, "{input}", labels, k)
    filled = [render_prompt(step.template, block, t, labels, k) for t in evaluation["input"]]
    counter = load_tokenizer(step.tokenizer)
    check_cancelled()
    counts = counter.count([render_prompt(step.template, block, "", labels, k), *filled])
    limit, source = context_limit(counter, step.context)
    return Pack(
        exemplars=exemplars,
        eval=evaluation,
        labels=labels,
        prompt=prompt,
        preview=filled[0] if filled else prompt,
        prompt_tokens=counts[0],
        eval_tokens=list(counts[1:]),
        context=limit,
        context_source=source,
        tokenizer_label=counter.label,
        estimate=counter.estimate,
        notes=list(selection.notes),
    )


# -- writing -------------------------------------------------------------------------------------
@dataclass
class PackResult:
    folder: Path
    files: list[Path]
    pack: Pack

    def summary(self) -> str:
        return (
            f"wrote {self.pack.exemplars.height} exemplars and {self.pack.eval.height} "
            f"evaluation rows to {self.folder}"
        )


def pack_targets(folder: Path) -> list[Path]:
    return [Path(folder) / name for name in FILES]


def existing_targets(folder: str | Path) -> list[Path]:
    return [p for p in pack_targets(Path(folder)) if p.exists()]


def _jsonl(frame: pl.DataFrame) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in frame.iter_rows(named=True))


def write_pack(
    dataset: Dataset,
    frame: pl.LazyFrame,
    step: FewShotPack,
    folder: str | Path,
    *,
    force: bool = False,
    recipe: Recipe | None = None,
    pack: Pack | None = None,
) -> PackResult:
    """Write PROMPT.md, exemplars.jsonl, eval.jsonl and fewshot.recipe.json into `folder`, all
    or nothing. `recipe` holds the steps that led to `frame`; the pack step is appended."""
    from studio.engine.io.export_writers import OutputGroup
    from studio.engine.recipe import Recipe

    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise WriteError(f"{folder} is a file; choose a folder for the pack.")
    if not force:
        existing = existing_targets(folder)
        if existing:
            raise WriteError(f"{existing[0]} already exists; pass --force to overwrite it.")
    pack = pack or build_pack(frame, step)
    check_cancelled()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WriteError(f"Cannot create the folder {folder} ({exc.strerror or exc}).") from exc
    exemplars = pack.exemplars.with_columns(dataset.source_ids(pack.exemplars[ID]).alias("source"))
    if not step.per_label:
        exemplars = exemplars.drop("label")
    evaluation = pack.eval.with_columns(
        dataset.source_ids(pack.eval[ID]).alias("source"),
        pl.Series("prompt_tokens", pack.eval_tokens, dtype=pl.Int64),
    )
    full = Recipe(
        steps=[*(recipe.steps if recipe else []), step],
        source=dict(recipe.source)
        if recipe and recipe.source
        else {"paths": list(dataset.paths), "options": dict(dataset.options)},
        restored=dict(recipe.restored) if recipe else {},
    )
    paths = pack_targets(folder)
    texts = [
        pack.prompt if pack.prompt.endswith("\n") else pack.prompt + "\n",
        _jsonl(exemplars.drop(ID)),
        _jsonl(evaluation.drop(ID)),
        full.dumps(),
    ]
    group = OutputGroup()
    try:
        for path, text in zip(paths, texts, strict=True):
            group.text(path, text)
        check_cancelled()
    except BaseException:
        group.rollback()
        raise
    group.commit()
    return PackResult(folder=folder, files=paths, pack=pack)
