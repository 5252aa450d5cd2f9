"""Loss-mask preview: a chat row as the trainer sees it after the chat template.

Trained (assistant) tokens are shown in reverse video, masked ones dimmed, with a per-turn
table of token counts. `n`/`p` move to the next/previous row, Escape closes.
"""

from __future__ import annotations

from typing import Any

import polars as pl
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Label, Static

from studio.engine.steps.base import ID
from studio.engine.tokens import ESTIMATE_LABEL, LossMaskPreview, TokenCounter, loss_mask_preview

TRAINED_STYLE = "reverse"
MASKED_STYLE = "dim"


def preview_text(preview: LossMaskPreview) -> Text:
    """The rendered conversation: trained runs in reverse video, masked runs dimmed."""
    text = Text()
    for piece, trained in preview.pieces:
        text.append(piece, style=TRAINED_STYLE if trained else MASKED_STYLE)
    return text


def preview_title(preview: LossMaskPreview, row_id: int, position: int, rows: int) -> str:
    how = "after the chat template" if preview.templated else "no chat template: role: content"
    kind = f" · {ESTIMATE_LABEL}" if preview.estimate else ""
    return (
        f"row {position + 1:,}/{rows:,} (id {row_id}) · {how} · {preview.total:,} tokens, "
        f"{preview.trained:,} trained · {preview.tokenizer}{kind}"
    )


class LossMaskScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape,q", "dismiss_screen", "Close", id="loss-mask-close"),
        Binding("n,right", "move(1)", "Next row", id="loss-mask-next"),
        Binding("p,left", "move(-1)", "Previous row", id="loss-mask-previous"),
    ]
    DEFAULT_CSS = """
    LossMaskScreen { align: center middle; }
    LossMaskScreen #loss-mask-box {
        width: 96%; height: 94%; border: round $primary; background: $surface; padding: 0 1;
    }
    LossMaskScreen #loss-mask-title { color: $text-muted; width: 100%; }
    LossMaskScreen #loss-mask-legend { color: $text-muted; }
    LossMaskScreen #loss-mask-turns { height: auto; max-height: 8; }
    """

    def __init__(
        self,
        frame: pl.LazyFrame,
        column: str,
        counter: TokenCounter,
        *,
        sharegpt: bool = False,
        position: int = 0,
    ) -> None:
        super().__init__()
        self.frame = frame
        self.column = column
        self.counter = counter
        self.sharegpt = sharegpt
        self.position = position
        self.rows = frame.select(pl.len()).collect().item()
        self.preview: LossMaskPreview | None = None

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="loss-mask-box"):
            yield Label("", id="loss-mask-title")
            legend = Text()
            legend.append("trained", style=TRAINED_STYLE)
            legend.append("  ")
            legend.append("masked (prompt, template)", style=MASKED_STYLE)
            legend.append("  ·  n/p: next/previous row · Esc: close")
            yield Static(legend, id="loss-mask-legend")
            table: DataTable[Any] = DataTable(id="loss-mask-turns", cursor_type="row")
            yield table
            yield Static("", id="loss-mask-text")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#loss-mask-turns", DataTable).add_columns(
            "turn", "role", "tokens", "trained"
        )
        self.show_row()

    def show_row(self) -> None:
        if self.rows == 0:
            self.query_one("#loss-mask-title", Label).update("No rows.")
            return
        self.position = max(0, min(self.position, self.rows - 1))
        row = self.frame.slice(self.position, 1).select(ID, self.column).collect()
        row_id = int(row[ID][0])
        self.preview = loss_mask_preview(
            self.counter, row[self.column].to_list()[0], sharegpt=self.sharegpt
        )
        self.query_one("#loss-mask-title", Label).update(
            Text(preview_title(self.preview, row_id, self.position, self.rows))
        )
        table = self.query_one("#loss-mask-turns", DataTable)
        table.clear()
        for turn in self.preview.turns:
            table.add_row(
                Text(str(turn.index + 1)),
                Text(turn.role),
                Text(f"{turn.tokens:,}"),
                Text(f"{turn.trained:,}"),
            )
        self.query_one("#loss-mask-text", Static).update(preview_text(self.preview))

    def action_move(self, delta: int) -> None:
        self.position += delta
        self.show_row()

    def action_dismiss_screen(self) -> None:
        self.dismiss(None)
