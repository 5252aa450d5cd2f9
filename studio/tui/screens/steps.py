"""The Steps view: the recipe, each step with rows in and out and rows removed."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Footer, Static

from studio.tui import keymap
from studio.tui.screens.view import WorkspaceView
from studio.tui.widgets.step_list import StepList


class StepsScreen(WorkspaceView):
    BINDINGS = keymap.bindings("steps")

    def compose(self) -> ComposeResult:
        yield Static("Steps", classes="view-title", id="steps-title")
        yield StepList(id="step-list")
        yield Static("", classes="view-hint", id="steps-hint")
        yield Footer()

    def workspace_changed(self) -> None:
        ws = self.workspace
        self.query_one(StepList).show(ws)
        if ws is None:
            title = "Steps · no dataset opened"
            hint = ""
        else:
            n = len(ws.steps)
            title = (
                f"Steps · {ws.dataset.name} · {n} step{'' if n == 1 else 's'} · {ws.rows:,} rows"
            )
            hints = []
            if not n:
                hints.append("No steps yet: steps applied in the panes appear here.")
            if ws.can_redo:
                hints.append("r redoes the last undone step.")
            hint = " ".join(hints)
        self.query_one("#steps-title", Static).update(
            Text(title, no_wrap=True, overflow="ellipsis")
        )
        self.query_one("#steps-hint", Static).update(Text(hint, style="dim"))
