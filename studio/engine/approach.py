"""The fine-tuning approach panel's engine: data figures in, scored trade-offs and a reasoned
recommendation out, plus a GPU memory and time estimator.

Memory formulas (GB, for a base model of P billion parameters; `o` = 0.2 GB per billion
parameters of activations and buffers at batch 1 and 1,024 tokens, growing linearly with
batch x sequence length):

- full fine-tuning, 16-bit (pure bf16 weights, gradients and AdamW states): 8 P + o P
- LoRA, 16-bit frozen base: 2 P + 0.16 P (adapters ~1 % of P, with gradients and fp32 AdamW
  states at 16 bytes a parameter) + o P
- QLoRA 8-bit: 1 P + 0.16 P + o P;  QLoRA 4-bit: 0.5 P + 0.16 P + o P
- prompting only (16-bit inference): 2 P x 1.2 (KV cache and buffers)

For 7B these give about 57, 16.5, 9.5 and 6 GB, within 25 % of LLaMA-Factory's published
hardware table (60, 16, 10 and 6 GB), and like that table they scale linearly with P.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

APPROACHES = ("task", "multitask", "transfer", "prompting")
APPROACH_NAMES = {
    "task": "Task-specific fine-tuning",
    "multitask": "Multi-task learning",
    "transfer": "Transfer learning (intermediate task)",
    "prompting": "Prompt engineering / few-shot",
}
METHODS = ("full", "lora", "qlora8", "qlora4", "prompt")
METHOD_NAMES = {
    "full": "Full fine-tuning (16-bit)",
    "lora": "LoRA (16-bit)",
    "qlora8": "QLoRA (8-bit)",
    "qlora4": "QLoRA (4-bit)",
    "prompt": "Prompting only (inference)",
}
_BYTES = {"full": 8.0, "lora": 2.0, "qlora8": 1.0, "qlora4": 0.5}
_ADAPTER = 0.16
_ACTIVATIONS = 0.2


@dataclass(frozen=True)
class DataFigures:
    """What the recommendation is computed from (measured on the loaded data)."""

    rows: int = 0
    labelled_rows: int = 0
    classes: int = 0
    smallest_class: int = 0
    smallest_class_name: str = ""
    imbalance_ratio: float = 1.0
    tasks: int = 1
    train_tokens: int = 0
    tokens_estimated: bool = True
    label_noise: float | None = None
    duplicate_rate: float = 0.0
    shape: str = "unknown"

    def to_json(self) -> dict[str, object]:
        return asdict(self)


@dataclass
class Scored:
    approach: str
    score: int
    pros: list[str] = field(default_factory=list)
    cons: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return APPROACH_NAMES[self.approach]


@dataclass
class Recommendation:
    approach: str
    method: str
    reasons: list[str]
    would_change: list[str]
    preparation: list[str]
    scores: list[Scored]

    def to_json(self) -> dict[str, object]:
        return {
            "approach": self.approach,
            "approach_name": APPROACH_NAMES[self.approach],
            "method": self.method,
            "method_name": METHOD_NAMES[self.method],
            "reasons": self.reasons,
            "would_change": self.would_change,
            "preparation": self.preparation,
            "scores": [
                {"approach": s.approach, "score": s.score, "pros": s.pros, "cons": s.cons}
                for s in self.scores
            ],
        }


# -- memory and time ---------------------------------------------------------------------
def memory_gb(params_b: float, method: str, *, batch: int = 1, seq_len: int = 1024) -> float:
    """Estimated GPU memory in GB for training (or inference for 'prompt') a P-billion model."""
    activations = _ACTIVATIONS * params_b * (batch * seq_len / 1024)
    if method == "prompt":
        return 2.0 * params_b * 1.2
    if method == "full":
        return _BYTES["full"] * params_b + activations
    if method in ("lora", "qlora8", "qlora4"):
        return _BYTES[method] * params_b + _ADAPTER * params_b + activations
    raise ValueError(f"unknown method {method!r}")


MEMORY_FORMULAS = {
    "full": "8·P (bf16 weights + grads + AdamW) + 0.2·P·(batch·seq/1024) GB",
    "lora": "2·P (frozen 16-bit base) + 0.16·P (adapters, grads, AdamW) + 0.2·P·(batch·seq/1024) GB",
    "qlora8": "1·P (8-bit base) + 0.16·P + 0.2·P·(batch·seq/1024) GB",
    "qlora4": "0.5·P (4-bit base) + 0.16·P + 0.2·P·(batch·seq/1024) GB",
    "prompt": "2·P·1.2 (16-bit weights + KV cache) GB",
}


@dataclass(frozen=True)
class Estimate:
    params_b: float
    memory: dict[str, float]
    tokens_per_epoch: int
    steps_per_epoch: int
    hours_per_epoch: float
    throughput: float

    def to_json(self) -> dict[str, object]:
        return asdict(self)


def estimate(
    params_b: float,
    figures: DataFigures,
    *,
    batch: int = 8,
    grad_accum: int = 1,
    seq_len: int = 1024,
    throughput_tokens_s: float = 2500.0,
) -> Estimate:
    """Memory per method, and tokens, optimizer steps and hours per epoch at a throughput."""
    rows = figures.labelled_rows or figures.rows
    steps = math.ceil(rows / max(1, batch * grad_accum)) if rows else 0
    tokens = figures.train_tokens
    hours = tokens / throughput_tokens_s / 3600 if throughput_tokens_s > 0 else float("inf")
    memory = {m: round(memory_gb(params_b, m, batch=1, seq_len=seq_len), 1) for m in METHODS}
    return Estimate(params_b, memory, tokens, steps, hours, throughput_tokens_s)


def cheapest_method(params_b: float, gpu_gb: float, *, seq_len: int = 1024) -> str:
    """The most capable fine-tuning method that fits in `gpu_gb` (full > lora > qlora8 > qlora4)."""
    for method in ("full", "lora", "qlora8", "qlora4"):
        if memory_gb(params_b, method, seq_len=seq_len) <= gpu_gb:
            return method
    return "prompt"


# -- recommendation ----------------------------------------------------------------------
FEW_ROWS = 200
"""Below this many labelled rows, fine-tuning rarely beats a well-built few-shot prompt."""
MIN_PER_CLASS = 30
"""A class with fewer rows than this is too small to learn reliably by fine-tuning."""
SMALL_TARGET = 2000
NOISE_HIGH = 0.08
DUP_HIGH = 0.05
IMBALANCE_HIGH = 10.0


def _n(value: int) -> str:
    return f"{value:,}"


def recommend(
    figures: DataFigures, *, params_b: float = 7.0, gpu_gb: float = 24.0
) -> Recommendation:
    """Score every approach for this data and pick one, with reasons in the data's figures."""
    f = figures
    labelled = f.labelled_rows or (
        f.rows if f.shape in ("alpaca", "chat", "sharegpt", "preference") else 0
    )
    classification = f.classes > 0
    few = labelled < FEW_ROWS
    thin_class = classification and f.smallest_class < MIN_PER_CLASS
    multi = f.tasks >= 2

    scores = {a: Scored(a, 50) for a in APPROACHES}
    p = scores["prompting"]
    t = scores["task"]
    m = scores["multitask"]
    x = scores["transfer"]

    p.pros.append("no training run; iterate on the prompt in minutes")
    p.cons.append("every request pays for the exemplars in context tokens")
    t.pros.append("best accuracy when the task has enough clean examples")
    t.cons.append("needs a training run and a GPU; one model per task")
    m.pros.append("one model shares what related tasks have in common")
    m.cons.append("task mixture weights need tuning; a large task can drown a small one")
    x.pros.append("a related, larger task first lets a small target task reuse what was learned")
    x.cons.append("two training stages; a poor intermediate task can hurt")

    if few:
        p.score += 35
        t.score -= 25
        p.pros.append(
            f"only {_n(labelled)} labelled rows: enough for exemplars and an evaluation set"
        )
        t.cons.append(f"{_n(labelled)} labelled rows is little to fine-tune on (under {FEW_ROWS})")
    else:
        t.score += 25
        t.pros.append(f"{_n(labelled)} labelled rows is enough to fine-tune on")
        p.cons.append(f"{_n(labelled)} labelled rows would go unused by a few-shot prompt")
    if thin_class:
        p.score += 15
        t.score -= 15
        t.cons.append(
            f"the smallest class '{f.smallest_class_name}' has only {_n(f.smallest_class)} rows (under {MIN_PER_CLASS})"
        )
    if multi:
        m.score += 35
        x.score += 15
        m.pros.append(f"{f.tasks} tasks in the data")
    else:
        m.score -= 30
        m.cons.append("the data holds a single task")
        x.score -= 10
    if multi and labelled < SMALL_TARGET:
        x.score += 15
        x.pros.append(
            f"the target data is small ({_n(labelled)} rows) and there are other tasks to learn from first"
        )
    if f.label_noise is not None and f.label_noise >= NOISE_HIGH:
        t.score -= 10
        m.score -= 5
        t.cons.append(
            f"about {f.label_noise:.0%} of labels look wrong: fine-tuning learns the noise"
        )
    if f.duplicate_rate >= DUP_HIGH:
        t.cons.append(f"{f.duplicate_rate:.0%} of rows are duplicates: the model overfits on them")
        t.score -= 5
    if classification and f.imbalance_ratio >= IMBALANCE_HIGH:
        t.cons.append(
            f"classes are imbalanced {f.imbalance_ratio:.0f}:1: the model will favour the majority"
        )
        t.score -= 5
    for s in scores.values():
        s.score = max(0, min(100, s.score))

    ranked = sorted(scores.values(), key=lambda s: (-s.score, APPROACHES.index(s.approach)))
    best = ranked[0].approach
    method = "prompt" if best == "prompting" else cheapest_method(params_b, gpu_gb)
    if method == "full" and labelled < 50_000:
        method = (
            "lora"  # full fine-tuning rarely pays off below ~50k rows; LoRA is cheaper and as good
        )

    reasons: list[str] = []
    change: list[str] = []
    prep: list[str] = []
    facts = f"{_n(labelled)} labelled rows" if labelled else f"{_n(f.rows)} rows, none labelled"
    if classification:
        facts += f", {f.classes} classes, smallest class '{f.smallest_class_name}' {_n(f.smallest_class)} rows"
    if multi:
        facts += f", {f.tasks} tasks"
    if f.train_tokens:
        facts += f", {_n(f.train_tokens)} training tokens per epoch{' (estimated)' if f.tokens_estimated else ''}"
    reasons.append(facts + ".")
    if best == "prompting":
        reasons.append(
            "Too little labelled data to fine-tune reliably; a few-shot prompt with diverse exemplars is the better first step."
        )
        need = max(FEW_ROWS - labelled, 0)
        if classification:
            change.append(
                f"With at least {MIN_PER_CLASS} rows in every class (the smallest has {_n(f.smallest_class)}) and {FEW_ROWS} labelled rows in all, task-specific LoRA fine-tuning becomes the better choice."
            )
        else:
            change.append(
                f"With about {_n(need)} more labelled rows ({FEW_ROWS} in all), task-specific LoRA fine-tuning becomes the better choice."
            )
        prep.append(
            "Pick k diverse exemplars (Filter pane: diverse sample) and keep a held-out evaluation set to refine the prompt against."
        )
    elif best == "multitask":
        reasons.append(
            f"The data holds {f.tasks} tasks; one model trained on a balanced mixture shares what they have in common."
        )
        change.append(
            "With a single task, or one task far more important than the rest, task-specific fine-tuning is simpler."
        )
        prep.append(
            "Balance the mixture across tasks (cap large tasks, repeat small ones a little) and dedup across tasks."
        )
    elif best == "transfer":
        reasons.append(
            f"The target task is small ({_n(labelled)} rows) but related tasks are present: train on them first, then on the target."
        )
        change.append(
            f"With more than {_n(SMALL_TARGET)} target rows, direct task-specific fine-tuning is enough."
        )
        prep.append(
            "Write stage 1 (source tasks) and stage 2 (target) separately and check the target's validation and test rows against stage 1 for leaks."
        )
    else:
        reasons.append("There is enough labelled data for task-specific fine-tuning.")
        if classification and f.smallest_class < MIN_PER_CLASS * 3:
            change.append(
                f"With fewer than {MIN_PER_CLASS} rows in the smallest class, few-shot prompting would be safer."
            )
        else:
            change.append(
                f"With fewer than {FEW_ROWS} labelled rows, few-shot prompting would be the better start."
            )
        if multi:
            change.append("The data has several tasks: a multi-task mixture is the alternative.")
        prep.append(
            "Dedup, fix noisy labels, balance classes if skewed, and write a leak-free train/validation/test split."
        )
    if f.label_noise is not None and f.label_noise >= NOISE_HIGH:
        prep.append(f"Review the likely label errors first (about {f.label_noise:.0%} of rows).")
    if f.duplicate_rate >= DUP_HIGH:
        prep.append(f"Remove duplicates first ({f.duplicate_rate:.0%} of rows).")
    if classification and f.imbalance_ratio >= IMBALANCE_HIGH:
        prep.append(
            f"Balance classes ({f.imbalance_ratio:.0f}:1 now) in the Balance pane, keeping copies out of validation."
        )
    if method != "prompt":
        mem = memory_gb(params_b, method)
        reasons.append(
            f"{METHOD_NAMES[method]} fits a {params_b:g}B model in {gpu_gb:g} GB (about {mem:.0f} GB needed)."
        )
    return Recommendation(best, method, reasons, change, prep, ranked)


