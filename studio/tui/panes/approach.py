"""The Approach panel: trade-offs of each fine-tuning approach scored from the loaded data's own
figures, a recommendation with its reasons, and a GPU memory / time estimator."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Input, Label, Select, Static
from textual.worker import get_current_worker

from studio.engine.approach import (
    APPROACH_NAMES,
    MEMORY_FORMULAS,
    METHOD_NAMES,
    DataFigures,
    NextAction,
    count_tasks,
    estimate,
    figures_from_report,
    next_action,
    recommend,
)
from studio.engine.report import figures_for_approach, report_for
from studio.tui.panes.base import Pane

SIZES = (0.5, 1.5, 3, 7, 8, 13, 14, 32, 34, 70)


class ApproachPane(Pane):
    TAB_ID = "approach"
    TITLE = "Approach"

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        super().__init__(*args, **kwargs)
        self.figures: DataFigures | None = None
        self._generation = -1
        self.action: NextAction | None = None

    def compose(self) -> ComposeResult:
        with Horizontal(id="approach-controls"):
            yield Label("Model")
            yield Select(
                [(f"{s:g}B", s) for s in SIZES], value=7, allow_blank=False, id="approach-size"
            )
            yield Label("GPU GB")
            yield Input("24", id="approach-gpu", type="number")
            yield Label("tok/s")
            yield Input("2500", id="approach-throughput", type="number")
        with VerticalScroll(id="approach-body"):
            yield Static("Measuring the data…", id="approach-recommendation")
            with Horizontal(id="approach-actions"):
                yield Button("…", id="approach-action", variant="primary", disabled=True)
            yield Static(id="approach-scores")
            yield Static(id="approach-estimator")

    def on_mount(self) -> None:
        if self.workspace is not None:
            self.workspace_changed()

    def workspace_changed(self) -> None:
        if self.workspace is None or not self.shown():
            return
        if self.workspace.generation != self._generation or self.figures is None:
            self.measure()

    def on_show(self) -> None:
        self.workspace_changed()

    @work(
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group="approach",
        description="approach figures",
    )
    def measure(self) -> None:
        ws = self.workspace
        if ws is None:
            return
        worker = get_current_worker()
        generation = ws.generation
        values = figures_for_approach(report_for(ws))
        figures = figures_from_report(values, tasks=count_tasks(ws.frame))
        if not worker.is_cancelled:
            self.app.call_from_thread(self._set_figures, figures, generation)

    def _set_figures(self, figures: DataFigures, generation: int) -> None:
        self.figures = figures
        self._generation = generation
        self.render_panel()

    @on(Button.Pressed, "#approach-action")
    def run_action(self) -> None:
        """Open what prepares the data for the recommended approach."""
        if self.action is None:
            return
        if self.action.action == "export":
            self.app.show_tab("export")  # type: ignore[attr-defined]
            return
        # the mixture screen belongs to the multi-source workspace: used when the app has it
        method = getattr(self.app, f"action_{self.action.action}", None)
        if method is None:
            self.notify(
                f"{self.action.label}: not available in this build.",
                severity="warning",
                markup=False,
            )
            return
        method()

    @on(Select.Changed)
    @on(Input.Changed)
    def _inputs_changed(self) -> None:
        if self.figures is not None:
            self.render_panel()

    def _number(self, widget_id: str, default: float) -> float:
        try:
            value = float(self.query_one(widget_id, Input).value)
            return value if value > 0 else default
        except ValueError:
            return default

    def render_panel(self) -> None:
        figures = self.figures
        if figures is None:
            return
        size = float(self.query_one("#approach-size", Select).value)  # type: ignore[arg-type]
        gpu = self._number("#approach-gpu", 24.0)
        throughput = self._number("#approach-throughput", 2500.0)
        rec = recommend(figures, params_b=size, gpu_gb=gpu)
        head = Text()
        head.append("Recommendation: ", style="bold")
        head.append(APPROACH_NAMES[rec.approach], style="bold")
        head.append(f" · {METHOD_NAMES[rec.method]}\n")
        for r in rec.reasons:
            head.append(f"• {r}\n")
        head.append("What would change it\n", style="bold")
        for c in rec.would_change:
            head.append(f"• {c}\n")
        head.append("Data preparation for this choice\n", style="bold")
        for p in rec.preparation:
            head.append(f"• {p}\n")
        self.query_one("#approach-recommendation", Static).update(head)
        self.action = next_action(rec.approach, figures)
        button = self.query_one("#approach-action", Button)
        button.label = Text(f"{self.action.label} →")
        button.disabled = False

        scores = Table(title="Trade-offs scored for this data", expand=True, show_lines=True)
        scores.add_column("approach", ratio=2)
        scores.add_column("score", justify="right")
        scores.add_column("for", ratio=3)
        scores.add_column("against", ratio=3)
        for s in rec.scores:
            scores.add_row(
                Text(s.name), Text(str(s.score)), Text("\n".join(s.pros)), Text("\n".join(s.cons))
            )
        self.query_one("#approach-scores", Static).update(scores)

        est = estimate(size, figures, throughput_tokens_s=throughput)
        mem = Table(title=f"Estimator: {size:g}B model", expand=True)
        mem.add_column("method")
        mem.add_column("GPU memory", justify="right")
        mem.add_column("fits", justify="center")
        mem.add_column("formula (P = billions of parameters)")
        for method, gb in est.memory.items():
            mem.add_row(
                Text(METHOD_NAMES[method]),
                Text(f"{gb:,.1f} GB"),
                Text("yes" if gb <= gpu else "no"),
                Text(MEMORY_FORMULAS[method]),
            )
        tokens_note = " (estimated)" if figures.tokens_estimated else ""
        facts = Text(
            f"Training tokens per epoch: {est.tokens_per_epoch:,}{tokens_note} · steps per epoch (batch 8): {est.steps_per_epoch:,} · "
            f"time per epoch at {throughput:,.0f} tokens/s: {est.hours_per_epoch:,.2f} h"
        )
        self.query_one("#approach-estimator", Static).update(Group(mem, facts))
