"""The Sources view: every source of the workspace with its rows, detected shape, task name,
mapping onto the common shape and mismatch report, plus a preview of its mapped rows.

Changes (add a source, rename a task, edit a mapping, switch the common shape) rebuild the
combined workspace in a worker (`StudioApp.load_sources`); the steps applied so far are
replayed on it.
"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Footer, Static

from studio.engine.sources import SHAPES, Combined, SourceReport
from studio.engine.steps.base import ID
from studio.tui import keymap
from studio.tui.screens.view import WorkspaceView

PREVIEW_ROWS = 3
CELL = 60


def mapping_text(report: SourceReport) -> str:
    if not report.used:
        return "-"
    return ", ".join(f"{f}←{c}" for f, c in report.used.items())


def status_text(report: SourceReport) -> str:
    if not report.ok:
        return "not used"
    n = len(report.missing) + len(report.problems)
    ignored = len(report.ignored)
    if not n and not ignored:
        return "ok"
    parts = []
    if n:
        parts.append(f"{n} mismatch{'' if n == 1 else 'es'}")
    if ignored:
        parts.append(f"{ignored} ignored")
    return ", ".join(parts)


def _short(value: object, limit: int = CELL) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def preview_lines(combined: Combined, task: str, rows: int = PREVIEW_ROWS) -> list[str]:
    """The first mapped rows of one task, one line per field."""
    frame = (
        combined.dataset.frame.filter(__import__("polars").col("task") == task).head(rows).collect()
    )
    out: list[str] = []
    for row in frame.iter_rows(named=True):
        out.append(f"row {row[ID]}:")
        for key, value in row.items():
            if key in (ID, "task"):
                continue
            if isinstance(value, list):
                for turn in value[:4]:
                    out.append(f"  {turn.get('role')}: {_short(turn.get('content'))}")
            else:
                out.append(f"  {key}: {_short(value)}")
    return out


class SourcesScreen(WorkspaceView):
    BINDINGS = keymap.bindings("sources")

    def compose(self) -> ComposeResult:
        yield Static("Sources", classes="view-title", id="sources-title")
        table: DataTable = DataTable(id="sources-table", cursor_type="row", zebra_stripes=True)
        table.add_columns("task", "file", "rows", "shape", "status", "mapping")
        yield table
        with VerticalScroll(id="sources-detail"):
            yield Static("", id="sources-report")
        yield Static("", classes="view-hint", id="sources-hint")
        yield Footer()

    @property
    def combined(self) -> Combined | None:
        return getattr(self.app, "sources", None)

    def selected(self) -> int:
        return max(self.query_one(DataTable).cursor_row, 0)

    def workspace_changed(self) -> None:
        table = self.query_one(DataTable)
        keep = table.cursor_row
        table.clear()
        ws = self.workspace
        combined = self.combined
        title = "Sources"
        hint = "a adds a source · m opens the mixture · Esc closes"
        if ws is None:
            title += " · no dataset opened"
        elif combined is None:
            ds = ws.dataset
            table.add_row(
                Text("-"),
                Text(ds.name),
                Text(f"{ws.rows:,}"),
                Text(ds.shape.kind),
                Text("ok"),
                Text("(one dataset: no mapping)"),
            )
            title += f" · 1 source · {ws.rows:,} rows"
            hint = "a adds a source: the data is then mapped onto a common shape with a task column"
        else:
            report = combined.report
            for src in report.sources:
                table.add_row(
                    Text(src.task),
                    Text(src.name),
                    Text(f"{src.rows:,}"),
                    Text(src.kind),
                    Text(status_text(src), style="" if status_text(src) == "ok" else "bold"),
                    Text(_short(mapping_text(src), 40)),
                )
            n = len(report.sources)
            title += (
                f" · {n} sources · common shape {report.shape} · {combined.dataset.rows:,} rows"
            )
            hint = "a add · t task name · e mapping · s common shape · m mixture · Esc closes"
        self.query_one("#sources-title", Static).update(
            Text(title, no_wrap=True, overflow="ellipsis")
        )
        self.query_one("#sources-hint", Static).update(Text(hint, style="dim"))
        if table.row_count:
            table.move_cursor(row=min(max(keep, 0), table.row_count - 1))
        self._show_detail()

    @on(DataTable.RowHighlighted)
    def _highlighted(self, _event: DataTable.RowHighlighted) -> None:
        self._show_detail()

    def _show_detail(self) -> None:
        combined = self.combined
        detail = self.query_one("#sources-report", Static)
        if combined is None:
            detail.update(
                Text("One dataset is open. Add a source to combine several.", style="dim")
            )
            return
        sources = combined.report.sources
        if not sources:
            detail.update(Text(""))
            return
        src = sources[min(self.selected(), len(sources) - 1)]
        text = Text()
        text.append(f"common shape {combined.report.shape}\n", style="bold")
        for line in src.lines():
            text.append(line + "\n")
        if src.ok:
            text.append("mapped rows:\n", style="bold")
            for line in preview_lines(combined, src.task):
                text.append(line + "\n")
        detail.update(text)

    # -- actions ---------------------------------------------------------------------------
    def action_add_source(self) -> None:
        self.app.action_add_source()  # type: ignore[attr-defined]

    def action_open_mixture(self) -> None:
        self.app.action_open_mixture()  # type: ignore[attr-defined]

    def action_rename_task(self) -> None:
        from studio.tui.screens.prompt import PathPrompt

        combined = self.combined
        if combined is None:
            self.notify("Add a source first: one dataset has no task names.", markup=False)
            return
        index = self.selected()
        src = combined.report.sources[index]
        self.app.push_screen(
            PathPrompt(f"Task name for {src.name}", src.task),
            lambda name: self.app.set_source(index, task=name) if name else None,  # type: ignore[attr-defined]
        )

    def action_edit_mapping(self) -> None:
        from studio.tui.screens.prompt import PathPrompt

        combined = self.combined
        if combined is None:
            self.notify("Add a source first: one dataset is not mapped.", markup=False)
            return
        index = self.selected()
        src = combined.report.sources[index]
        current = ",".join(f"{f}={c}" for f, c in combined.specs[index].mapping)
        columns = ", ".join(src.columns)
        self.app.push_screen(
            PathPrompt(f"FIELD=COLUMN,... for {src.name} (columns: {columns})", current),
            lambda text: self.app.set_source(index, mapping=text) if text is not None else None,  # type: ignore[attr-defined]
        )

    def action_cycle_shape(self) -> None:
        combined = self.combined
        if combined is None:
            self.notify("Add a source first.", markup=False)
            return
        current = str(combined.dataset.combined.get("shape", "auto"))  # type: ignore[union-attr]
        nxt = SHAPES[(SHAPES.index(current) + 1) % len(SHAPES)] if current in SHAPES else "auto"
        self.notify(f"Common shape: {nxt}", markup=False)
        self.app.set_common_shape(nxt)  # type: ignore[attr-defined]