def figures_from_report(values: dict[str, object], tasks: int = 1) -> DataFigures:
    """Build DataFigures from `report.figures_for_approach` output."""
    known = {f for f in DataFigures.__dataclass_fields__}
    data = {k: v for k, v in values.items() if k in known}
    data["tasks"] = tasks
    return DataFigures(**data)  # type: ignore[arg-type]


def count_tasks(frame: object) -> int:
    """Tasks in the data: distinct values of a `task` or `source` column, else 1."""
    import polars as pl

    lazy = frame.lazy() if isinstance(frame, pl.DataFrame) else frame  # type: ignore[union-attr]
    names = lazy.collect_schema().names()  # type: ignore[union-attr]
    for col in ("task", "source", "task_name"):
        if col in names:
            return int(lazy.select(pl.col(col).n_unique()).collect().item())  # type: ignore[union-attr]
    return 1


@dataclass(frozen=True)
class NextAction:
    """The action that prepares the data for a recommended approach (an app action name)."""

    action: str  # "open_mixture", "open_fewshot", "open_transfer" or "export"
    label: str


def next_action(approach: str, figures: DataFigures) -> NextAction:
    """The one-step action the Approach panel offers for `approach`."""
    if approach == "prompting":
        return NextAction("open_fewshot", "Write a few-shot pack")
    if approach == "transfer":
        return NextAction("open_transfer", "Prepare transfer stages")
    if approach == "multitask":
        return NextAction("open_mixture", f"Prepare a {max(figures.tasks, 2)}-task mixture")
    return NextAction("export", "Export for task-specific fine-tuning")
