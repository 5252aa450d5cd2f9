"""The Mixture screen: choose a rule and its parameters, see the per-task preview (rows in, rows
out, share of rows and of training tokens, epochs), then apply it as a `mix.tasks` step (it
lands in the recipe and undoes like any step). `ctrl+l` first drops rows that duplicate a row
of another task (`mix.dedup_across`).

Task sizes and mean tokens per row are counted once in a worker (again when the column or the
tokenizer changes); the preview itself is arithmetic on them, recomputed on every keystroke
with the same `plan_mixture` the step's `apply` uses.
"""

from __future__ import annotations

import contextlib

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, DataTable, Footer, Input, Label, Select, Static
from textual.worker import Worker, WorkerState, get_current_worker

from studio.engine.errors import StudioError
from studio.engine.mix import (
    MixPreview,
    Plan,
    parse_counts,
    parse_weights,
    plan_mixture,
    preview_from,
)
from studio.engine.steps.base import ID
from studio.engine.steps.mix import DedupAcross, MixTasks
from studio.tui import keymap
from studio.tui.messages import StepRequested
from studio.tui.screens.view import WorkspaceView

RULES: list[tuple[str, str]] = [
    ("proportional, cap K", "proportional"),
    ("temperature n^(1/T)", "temperature"),
    ("percent / weights", "percent"),
    ("fixed counts", "counts"),
]
USED_BY: dict[str, tuple[str, ...]] = {
    "#mix-weights": ("percent", "counts"),
    "#mix-cap": ("proportional", "temperature"),
    "#mix-temperature": ("temperature",),
    "#mix-total": ("proportional", "temperature", "percent"),
}
"""The inputs each rule reads (max repeat and seed: every rule)."""
DEDUP: list[tuple[str, str]] = [
    ("exact", "exact"),
    ("normalized", "normalized"),
    ("near (MinHash)", "near"),
]


def _number(text: str, kind: type, default: float) -> float:
    text = text.strip()
    if not text:
        return default
    try:
        return kind(text)
    except ValueError:
        raise StudioError(f"{text!r} is not a number.") from None


