"""The Balance pane: the class distribution of a label, a resampling strategy with a before/after
preview, and the train/validation/test split with its table of counts.

The preview comes from the step's own `plan()` (the same code `apply` uses to size each class),
so what the table shows is what applying produces. Counting runs in a worker; the preview is
pure arithmetic on the counts and runs on the UI thread.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import polars as pl
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, DataTable, Input, Label, Select, Static
from textual.worker import get_current_worker

from studio.engine.errors import StudioError
from studio.engine.steps.balance import (
    AugmentOversample,
    CapClasses,
    Oversample,
    Undersample,
    classes_of,
    imbalance_ratio,
)
from studio.engine.steps.base import ID, Step
from studio.engine.steps.split import SPLIT, SPLITS, SplitAssign, split_counts
from studio.tui.messages import StepRequested
from studio.tui.panes.base import Pane

STRATEGIES: list[tuple[str, str]] = [
    ("oversample (copies)", "over"),
    ("undersample", "under"),
    ("augment (EDA)", "augment"),
    ("cap per class", "cap"),
]
BAR_WIDTH = 20
POSITIVE = {"1", "true", "yes", "pos", "positive", "spam"}
NONE_LABEL = "(none)"


def _css() -> str:
    path = Path(__file__).parent.parent / "styles" / "balance.tcss"
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return ""


def build_step(strategy: str, label: str, target: str, seed: int) -> Step:
    """The balance step the pane's controls describe (the CLI builds the same ones)."""
    target = target.strip() or "auto"
    if strategy == "under":
        return Undersample(label=label, target=target, seed=seed)
    if strategy == "augment":
        return AugmentOversample(label=label, target=target, seed=seed)
    if strategy == "cap":
        if target.isdigit():
            return CapClasses(label=label, max_rows=int(target), seed=seed)
        if "=" in target:
            return CapClasses(label=label, per_class=target, seed=seed)
        raise StudioError("For a cap, write a row count (500) or CLASS=N,... as the target.")
    return Oversample(label=label, target=target, seed=seed)


def positive_negative(counts: dict[Any, int]) -> tuple[Any, Any] | None:
    """For two classes: (positive, negative); positive is a 1/true/yes/pos-like value, else
    the smaller class."""
    if len(counts) != 2:
        return None
    keys = list(counts)
    for key in keys:
        if str(key).strip().lower() in POSITIVE:
            return key, next(k for k in keys if k != key)
    small = min(keys, key=lambda k: (counts[k], str(k)))
    return small, next(k for k in keys if k != small)


