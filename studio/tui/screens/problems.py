"""The Problems view: what went wrong while loading (file, line, reason)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import DataTable, Footer, Static

from studio.tui import keymap
from studio.tui.screens.view import WorkspaceView

LIMIT = 5000
"""At most this many problems are listed (the count is always exact)."""


class ProblemsScreen(WorkspaceView):
    BINDINGS = keymap.bindings("problems")

    def compose(self) -> ComposeResult:
        yield Static("Problems", classes="view-title", id="problems-title")
        yield DataTable(cursor_type="row", zebra_stripes=True, id="problem-table")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column("File", key="file")
        table.add_column("Line", key="line")
        table.add_column("Reason", key="reason")

    def workspace_changed(self) -> None:
        ws = self.workspace
        table = self.query_one(DataTable)
        table.clear()
        problems = ws.dataset.problems if ws is not None else []
        for problem in problems[:LIMIT]:
            table.add_row(
                Text(problem.file),
                Text("" if problem.line is None else str(problem.line), justify="right"),
                Text(problem.reason),
            )
        if ws is None:
            title = "Problems · no dataset opened"
        elif not problems:
            title = f"Problems · {ws.dataset.name} · none: every line loaded"
        else:
            n = len(problems)
            title = f"Problems · {ws.dataset.name} · {n:,} line{'' if n == 1 else 's'} skipped"
            if n > LIMIT:
                title += f" (first {LIMIT:,} listed)"
        self.query_one("#problems-title", Static).update(
            Text(title, no_wrap=True, overflow="ellipsis")
        )
