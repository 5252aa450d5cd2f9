"""Offer to resume the steps journalled by an earlier session on the same input."""

from __future__ import annotations

from typing import Literal

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from studio.tui import keymap

ResumeChoice = Literal["resume", "discard", "later"]


class ResumeScreen(ModalScreen[ResumeChoice]):
    BINDINGS = keymap.bindings("resume")

    def __init__(self, steps: list[str], when: str) -> None:
        super().__init__(classes="modal")
        self.steps = steps
        self.when = when

    @property
    def question(self) -> str:
        n = len(self.steps)
        return f"Resume {n} step{'' if n == 1 else 's'} from {self.when}?"

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(
                Text(self.question, style="bold"), classes="question", id="resume-question"
            )
            shown = self.steps[:6]
            lines = [f"{i}. {s}" for i, s in enumerate(shown, start=1)]
            if len(self.steps) > len(shown):
                lines.append(f"… and {len(self.steps) - len(shown)} more")
            yield Static(Text("\n".join(lines)), classes="detail")
            with Horizontal(classes="buttons"):
                yield Button("Resume (r)", id="resume", variant="primary")
                yield Button("Discard (d)", id="discard", variant="error")
                yield Button("Later (Esc)", id="later")

    def on_mount(self) -> None:
        self.query_one("#resume", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id)  # type: ignore[arg-type]

    def action_resume(self) -> None:
        self.dismiss("resume")

    def action_discard(self) -> None:
        self.dismiss("discard")

    def action_later(self) -> None:
        self.dismiss("later")
