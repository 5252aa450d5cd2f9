"""The Clean pane (not built yet: see its issue)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Static

from studio.tui.panes.base import Pane


class CleanPane(Pane):
    TAB_ID = "clean"
    TITLE = "Clean"

    def compose(self) -> ComposeResult:
        yield Static(
            "The Clean pane is not built yet; its headless command may exist already.",
            classes="placeholder",
        )
