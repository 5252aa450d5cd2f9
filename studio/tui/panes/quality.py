"""The Quality pane: the report's figures, recomputed in a worker after every step. Enter on a
figure opens the rows behind it in Browse.

Below the figures and plots, the likely label errors (given label, predicted label,
self-confidence, margin, text) can be acted on: `a` relabels the row under the cursor to the
predicted label, `e` to a label typed or picked, `d` drops it; `space` marks suspects and
`A`/`E`/`D` do the same for every marked suspect. Each is a step (`edit.cell` for one row,
`edit.cells` for many, `rows.drop`) posted with `StepRequested`, so it lands in the recipe,
undoes with ctrl+z and replays headless with `studio run`."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, DataTable, Label, Static
from textual.worker import get_current_worker

from studio.engine.progress import RunContext, running
from studio.engine.report import SUSPECTS_TITLE, Report, _fmt, report_for
from studio.engine.steps.base import ID, Step, id_in
from studio.engine.steps.edit import EditCell
from studio.engine.steps.relabel import EditCells
from studio.engine.steps.rows import DropRows
from studio.tui.messages import OpenRows, StepRequested
from studio.tui.panes.base import Pane
from studio.tui.widgets.bars import bar_chart

DROP_REASON = "likely label error"


class SuspectTable(DataTable):
    """The likely label errors; the keys act on the cursor row (lower case) or the marked rows
    (upper case)."""

    BINDINGS = [
        Binding("space", "mark", "Mark", id="quality.suspect-mark", tooltip="Mark this suspect"),
        Binding(
            "a",
            "relabel_predicted(False)",
            "Relabel to predicted",
            id="quality.suspect-accept",
            tooltip="Set this row's label to the predicted label",
        ),
        Binding(
            "e",
            "relabel_to(False)",
            "Relabel to…",
            id="quality.suspect-relabel",
            tooltip="Set this row's label to a label you type or pick",
        ),
        Binding("d", "drop(False)", "Drop", id="quality.suspect-drop", tooltip="Drop this row"),
        Binding(
            "A",
            "relabel_predicted(True)",
            "Relabel marked",
            id="quality.suspect-accept-marked",
            tooltip="Set every marked suspect's label to its predicted label",
        ),
        Binding(
            "E",
            "relabel_to(True)",
            "Relabel marked to…",
            show=False,
            id="quality.suspect-relabel-marked",
            tooltip="Set every marked suspect's label to a label you type or pick",
        ),
        Binding(
            "D",
            "drop(True)",
            "Drop marked",
            id="quality.suspect-drop-marked",
            tooltip="Drop every marked suspect",
        ),
    ]

    def action_mark(self) -> None:
        self.pane.toggle_mark()

    def action_relabel_predicted(self, marked: bool) -> None:
        self.pane.relabel_predicted(marked)

    def action_relabel_to(self, marked: bool) -> None:
        self.pane.relabel_to(marked)

    def action_drop(self, marked: bool) -> None:
        self.pane.drop_suspects(marked)

    @property
    def pane(self) -> QualityPane:
        return next(a for a in self.ancestors if isinstance(a, QualityPane))


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
        self.suspects: list[dict[str, Any]] = []
        self.marked: set[int] = set()
        self.label_column = ""

    def compose(self) -> ComposeResult:
        with Horizontal(id="quality-bar"):
            yield Label("Quality report", id="quality-status")
            yield Button("Recompute", id="quality-recompute")
        with VerticalScroll(id="quality-body"):
            yield DataTable(id="quality-figures", cursor_type="row", zebra_stripes=True)
            yield Static(id="quality-plots")
            yield Static("", id="quality-suspects-title")
            yield SuspectTable(id="quality-suspects", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        table = self.query_one("#quality-figures", DataTable)
        table.add_columns("section", "figure", "value", "detail", "rows")
        suspects = self.query_one("#quality-suspects", SuspectTable)
        suspects.add_columns("", "row", "given", "predicted", "self-conf.", "margin", "text")
        suspects.display = False
        if self.workspace is not None:
            self.workspace_changed()

    def workspace_changed(self) -> None:
        if (
            self.workspace is None
            or self.workspace.generation == self._generation
            and self.report is not None
        ):
            return
        # measure only while the tab is on screen: the report (label errors included) is heavy
        if self.shown():
            self.compute()

    def on_show(self) -> None:
        self.workspace_changed()

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
        self.suspects = list(labels.table) if labels else []
        ws = self.workspace
        self.label_column = (ws.dataset.shape.label or "") if ws is not None else ""
        present = {r["row"] for r in self.suspects}
        self.marked &= present
        self._fill_suspects()
        self._status(
            f"Quality report · {report.values.get('rows', 0):,} rows · Enter opens the rows behind a figure"
        )

    # -- likely label errors -----------------------------------------------------------------
    def _fill_suspects(self) -> None:
        table = self.query_one("#quality-suspects", SuspectTable)
        title = self.query_one("#quality-suspects-title", Static)
        cursor = table.cursor_row
        table.clear()
        table.display = bool(self.suspects)
        if not self.suspects:
            title.update("")
            return
        title.update(
            Text.assemble(
                (SUSPECTS_TITLE, "bold"),
                "\n",
                (
                    "a relabel to predicted · e relabel to… · d drop · space mark · "
                    "A/E/D for marked · Enter opens the row",
                    "dim",
                ),
            )
        )
        for r in self.suspects:
            table.add_row(
                Text("●" if r["row"] in self.marked else " "),
                Text(f"{r['row']}"),
                Text(str(r["given"])),
                Text(str(r["predicted"])),
                Text(_fmt(r["self_confidence"])),
                Text(_fmt(r["margin"])),
                Text(str(r.get("text", ""))),
                key=str(r["row"]),
            )
        if cursor:
            table.move_cursor(row=min(cursor, table.row_count - 1))

    def _current(self) -> dict[str, Any] | None:
        table = self.query_one("#quality-suspects", SuspectTable)
        if not self.suspects or table.row_count == 0:
            return None
        return self.suspects[min(table.cursor_row, len(self.suspects) - 1)]

    def _targets(self, marked: bool) -> list[dict[str, Any]]:
        if marked:
            rows = [r for r in self.suspects if r["row"] in self.marked]
            if not rows:
                self.notify("No suspects are marked: mark them with space first.", markup=False)
            return rows
        current = self._current()
        return [current] if current else []

    def toggle_mark(self) -> None:
        current = self._current()
        if current is None:
            return
        self.marked ^= {current["row"]}
        table = self.query_one("#quality-suspects", SuspectTable)
        row = table.cursor_row
        table.update_cell_at(
            (row, 0), Text("●" if current["row"] in self.marked else " "), update_width=False
        )
        if row + 1 < table.row_count:
            table.move_cursor(row=row + 1)

    def _old_values(self, ids: list[int]) -> dict[int, Any]:
        ws = self.workspace
        if ws is None or not self.label_column:
            return {}
        df = ws.frame.filter(id_in(ids)).select(ID, self.label_column).collect()
        return dict(zip(df[ID].to_list(), df[self.label_column].to_list(), strict=True))

    def _relabel(self, rows: list[dict[str, Any]], new: list[Any]) -> None:
        if not rows or not self.label_column:
            return
        ids = [int(r["row"]) for r in rows]
        old = self._old_values(ids)
        step: Step
        if len(rows) == 1:
            step = EditCell(id=ids[0], column=self.label_column, old=old.get(ids[0]), new=new[0])
        else:
            step = EditCells(
                column=self.label_column,
                ids=tuple(ids),
                old=tuple(old.get(i) for i in ids),
                new=tuple(new),
                note="likely label errors",
            )
        self.marked -= set(ids)
        self.post_message(StepRequested(step))
        self._status(f"{step.describe()} · ctrl+z undoes")

    def relabel_predicted(self, marked: bool) -> None:
        rows = self._targets(marked)
        self._relabel(rows, [r["predicted"] for r in rows])

    def relabel_to(self, marked: bool) -> None:
        rows = self._targets(marked)
        if not rows:
            return
        from studio.tui.screens.relabel import RelabelScreen

        classes = sorted({str(r["given"]) for r in self.suspects} | self._known_labels())
        what = f"row {rows[0]['row']}" if len(rows) == 1 else f"{len(rows):,} marked rows"

        def done(value: str | None) -> None:
            if value:
                self._relabel(rows, [value] * len(rows))

        self.app.push_screen(
            RelabelScreen(
                f"New {self.label_column} for {what}", classes, str(rows[0]["predicted"])
            ),
            done,
        )

    def _known_labels(self) -> set[str]:
        if self.report is None:
            return set()
        labels = next((s for s in self.report.sections if s.title == "Labels"), None)
        return {str(name) for name, _ in labels.bars} if labels else set()

    def drop_suspects(self, marked: bool) -> None:
        rows = self._targets(marked)
        if not rows:
            return
        ids = tuple(int(r["row"]) for r in rows)
        self.marked -= set(ids)
        step = DropRows(ids=ids, reason=DROP_REASON)
        self.post_message(StepRequested(step))
        self._status(f"{step.describe()} · ctrl+z undoes")

    @on(DataTable.RowSelected, "#quality-suspects")
    def _open_suspect(self, event: DataTable.RowSelected) -> None:
        event.stop()
        current = self._current()
        if current is not None:
            self.post_message(OpenRows([int(current["row"])], f"suspect row {current['row']}"))

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
    def _selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open_rows()
