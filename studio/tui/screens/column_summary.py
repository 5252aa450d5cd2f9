"""Column summary: figures for one or every column, computed in a worker."""

from __future__ import annotations

from typing import ClassVar

import polars as pl
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static
from textual.worker import get_current_worker

from studio.engine.stats import ColumnSummary, summarize
from studio.tui.cells import safe_text


def _number(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def summary_text(summary: ColumnSummary) -> Text:
    """The figures of one column as text (values from the data are shown safely)."""
    out = Text()
    out.append_text(safe_text(summary.name, style="bold"))
    out.append(f"  {summary.dtype}\n", style="dim")
    pct = (summary.nulls / summary.rows * 100) if summary.rows else 0.0
    out.append(f"  rows      {summary.rows:,}\n")
    out.append(f"  nulls     {summary.nulls:,} ({pct:.1f}%)\n")
    out.append(f"  distinct  {summary.distinct:,}\n")
    if summary.min_length is not None:
        label = "items" if summary.kind == "list" else "length"
        out.append(
            f"  {label:<9} min {_number(summary.min_length)} · mean "
            f"{_number(summary.mean_length)} · max {_number(summary.max_length)}\n"
        )
    if summary.empty is not None:
        out.append(f"  empty     {summary.empty:,}\n")
    if summary.kind == "number":
        out.append(
            f"  values    min {_number(summary.minimum)} · mean {_number(summary.mean)} · "
            f"max {_number(summary.maximum)}\n"
        )
    if summary.kind == "bool" and summary.mean is not None:
        out.append(f"  true      {summary.mean * 100:.1f}%\n")
    if summary.top:
        out.append("  top values\n")
        for value, count in summary.top:
            share = count / summary.rows * 100 if summary.rows else 0.0
            out.append(f"    {count:>10,} {share:5.1f}%  ")
            if value is None:
                out.append("null", style="dim")
            else:
                out.append_text(safe_text(value, width=50))
            out.append("\n")
    return out


class ColumnSummaryScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,c", "close", "Close", id="summary.close", tooltip="Close the summary"),
        Binding(
            "down,j", "scroll_down", "Down", show=False, id="summary.down", tooltip="Scroll down"
        ),
        Binding("up,k", "scroll_up", "Up", show=False, id="summary.up", tooltip="Scroll up"),
    ]

    DEFAULT_CSS = """
    ColumnSummaryScreen { align: center middle; }
    ColumnSummaryScreen #summary-box {
        width: 90%; max-width: 100; height: auto; max-height: 90%;
        background: $panel; border: round $primary; padding: 0 1;
    }
    """

    def __init__(self, frame: pl.LazyFrame, columns: list[str]) -> None:
        super().__init__()
        self.frame = frame
        self.columns = columns
        self.summaries: list[ColumnSummary] | None = None

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="summary-box") as box:
            box.border_title = "Column summary" if len(self.columns) == 1 else "All columns"
            box.border_subtitle = "Escape closes"
            yield Static(Text("Computing…", style="dim"), id="summary-body")

    def on_mount(self) -> None:
        self.query_one("#summary-box").focus()
        self.compute()

    @work(
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group="column-summary",
        description="column summary",
    )
    def compute(self) -> None:
        summaries = summarize(self.frame, self.columns)
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show, summaries)

    def _show(self, summaries: list[ColumnSummary]) -> None:
        self.summaries = summaries
        body = Text()
        for i, summary in enumerate(summaries):
            if i:
                body.append("\n")
            body.append_text(summary_text(summary))
        self.query_one("#summary-body", Static).update(body)

    def action_close(self) -> None:
        self.workers.cancel_group(self, "column-summary")
        self.dismiss()

    def action_scroll_down(self) -> None:
        self.query_one("#summary-box", VerticalScroll).scroll_down(animate=False)

    def action_scroll_up(self) -> None:
        self.query_one("#summary-box", VerticalScroll).scroll_up(animate=False)