class BalancePane(Pane):
    TAB_ID = "balance"
    TITLE = "Balance"
    DEFAULT_CSS = _css()
    BINDINGS = [
        Binding(
            "a",
            "apply_balance",
            "Apply balance",
            id="balance.apply",
            tooltip="Apply the chosen balance strategy",
        ),
        Binding("t", "apply_split", "Apply split", id="balance.split", tooltip="Assign the splits"),
    ]

    def __init__(self, workspace=None, **kwargs) -> None:  # noqa: ANN001, ANN003
        super().__init__(workspace, **kwargs)
        self.counts: dict[Any, int] | None = None
        self.nulls = 0
        self.preview: dict[Any, int] | None = None
        self._label = ""
        self._columns: list[str] = []
        self._counting = False
        self._dirty = False

    # -- layout ------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        with VerticalScroll(id="balance-scroll"):
            with Horizontal(classes="balance-row"):
                yield Label("Label", classes="balance-key")
                yield Select([], id="balance-label", prompt="column", compact=True)
                yield Label("Strategy", classes="balance-key")
                yield Select(
                    STRATEGIES, value="over", allow_blank=False, id="balance-strategy", compact=True
                )
            with Horizontal(classes="balance-row"):
                yield Label("Target", classes="balance-key")
                yield Input("auto", id="balance-target", compact=True)
                yield Label("Seed", classes="balance-key")
                yield Input("0", id="balance-seed", type="integer", compact=True)
                yield Button("Apply", id="balance-apply", compact=True)
            yield Static("", id="balance-summary")
            yield DataTable(id="balance-table", cursor_type="row", show_cursor=False)
            yield Static("", id="balance-note")
            yield Static("Split", classes="balance-heading")
            with Horizontal(classes="balance-row"):
                yield Label("Ratios", classes="balance-key")
                yield Input("0.8,0.1,0.1", id="split-ratios", compact=True)
                yield Label("Copies", classes="balance-key")
                yield Select(
                    [("train only", "train"), ("with source", "group")],
                    value="train",
                    allow_blank=False,
                    id="split-copies",
                    compact=True,
                )
            with Horizontal(classes="balance-row"):
                yield Label("Stratify", classes="balance-key")
                yield Select([], id="split-stratify", prompt="none", compact=True)
                yield Label("Group", classes="balance-key")
                yield Select([], id="split-group", prompt="none", compact=True)
                yield Button("Split", id="split-apply", compact=True)
            yield DataTable(id="split-table", cursor_type="row", show_cursor=False)

    def on_mount(self) -> None:
        table = self.query_one("#balance-table", DataTable)
        table.add_columns("class", "count", "share", "", "after", "change")
        self.workspace_changed()

    # -- workspace ---------------------------------------------------------------------------
    def workspace_changed(self) -> None:
        if not self.is_mounted:
            return
        if self.workspace is None:
            self.query_one("#balance-summary", Static).update("No dataset opened.")
            return
        columns = [c for c in self.workspace.columns if c not in (ID, SPLIT)]
        label_select = self.query_one("#balance-label", Select)
        if columns != self._columns:
            self._columns = columns
            options = [(c, c) for c in columns]
            current = self._label or self.workspace.dataset.shape.label or ""
            label_select.set_options(options)
            for sid in ("#split-stratify", "#split-group"):
                select = self.query_one(sid, Select)
                keep = select.value
                select.set_options(options)
                if keep in columns:
                    select.value = keep
            if current in columns:
                label_select.value = current
                self._label = current
                stratify = self.query_one("#split-stratify", Select)
                if stratify.is_blank():
                    stratify.value = current
        self.request_count()

    def request_count(self) -> None:
        """Count classes in a worker; while one runs, remember to count again when it ends
        (not an exclusive worker: cancelling would waste the work done so far)."""
        if self._counting:
            self._dirty = True
            return
        self._counting = True
        self._dirty = False
        self.count_classes(self._label)

    @work(thread=True, exit_on_error=False, group="balance-counts", description="counting classes")
    def count_classes(self, label: str) -> None:
        result: tuple[str, dict[Any, int] | None, int, pl.DataFrame | None] | None = None
        try:
            workspace = self.workspace
            if workspace is None:
                return
            frame = workspace.frame
            schema = frame.collect_schema()
            counts: dict[Any, int] | None = None
            nulls = 0
            if label and label in schema:
                classes = classes_of(frame.select(label).collect()[label])
                counts, nulls = classes.count_map(), classes.nulls
            if get_current_worker().is_cancelled:
                return
            table = (
                split_counts(frame, label if label in schema else "") if SPLIT in schema else None
            )
            result = (label, counts, nulls, table)
        finally:
            if self.app.is_running:
                with contextlib.suppress(RuntimeError):  # the app closed meanwhile
                    self.app.call_from_thread(self._count_done, result)

    def _count_done(
        self, result: tuple[str, dict[Any, int] | None, int, pl.DataFrame | None] | None
    ) -> None:
        self._counting = False
        if self._dirty:
            self.request_count()
            return
        if result is None or result[0] != self._label:
            return
        _, self.counts, self.nulls, table = result
        self._render_split(table)
        self.refresh_preview()

    # -- preview -----------------------------------------------------------------------------
    def current_step(self) -> Step:
        if not self._label:
            raise StudioError("Choose the label column.")
        strategy = str(self.query_one("#balance-strategy", Select).value)
        target = self.query_one("#balance-target", Input).value
        seed_text = self.query_one("#balance-seed", Input).value.strip()
        seed = int(seed_text) if seed_text.lstrip("-").isdigit() else 0
        return build_step(strategy, self._label, target, seed)

    def refresh_preview(self) -> None:
        summary = self.query_one("#balance-summary", Static)
        note = self.query_one("#balance-note", Static)
        counts = self.counts
        if not counts:
            self.preview = None
            self._render_table({}, None)
            summary.update(Text("Choose a label column with at least one class."))
            note.update("")
            return
        message = ""
        try:
            step = self.current_step()
            self.preview = step.plan(counts)  # type: ignore[attr-defined]
            if isinstance(step, AugmentOversample):
                message = (
                    "Augmentation makes variants until each class reaches its target; a class "
                    "can fall short when too few distinct variants pass the similarity limits."
                )
        except StudioError as exc:
            self.preview = None
            message = str(exc)
        self._render_table(counts, self.preview)
        parts = [
            f"{sum(counts.values()):,} rows · {len(counts)} classes · "
            f"imbalance {imbalance_ratio(counts):.2f}× (largest/smallest)"
        ]
        pair = positive_negative(counts)
        if pair is not None:
            pos, neg = pair
            ratio = counts[pos] / counts[neg] if counts[neg] else float("inf")
            parts.append(f"positive/negative ({pos}/{neg}) {ratio:.3f}")
        if self.nulls:
            parts.append(f"{self.nulls:,} rows without a label (kept as they are)")
        if self.preview is not None:
            after = sum(self.preview.values()) + self.nulls
            parts.append(f"after: {after:,} rows, imbalance {imbalance_ratio(self.preview):.2f}×")
        summary.update(Text("\n".join(parts)))
        note.update(Text(message))

    def _render_table(self, counts: dict[Any, int], after: dict[Any, int] | None) -> None:
        table = self.query_one("#balance-table", DataTable)
        table.clear()
        if not counts:
            return
        total = sum(counts.values()) or 1
        top = max(counts.values()) or 1
        for key, n in sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0]))):
            bar = "█" * max(1 if n else 0, round(BAR_WIDTH * n / top))
            new = after.get(key, n) if after is not None else None
            change = "" if new is None else f"{new - n:+,}" if new != n else "="
            table.add_row(
                Text(str(key)),
                Text(f"{n:,}", justify="right"),
                Text(f"{n / total:.1%}", justify="right"),
                Text(bar),
                Text("" if new is None else f"{new:,}", justify="right"),
                Text(change, justify="right"),
            )

    def _render_split(self, table: pl.DataFrame | None) -> None:
        widget = self.query_one("#split-table", DataTable)
        widget.clear(columns=True)
        if table is None:
            widget.add_column("split")
            widget.add_row(Text("No split yet: choose ratios and press Split (t)."))
            return
        for name in table.columns:
            widget.add_column(name)
        for row in table.rows():
            widget.add_row(*(Text(f"{v:,}" if isinstance(v, int) else str(v)) for v in row))

    # -- events ------------------------------------------------------------------------------
    @on(Select.Changed, "#balance-label")
    def _label_changed(self, event: Select.Changed) -> None:
        value = "" if event.select.is_blank() else str(event.value)
        if value != self._label:
            self._label = value
            self.counts = None
            self.refresh_preview()
            self.request_count()

    @on(Select.Changed, "#balance-strategy")
    @on(Input.Changed, "#balance-target")
    @on(Input.Changed, "#balance-seed")
    def _controls_changed(self) -> None:
        self.refresh_preview()

    @on(Button.Pressed, "#balance-apply")
    def _apply_pressed(self) -> None:
        self.action_apply_balance()

    @on(Button.Pressed, "#split-apply")
    def _split_pressed(self) -> None:
        self.action_apply_split()

    def action_apply_balance(self) -> None:
        try:
            step = self.current_step()
            if self.counts:
                step.plan(self.counts)  # type: ignore[attr-defined]
        except StudioError as exc:
            self.notify(str(exc), severity="error", title="Balance", markup=False)
            return
        self.post_message(StepRequested(step))

    def split_step(self) -> SplitAssign:
        text = self.query_one("#split-ratios", Input).value
        try:
            ratios = tuple(float(v) for v in text.split(",") if v.strip())
        except ValueError:
            raise StudioError("Write the ratios as numbers: 0.8,0.1,0.1.") from None
        stratify = self.query_one("#split-stratify", Select)
        group = self.query_one("#split-group", Select)
        copies = str(self.query_one("#split-copies", Select).value)
        seed_text = self.query_one("#balance-seed", Input).value.strip()
        step = SplitAssign(
            ratios=ratios,
            stratify="" if stratify.is_blank() else str(stratify.value),
            group="" if group.is_blank() else str(group.value),
            copies=copies,
            seed=int(seed_text) if seed_text.lstrip("-").isdigit() else 0,
        )
        if self.workspace is not None:
            step.validate(self.workspace.frame.collect_schema())
        return step

    def action_apply_split(self) -> None:
        try:
            step = self.split_step()
        except StudioError as exc:
            self.notify(str(exc), severity="error", title="Split", markup=False)
            return
        self.post_message(StepRequested(step))


__all__ = ["SPLITS", "BalancePane", "build_step", "positive_negative"]
