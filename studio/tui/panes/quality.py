"""The Quality pane: the report's figures, recomputed in a worker after every step. Enter on a
figure opens the rows behind it in Browse."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, DataTable, Label, Static
from textual.worker import get_current_worker

from studio.engine.progress import RunContext, running
from studio.engine.report import Report, _fmt, report_for
from studio.tui.messages import OpenRows
from studio.tui.panes.base import Pane
from studio.tui.widgets.bars import bar_chart


class QualityPane(Pane):
    TAB_ID = "quality"
    TITLE = "Quality"
    BINDINGS = [
        ("r", "recompute", "Recompute"),
        ("enter", "open_rows", "Open rows"),
    ]

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        super().__init__(*args, **kwargs)
        self.report: Report | None = None
        self._generation = -1
        self._row_keys: list[str] = []

    def compose(self) -> ComposeResult:
        with Horizontal(id="quality-bar"):
            yield Label("Quality report", id="quality-status")
            yield Button("Recompute", id="quality-recompute")
        with VerticalScroll(id="quality-body"):
            yield DataTable(id="quality-figures", cursor_type="row", zebra_stripes=True)
            yield Static(id="quality-plots")
            yield Static(id="quality-suspects")

    def on_mount(self) -> None:
        table = self.query_one("#quality-figures", DataTable)
        table.add_columns("section", "figure", "value", "detail", "rows")
        if self.workspace is not None:
            self.workspace_changed()

    def workspace_changed(self) -> None:
        if (
            self.workspace is None
            or self.workspace.generation == self._generation
            and self.report is not None
        ):
            return
        if self.is_mounted:
            self.compute()

    def action_recompute(self) -> None:
        self.compute()

    @on(Button.Pressed, "#quality-recompute")
    def _recompute(self) -> None:
        self.compute()

    @work(
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group="quality",
        description="quality report",
    )
    def compute(self) -> None:
        ws = self.workspace
        if ws is None:
            return
        worker = get_current_worker()
        generation = ws.generation
        self.app.call_from_thread(self._status, "Measuring…")

        def progress(done: float, total: float, note: str) -> None:
            self.app.call_from_thread(self._status, f"Measuring… {note} ({done:.0f}/{total:.0f})")

        with running(RunContext(on_progress=progress, is_cancelled=lambda: worker.is_cancelled)):
            report = report_for(ws)
        if not worker.is_cancelled:
            self.app.call_from_thread(self._show, report, generation)

    def _status(self, text: str) -> None:
        self.query_one("#quality-status", Label).update(text)

    def _show(self, report: Report, generation: int) -> None:
        self.report = report
        self._generation = generation
        table = self.query_one("#quality-figures", DataTable)
        table.clear()
        self._row_keys = []
        for section in report.sections:
            for fig in section.figures:
                table.add_row(
                    section.title,
                    fig.label,
                    _fmt(fig.value),
                    fig.detail,
                    f"{len(fig.ids):,}" if fig.ids else "",
                    key=fig.key,
                )
                self._row_keys.append(fig.key)
        plots = [s for s in report.sections if s.bars]
        from rich.console import Group
        from rich.text import Text

        parts = []
        for s in plots:
            parts.append(Text(s.title, style="bold"))
            parts.append(bar_chart(s.bars))
        self.query_one("#quality-plots", Static).update(Group(*parts) if parts else "")
        labels = next((s for s in report.sections if s.title == "Labels" and s.table), None)
        if labels:
            from rich.table import Table

            t = Table(title="Likely label errors (lowest self-confidence first)", expand=False)
            for c in labels.table[0]:
                t.add_column(c)
            for row in labels.table:
                t.add_row(*(Text(_fmt(v)) for v in row.values()))
            self.query_one("#quality-suspects", Static).update(t)
        else:
            self.query_one("#quality-suspects", Static).update("")
        self._status(
            f"Quality report · {report.values.get('rows', 0):,} rows · Enter opens the rows behind a figure"
        )

    def action_open_rows(self) -> None:
        table = self.query_one("#quality-figures", DataTable)
        if self.report is None or not self._row_keys:
            return
        key = self._row_keys[table.cursor_row]
        fig = self.report.figure(key)
        if fig and fig.ids:
            self.post_message(OpenRows(fig.ids, fig.label))
        elif fig:
            self.notify("No rows behind this figure.", markup=False)

    @on(DataTable.RowSelected, "#quality-figures")
    def _selected(self) -> None:
        self.action_open_rows()
