"""The Balance pane (not built yet: see its issue)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Static

from studio.tui.panes.base import Pane


class BalancePane(Pane):
    TAB_ID = "balance"
    TITLE = "Balance"

    def compose(self) -> ComposeResult:
        yield Static(
            "The Balance pane is not built yet; its headless command may exist already.",
            classes="placeholder",
        )
