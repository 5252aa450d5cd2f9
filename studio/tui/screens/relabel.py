"""Ask for the new label of likely label errors: type one or pick from the known classes
(the input completes them; up/down walk the list)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Input, OptionList, Static


class RelabelScreen(ModalScreen[str | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="relabel.cancel")]

    def __init__(self, title: str, classes: list[str], default: str = "") -> None:
        super().__init__(classes="modal")
        self.title_text = title
        self.classes = classes
        self.default = default

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Text(self.title_text, style="bold"), classes="question")
            yield Input(
                self.default,
                id="relabel-value",
                suggester=SuggestFromList(self.classes, case_sensitive=True),
            )
            yield OptionList(*(Text(c) for c in self.classes), id="relabel-classes")
            yield Static(
                Text("Enter relabels · Tab to the list, Enter picks · Esc cancels", style="dim"),
                classes="hint",
            )

    def on_mount(self) -> None:
        field = self.query_one(Input)
        field.focus()
        field.cursor_position = len(field.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        value = event.value.strip()
        self.dismiss(value or None)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(self.classes[event.option_index])

    def action_cancel(self) -> None:
        self.dismiss(None)
