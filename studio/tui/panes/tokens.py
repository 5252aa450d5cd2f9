"""The Tokens pane (not built yet: see its issue)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Static

from studio.tui.panes.base import Pane


class TokensPane(Pane):
    TAB_ID = "tokens"
    TITLE = "Tokens"

    def compose(self) -> ComposeResult:
        yield Static(
            "The Tokens pane is not built yet; its headless command may exist already.",
            classes="placeholder",
        )