class MixtureScreen(WorkspaceView):
    BINDINGS = keymap.bindings("mixture")

    def __init__(self) -> None:
        super().__init__()
        self.sizes: dict[str, int] = {}
        self.means: dict[str, float] = {}
        self.tokens_label = ""
        self.estimated = True
        self.preview: MixPreview | None = None
        self._counted_for: tuple[int, str, str] | None = None
        self._filled = ""  # the weights text filled in (not typed)

    def compose(self) -> ComposeResult:
        yield Static("Mixture", classes="view-title", id="mix-title")
        with VerticalScroll(id="mix-scroll"):
            with Horizontal(classes="mix-row"):
                yield Label("Task column", classes="mix-key")
                yield Select([], id="mix-column", prompt="column", compact=True)
                yield Label("Rule", classes="mix-key")
                yield Select(
                    RULES, value="proportional", allow_blank=False, id="mix-rule", compact=True
                )
            with Horizontal(classes="mix-row"):
                yield Label("Weights/counts", classes="mix-key")
                yield Input("", id="mix-weights", placeholder="qa=0.5,summarize=0.5", compact=True)
            with Horizontal(classes="mix-row"):
                yield Label("K", classes="mix-key")
                yield Input("0", id="mix-cap", type="integer", compact=True)
                yield Label("T", classes="mix-key")
                yield Input("2", id="mix-temperature", type="number", compact=True)
                yield Label("Total", classes="mix-key")
                yield Input("0", id="mix-total", type="integer", compact=True)
                yield Label("Max repeat", classes="mix-key")
                yield Input("1", id="mix-repeat", type="number", compact=True)
                yield Label("Seed", classes="mix-key")
                yield Input("0", id="mix-seed", type="integer", compact=True)
            with Horizontal(classes="mix-row"):
                yield Label("Tokenizer", classes="mix-key")
                yield Input("", id="mix-tokenizer", placeholder="(estimate: chars/4)", compact=True)
                yield Button("Apply (ctrl+g)", id="mix-apply", compact=True, variant="primary")
            yield DataTable(id="mix-table", cursor_type="row", show_cursor=False)
            yield Static("", id="mix-summary")
            with Horizontal(classes="mix-row"):
                yield Label("Cross-task duplicates", classes="mix-key")
                yield Select(DEDUP, value="exact", allow_blank=False, id="mix-dedup", compact=True)
                yield Button("Drop (ctrl+l)", id="mix-dedup-apply", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#mix-table", DataTable).add_columns(
            "task", "rows in", "rows out", "% rows", "% tokens", "epochs"
        )
        self._rule_inputs()
        self.workspace_changed()

    # -- workspace ---------------------------------------------------------------------------
    @property
    def column(self) -> str:
        select = self.query_one("#mix-column", Select)
        return "" if select.is_blank() else str(select.value)

    def workspace_changed(self) -> None:
        if not self.is_mounted:
            return
        ws = self.workspace
        title = self.query_one("#mix-title", Static)
        if ws is None:
            title.update(Text("Mixture · no dataset opened"))
            return
        title.update(
            Text(
                f"Mixture · {ws.dataset.name} · {ws.rows:,} rows · {len(ws.steps)} "
                f"step{'' if len(ws.steps) == 1 else 's'}",
                no_wrap=True,
                overflow="ellipsis",
            )
        )
        schema = ws.frame.collect_schema()
        columns = [
            c
            for c, dtype in schema.items()
            if c != ID and not dtype.is_nested() and not dtype.is_float()
        ]
        select = self.query_one("#mix-column", Select)
        keep = self.column
        select.set_options([(c, c) for c in columns])
        for choice in (keep, "task", ws.dataset.shape.label or ""):
            if choice and choice in columns:
                select.value = choice
                break
        self.request_counts()

    def request_counts(self) -> None:
        ws = self.workspace
        if ws is None or not self.column:
            return
        tokenizer = self.query_one("#mix-tokenizer", Input).value.strip()
        key = (ws.generation, self.column, tokenizer)
        if key == self._counted_for:
            return
        self._counted_for = key
        self.query_one("#mix-summary", Static).update(Text("Counting tasks…", style="dim"))
        self.count_tasks(self.column, tokenizer)

    @work(
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group="mix-counts",
        description="counting tasks",
    )
    def count_tasks(self, column: str, tokenizer: str) -> None:
        from studio.engine.mix import task_sizes, tokens_per_row

        ws = self.workspace
        if ws is None:
            return
        frame = ws.frame
        sizes = task_sizes(frame, column)
        if get_current_worker().is_cancelled:
            return
        means, label, estimated = tokens_per_row(frame, column, tokenizer or None)
        if get_current_worker().is_cancelled:
            return
        with contextlib.suppress(RuntimeError):
            self.app.call_from_thread(self._counted, column, sizes, means, label, estimated)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A count that failed (e.g. an unknown tokenizer) leaves the last preview, says so,
        and is tried again on the next change."""
        super().on_worker_state_changed(event)
        if event.worker.group != "mix-counts" or event.state != WorkerState.ERROR:
            return
        self._counted_for = None
        if not self.is_mounted:
            return
        self.refresh_preview()
        note = Text(
            "tokens not counted (see the message); the last count is shown"
            if self.sizes
            else "Counting failed (see the message).",
            style="bold",
        )
        summary = self.query_one("#mix-summary", Static)
        if self.preview is None:
            summary.update(note)
            return
        text = Text("\n".join(self.preview.lines()[len(self.preview.tasks) + 1 :]) + "\n")
        text.append_text(note)
        summary.update(text)

    def _counted(
        self,
        column: str,
        sizes: dict[str, int],
        means: dict[str, float],
        label: str,
        estimated: bool,
    ) -> None:
        if column != self.column:
            return
        self.sizes, self.means = sizes, means
        self.tokens_label, self.estimated = label, estimated
        weights = self.query_one("#mix-weights", Input)
        if sizes and (not weights.value.strip() or weights.value == self._filled):
            self._fill_weights()
        self.refresh_preview()

    def _fill_weights(self) -> None:
        """Start the weights/counts from every task: equal shares (percent), or each task's
        rows (counts), so switching the rule does not read shares as counts."""
        if not self.sizes:
            return
        rule = str(self.query_one("#mix-rule", Select).value)
        if rule == "counts":
            text = ",".join(f"{t}={n}" for t, n in self.sizes.items())
        else:
            share = round(1 / len(self.sizes), 4)
            text = ",".join(f"{t}={share}" for t in self.sizes)
        self._filled = text
        self.query_one("#mix-weights", Input).value = text

    # -- preview -----------------------------------------------------------------------------
    def _plan(self, step: MixTasks) -> Plan:
        """The step's plan over the task sizes (raises StudioError when it cannot be met)."""
        return plan_mixture(
            self.sizes,
            step.rule,
            counts=dict(step.counts),
            weights=dict(step.weights),
            total=step.total,
            cap=step.cap,
            temperature=step.temperature,
            max_repeat=step.max_repeat,
        )

    def current_step(self) -> MixTasks:
        if not self.column:
            raise StudioError("Choose the task column.")
        rule = str(self.query_one("#mix-rule", Select).value)
        text = self.query_one("#mix-weights", Input).value

        def value(wid: str, kind: type, default: float) -> float:
            if wid in USED_BY and rule not in USED_BY[wid]:
                return default  # an input this rule does not read (disabled)
            return _number(self.query_one(wid, Input).value, kind, default)

        common = {
            "column": self.column,
            "cap": int(value("#mix-cap", int, 0)),
            "total": int(value("#mix-total", int, 0)),
            "max_repeat": float(value("#mix-repeat", float, 1.0)),
            "seed": int(value("#mix-seed", int, 0)),
        }
        if rule == "percent":
            return MixTasks(rule=rule, weights=tuple(parse_weights(text).items()), **common)
        if rule == "counts":
            counts = tuple(parse_counts(text).items())
            return MixTasks(rule=rule, counts=counts, **common)
        if rule == "temperature":
            temperature = float(value("#mix-temperature", float, 1.0))
            return MixTasks(rule=rule, temperature=temperature, **common)
        return MixTasks(rule=rule, **common)

    def refresh_preview(self) -> None:
        summary = self.query_one("#mix-summary", Static)
        table = self.query_one("#mix-table", DataTable)
        table.clear()
        self.preview = None
        if not self.sizes:
            summary.update(Text("No tasks: choose a column that names each row's task."))
            return
        try:
            step = self.current_step()
            plan = self._plan(step)
        except StudioError as exc:
            summary.update(Text(str(exc), style="bold"))
            return
        self.preview = preview_from(plan, self.means, self.tokens_label, self.estimated)
        for row in self.preview.table()[1:]:
            table.add_row(Text(row[0]), *(Text(cell, justify="right") for cell in row[1:]))
        lines = self.preview.lines()[len(self.preview.tasks) + 1 :]
        summary.update(Text("\n".join(lines)))

    def _rule_inputs(self) -> None:
        """Disable the inputs the chosen rule does not use (they are skipped by Tab, too)."""
        rule = str(self.query_one("#mix-rule", Select).value)
        for wid, used in USED_BY.items():
            self.query_one(wid, Input).disabled = rule not in used

    @on(Select.Changed, "#mix-column")
    def _column_changed(self) -> None:
        self.sizes = {}
        self.request_counts()

    @on(Input.Submitted, "#mix-tokenizer")
    def _tokenizer_changed(self) -> None:
        self.request_counts()

    @on(Select.Changed, "#mix-rule")
    @on(Input.Changed)
    def _controls_changed(self, event: Input.Changed | Select.Changed) -> None:
        if getattr(event, "input", None) is not None and event.input.id == "mix-tokenizer":  # type: ignore[union-attr]
            return
        if isinstance(event, Select.Changed):
            self._rule_inputs()
            if self.query_one("#mix-weights", Input).value == self._filled:
                self._fill_weights()  # not typed over: restart it for the rule
        self.refresh_preview()

    # -- actions -----------------------------------------------------------------------------
    @on(Button.Pressed, "#mix-apply")
    def action_apply_mix(self) -> None:
        try:
            step = self.current_step()
            if self.sizes:
                self._plan(step)
        except StudioError as exc:
            self.notify(str(exc), severity="error", title="Mixture", markup=False)
            return
        self.app.post_message(StepRequested(step))
        self.dismiss(None)

    @on(Button.Pressed, "#mix-dedup-apply")
    def action_dedup_across(self) -> None:
        if not self.column:
            self.notify("Choose the task column.", severity="warning", markup=False)
            return
        method = str(self.query_one("#mix-dedup", Select).value)
        self.app.post_message(StepRequested(DedupAcross(column=self.column, method=method)))
