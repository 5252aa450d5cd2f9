"""Ask for a path (save the recipe), prefilled with a default."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from studio.tui import keymap


class PathPrompt(ModalScreen[str | None]):
    BINDINGS = keymap.bindings("prompt")

    def __init__(self, title: str, default: str) -> None:
        super().__init__(classes="modal")
        self.title_text = title
        self.default = default

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Text(self.title_text, style="bold"), classes="question")
            yield Input(self.default, id="path")
            yield Static(Text("Enter saves · Esc cancels", style="dim"), classes="hint")

    def on_mount(self) -> None:
        field = self.query_one(Input)
        field.focus()
        field.cursor_position = len(field.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        value = event.value.strip()
        self.dismiss(value or None)

    def action_cancel(self) -> None:
        self.dismiss(None)
