"""The Approach pane (not built yet: see its issue)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Static

from studio.tui.panes.base import Pane


class ApproachPane(Pane):
    TAB_ID = "approach"
    TITLE = "Approach"

    def compose(self) -> ComposeResult:
        yield Static(
            "The Approach pane is not built yet; its headless command may exist already.",
            classes="placeholder",
        )
