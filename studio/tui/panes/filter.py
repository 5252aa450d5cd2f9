"""The Filter pane (not built yet: see its issue)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Static

from studio.tui.panes.base import Pane


class FilterPane(Pane):
    TAB_ID = "filter"
    TITLE = "Filter"

    def compose(self) -> ComposeResult:
        yield Static(
            "The Filter pane is not built yet; its headless command may exist already.",
            classes="placeholder",
        )
