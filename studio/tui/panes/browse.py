"""The Browse pane (placeholder until the virtual table lands)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Static

from studio.tui.panes.base import Pane


class BrowsePane(Pane):
    TAB_ID = "browse"
    TITLE = "Browse"

    def compose(self) -> ComposeResult:
        yield Static("", id="browse-summary")

    def on_mount(self) -> None:
        self.workspace_changed()

    def workspace_changed(self) -> None:
        if self.workspace is not None:
            self.query_one("#browse-summary", Static).update(f"{self.workspace.rows:,} rows")
