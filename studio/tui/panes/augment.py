"""The Augment pane: choose a method (rule-based EDA, paraphrase, back-translation), the field,
the scope and the quality gates; preview a few source rows beside their variants; run in a
worker with rows per second and time left; Escape cancels, keeping or discarding the rows done.
"""

from __future__ import annotations

import time

import polars as pl
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Input, Label, Select, Static
from textual.worker import get_current_worker

from studio.engine.augment import AUG_SOURCE, default_column
from studio.engine.errors import StepError, StudioError
from studio.engine.progress import Cancelled, RunContext, running
from studio.engine.steps.augment import AugmentEda
from studio.engine.steps.augment_models import AugmentModel
from studio.engine.steps.base import ID, Step
from studio.tui.messages import StepRequested
from studio.tui.panes.base import Pane

METHODS = [
    ("rule-based (EDA)", "eda"),
    ("paraphrase model", "paraphrase"),
    ("back-translation", "backtranslate"),
]
SCOPES = [
    ("all rows", "all"),
    ("marked rows (Browse)", "marked"),
    ("chosen classes", "classes"),
    ("until each class has N", "target"),
]
PREVIEW_ROWS = 4
BATCH = 64


class AugmentPane(Pane):
    TAB_ID = "augment"
    TITLE = "Augment"
    DEFAULT_CSS = """
    AugmentPane .aug-row { height: 3; }
    AugmentPane .aug-key { width: 12; padding: 1 1 0 0; }
    AugmentPane Input { width: 1fr; }
    AugmentPane Select { width: 1fr; }
    AugmentPane #aug-buttons { height: 3; }
    AugmentPane #aug-status { height: auto; padding: 0 1; }
    """
    BINDINGS = [
        Binding("ctrl+r", "preview", "Preview", id="augment.preview"),
        Binding("ctrl+g", "run", "Run", id="augment.run"),
    ]

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        super().__init__(*args, **kwargs)
        self._cancel_choice = "keep"
        self.last_report = None

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            with Horizontal(classes="aug-row"):
                yield Label("Method", classes="aug-key")
                yield Select(METHODS, value="eda", allow_blank=False, id="aug-method")
                yield Label("Field", classes="aug-key")
                yield Input(placeholder="default for the shape", id="aug-column")
            with Horizontal(classes="aug-row"):
                yield Label("Model", classes="aug-key")
                yield Input(placeholder="name or local path (seq2seq)", id="aug-model")
                yield Label("Back model", classes="aug-key")
                yield Input(placeholder="back-translation: pivot → source", id="aug-pivot")
            with Horizontal(classes="aug-row"):
                yield Label("Scope", classes="aug-key")
                yield Select(SCOPES, value="all", allow_blank=False, id="aug-scope")
                yield Label("Classes", classes="aug-key")
                yield Input(placeholder="comma-separated (classes/target)", id="aug-classes")
            with Horizontal(classes="aug-row"):
                yield Label("Per row", classes="aug-key")
                yield Input("1", id="aug-per-row", type="integer")
                yield Label("Target N", classes="aug-key")
                yield Input("0", id="aug-target", type="integer")
            with Horizontal(classes="aug-row"):
                yield Label("Similarity", classes="aug-key")
                yield Input(
                    "40",
                    id="aug-min",
                    type="number",
                    tooltip="drop variants below this similarity (nonsense)",
                )
                yield Input(
                    "98",
                    id="aug-max",
                    type="number",
                    tooltip="drop variants above this similarity (copies)",
                )
                yield Label("Seed", classes="aug-key")
                yield Input("0", id="aug-seed", type="integer")
            with Horizontal(classes="aug-row"):
                yield Label("Sampling", classes="aug-key")
                yield Input(
                    "1.0",
                    id="aug-temperature",
                    type="number",
                    tooltip="temperature (0 = beam search)",
                )
                yield Input("0.95", id="aug-top-p", type="number", tooltip="top-p")
                yield Input("1", id="aug-beams", type="integer", tooltip="beams")
            with Horizontal(id="aug-buttons"):
                yield Button("Preview (ctrl+r)", id="aug-preview")
                yield Button("Run (ctrl+g)", id="aug-run", variant="primary")
                yield Select(
                    [("on cancel: keep rows done", "keep"), ("on cancel: discard", "discard")],
                    value="keep",
                    allow_blank=False,
                    id="aug-cancel",
                )
            yield Static("", id="aug-status")
            yield Static("", id="aug-preview-table")

    # -- building the step ------------------------------------------------------------------
    def _int(self, widget: str, default: int) -> int:
        try:
            return int(self.query_one(widget, Input).value)
        except ValueError:
            return default

    def _float(self, widget: str, default: float) -> float:
        try:
            return float(self.query_one(widget, Input).value)
        except ValueError:
            return default

    def build_step(self, *, max_sources: int = 0) -> Step:
        ws = self.workspace
        if ws is None:
            raise StepError("Open a dataset first.")
        method = str(self.query_one("#aug-method", Select).value)
        scope = str(self.query_one("#aug-scope", Select).value)
        column = self.query_one("#aug-column", Input).value.strip()
        classes = tuple(
            c.strip() for c in self.query_one("#aug-classes", Input).value.split(",") if c.strip()
        )
        label = ws.dataset.shape.label or ""
        if scope in ("classes", "target") and not label:
            raise StepError("No label column was detected; classes cannot be chosen.")
        only_ids: tuple[int, ...] = ()
        if scope == "marked":
            only_ids = (
                tuple(sorted(self.app.marked_ids())) if hasattr(self.app, "marked_ids") else ()
            )
            if not only_ids:
                raise StepError("No rows are marked: mark rows in Browse with space first.")
        common = dict(
            column=column,
            per_row=max(1, self._int("#aug-per-row", 1)),
            label=label if scope in ("classes", "target") else "",
            only_labels=classes if scope in ("classes", "target") else (),
            target_count=max(0, self._int("#aug-target", 0)) if scope == "target" else 0,
            min_similarity=self._float("#aug-min", 40.0),
            max_similarity=self._float("#aug-max", 98.0),
            seed=self._int("#aug-seed", 0),
        )
        if method == "eda" and not only_ids and not max_sources:
            return AugmentEda(**common)  # type: ignore[arg-type]
        model = self.query_one("#aug-model", Input).value.strip()
        if method != "eda" and not model:
            raise StepError("Enter a model name or a local folder for this method.")
        return AugmentModel(
            method=method,
            model=model,
            pivot_model=self.query_one("#aug-pivot", Input).value.strip(),
            temperature=self._float("#aug-temperature", 1.0),
            top_p=self._float("#aug-top-p", 0.95),
            num_beams=max(1, self._int("#aug-beams", 1)),
            only_ids=only_ids,
            max_sources=max_sources,
            batch_size=16,
            **common,  # type: ignore[arg-type]
        )

    def _show_status_area(self) -> None:
        status = self.query_one("#aug-status", Static)
        self.call_after_refresh(status.scroll_visible, top=True, animate=False)

    def _status(self, text: str | Text) -> None:
        self.query_one("#aug-status", Static).update(text if isinstance(text, Text) else Text(text))

    # -- preview and run --------------------------------------------------------------------
    @on(Button.Pressed, "#aug-preview")
    def action_preview(self) -> None:
        try:
            step = self.build_step(max_sources=PREVIEW_ROWS)
        except StudioError as exc:
            self._status(str(exc))
            return
        self.preview(step)

    @work(
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group="augment",
        description="augment preview",
    )
    def preview(self, step: Step) -> None:
        ws = self.workspace
        assert ws is not None
        self.app.call_from_thread(self._status, "Previewing…")
        frame = ws.frame.collect()
        report = step.run(frame)  # type: ignore[attr-defined]
        self.app.call_from_thread(self._show_preview, report)

    def _show_preview(self, report) -> None:  # noqa: ANN001
        new = report.new_rows()
        column = report.column
        table = Table(title=f"Preview: {report.summary()}", expand=True, show_lines=True)
        table.add_column("source row")
        table.add_column("variant")
        table.add_column("method")
        table.add_column("sim", justify="right")
        if new.height:
            sources = report.frame.filter(pl.col(ID).is_in(new[AUG_SOURCE].implode())).select(
                ID, column
            )
            lookup = dict(zip(sources[ID].to_list(), sources[column].to_list(), strict=False))
            for row in new.iter_rows(named=True):
                table.add_row(
                    Text(str(lookup.get(row[AUG_SOURCE], ""))),
                    Text(str(row[column])),
                    Text(str(row["aug_method"])),
                    Text(f"{row['aug_similarity']:.0f}"),
                )
        self.query_one("#aug-preview-table", Static).update(table)
        self._status(Text(f"Field: {column}. " + " ".join(report.notes)))
        # at 80x24 the preview is below the form: bring it on screen
        self._show_status_area()

    @on(Button.Pressed, "#aug-run")
    def action_run(self) -> None:
        try:
            step = self.build_step()
        except StudioError as exc:
            self._status(str(exc))
            return
        self._cancel_choice = str(self.query_one("#aug-cancel", Select).value)
        self._show_status_area()
        self.run_augment(step)

    @work(
        thread=True, exclusive=True, exit_on_error=False, group="augment", description="augmenting"
    )
    def run_augment(self, step: Step) -> None:
        ws = self.workspace
        assert ws is not None
        worker = get_current_worker()
        started = time.monotonic()
        state = {"done": 0.0}

        def progress(done: float, total: float, note: str) -> None:
            state["done"] = done
            elapsed = max(time.monotonic() - started, 1e-6)
            rate = done / elapsed
            left = (total - done) / rate if rate > 0 else float("inf")
            self.app.call_from_thread(
                self._status,
                f"{note}: {done:,.0f}/{total:,.0f} · {rate:,.1f} rows/s · {left:,.0f} s left · Escape cancels",
            )

        frame = ws.frame.collect()
        try:
            with running(
                RunContext(on_progress=progress, is_cancelled=lambda: worker.is_cancelled)
            ):
                report = step.run(frame)  # type: ignore[attr-defined]
        except Cancelled:
            done = int(state["done"])
            per_row_mode = isinstance(step, AugmentModel) and step.target_count == 0
            sources = done // step.per_row if per_row_mode else 0  # type: ignore[attr-defined]
            if self._cancel_choice == "keep" and sources > 0:
                from dataclasses import replace

                kept = replace(step, max_sources=sources)
                self.app.call_from_thread(
                    self._status,
                    f"Cancelled: keeping the rows made from the first {kept.max_sources:,} rows.",
                )
                self.app.call_from_thread(self.post_message, StepRequested(kept))
            else:
                self.app.call_from_thread(self._status, "Cancelled: nothing was added.")
            return
        self.last_report = report
        self.app.call_from_thread(self._status, f"{report.summary()} — applying as a step")
        self.app.call_from_thread(self.post_message, StepRequested(step))

    def workspace_changed(self) -> None:
        ws = self.workspace
        if ws is None or not self.is_mounted:
            return
        try:
            column = default_column(ws.frame)
        except StudioError:
            column = ""
        self.query_one("#aug-column", Input).placeholder = (
            f"default: {column}" if column else "choose a text column"
        )
