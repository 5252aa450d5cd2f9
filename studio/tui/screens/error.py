"""A short modal for an unexpected error: one line, never a traceback."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from studio.tui import keymap


class ErrorScreen(ModalScreen[None]):
    BINDINGS = keymap.bindings("error")

    def __init__(self, title: str, message: str) -> None:
        super().__init__(classes="modal")
        self.title_text = title
        self.message = message

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog error"):
            yield Static(Text(self.title_text, style="bold"), classes="title")
            yield Static(Text(self.message), classes="question", id="error-message")
            yield Static(
                Text("This looks like a bug; details are in the Textual log.", style="dim"),
                classes="hint",
            )
            yield Button("Close", id="close", variant="error")

    def on_mount(self) -> None:
        self.query_one(Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)
