"""Row detail: the whole record, wrapped and scrollable; conversations shown turn by turn.

`t` switches a conversation to the trainer's view (the loss-mask preview): the text after the
chat template of the tokenizer chosen in the Tokens pane, trained (assistant) tokens in
reverse video, masked ones dimmed, with per-turn token counts.
"""

from __future__ import annotations

import json
import re
from typing import Any, ClassVar

import polars as pl
from rich.style import Style
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from studio.engine.errors import StudioError
from studio.engine.tokens import ESTIMATE_LABEL, LossMaskPreview, load_tokenizer, loss_mask_preview
from studio.tui.cells import conversation_keys, safe_str, safe_text
from studio.tui.widgets.frame_table import dtype_label

MATCH_STYLE = Style(reverse=True, bold=True)


def _pretty(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, default=str)


class RowDetailScreen(Screen[None]):
    """Every column of one row. Text wraps; nested values are pretty JSON."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Close", id="detail.close", tooltip="Close the row detail"),
        Binding(
            "down,j", "scroll_down", "Down", show=False, id="detail.down", tooltip="Scroll down"
        ),
        Binding("up,k", "scroll_up", "Up", show=False, id="detail.up", tooltip="Scroll up"),
        Binding(
            "pagedown,space",
            "page_down",
            "Page down",
            show=False,
            id="detail.page-down",
            tooltip="Page down",
        ),
        Binding("pageup", "page_up", "Page up", show=False, id="detail.page-up", tooltip="Page up"),
        Binding("home,g", "top", "Top", show=False, id="detail.top", tooltip="Go to the top"),
        Binding(
            "end,G", "bottom", "Bottom", show=False, id="detail.bottom", tooltip="Go to the bottom"
        ),
        Binding(
            "t",
            "trainer_view",
            "As trained",
            id="detail.trainer",
            tooltip="Show the conversation as the trainer sees it (chat template, loss mask)",
        ),
    ]

    DEFAULT_CSS = """
    RowDetailScreen { background: $surface; }
    RowDetailScreen #detail-title { height: 1; background: $panel; color: $foreground;
        text-style: bold; padding: 0 1; }
    RowDetailScreen #detail-body { height: 1fr; padding: 0 1; }
    RowDetailScreen .detail-column { color: $accent; text-style: bold; margin-top: 1; }
    RowDetailScreen .detail-value { color: $foreground; }
    RowDetailScreen .detail-null { color: $text-disabled; }
    RowDetailScreen .detail-turn { border-left: thick $primary; padding: 0 1; margin-top: 1; }
    RowDetailScreen .detail-turn-user { border-left: thick $success; }
    RowDetailScreen .detail-turn-assistant { border-left: thick $primary; }
    RowDetailScreen .detail-turn-system { border-left: thick $warning; }
    RowDetailScreen .detail-role { color: $text-muted; text-style: bold; }
    RowDetailScreen #detail-trainer { height: 1fr; padding: 0 1; display: none; }
    RowDetailScreen #detail-trainer-note { color: $text-muted; }
    RowDetailScreen #detail-trainer-turns { margin-top: 1; }
    RowDetailScreen #detail-trainer-text { margin-top: 1; }
    """

    def __init__(
        self,
        *,
        row: dict[str, Any],
        row_id: int,
        position: int,
        total: int,
        schema: dict[str, pl.DataType] | None = None,
        source: str = "",
        highlight: re.Pattern[str] | None = None,
        tokenizer: str | None = None,
        trainer_view: bool = False,
    ) -> None:
        """`tokenizer`: the spec chosen in the Tokens pane ("" for none); `trainer_view`:
        open on the trainer's view of the conversation."""
        super().__init__()
        self.row = row
        self.row_id = row_id
        self.position = position
        self.total = total
        self.row_schema = schema or {}
        self.source = source
        self.highlight = highlight
        self.tokenizer = tokenizer or ""
        self.start_in_trainer_view = trainer_view
        self.showing_trainer = False
        self.preview: LossMaskPreview | None = None

    def _text(self, value: Any) -> Text:
        return safe_text(
            value, one_line=False, highlight=self.highlight, highlight_style=MATCH_STYLE
        )

    def compose(self) -> ComposeResult:
        title = f"Row {self.position + 1:,} of {self.total:,} · id {self.row_id}"
        if self.source:
            title += f" · {safe_str(self.source, max_chars=60)}"
        yield Static(title, id="detail-title", markup=False)
        with VerticalScroll(id="detail-body"):
            for name, value in self.row.items():
                dtype = self.row_schema.get(name)
                label = Text(safe_str(name))
                if dtype is not None:
                    label.append(f"  {dtype_label(dtype)}", style="dim")
                keys = conversation_keys(value)
                if keys is not None:
                    label.append(f"  {len(value)} turns", style="dim")
                yield Static(label, classes="detail-column")
                yield from self._value_widgets(value)
        with VerticalScroll(id="detail-trainer"):
            yield Static("", id="detail-trainer-note")
            yield Static("", id="detail-trainer-turns")
            yield Static("", id="detail-trainer-text")
        yield Footer()

    def _value_widgets(self, value: Any) -> ComposeResult:
        if value is None:
            yield Static(Text("null"), classes="detail-null")
            return
        keys = conversation_keys(value)
        if keys is not None:
            speaker, text = keys
            for turn in value:
                role = safe_str(turn.get(speaker) or "?", max_chars=40)
                body = Text()
                body.append_text(Text(role, style="bold"))
                body.append("\n")
                content = turn.get(text)
                body.append_text(
                    self._text(content if isinstance(content, str) else _pretty(content))
                )
                kind = {"human": "user", "gpt": "assistant"}.get(role, role)
                classes = f"detail-turn detail-turn-{re.sub(r'[^a-z]', '', kind.lower())}"
                yield Static(body, classes=classes)
            return
        if isinstance(value, dict | list):
            yield Static(self._text(_pretty(value)), classes="detail-value")
            return
        yield Static(self._text(value), classes="detail-value")

    @property
    def body(self) -> VerticalScroll:
        """The scroll view on show: the record, or the trainer's view."""
        which = "#detail-trainer" if self.showing_trainer else "#detail-body"
        return self.query_one(which, VerticalScroll)

    def on_mount(self) -> None:
        self.body.focus()
        if self.start_in_trainer_view:
            self.action_trainer_view()

    # -- the trainer's view (loss-mask preview) ----------------------------------------------
    def conversation(self) -> tuple[str, Any, bool] | None:
        """(column, value, sharegpt) of the row's first conversation column, if any."""
        for name, value in self.row.items():
            keys = conversation_keys(value)
            if keys is not None:
                return name, value, keys == ("from", "value")
        return None

    def action_trainer_view(self) -> None:
        if self.showing_trainer:
            self._show_trainer(False)
            return
        found = self.conversation()
        if found is None:
            self.notify(
                "This row has no conversation (a list of messages) to show as the trainer sees it.",
                severity="warning",
                markup=False,
            )
            return
        _, value, sharegpt = found
        self.query_one("#detail-trainer-note", Static).update(Text("rendering…"))
        self.query_one("#detail-trainer-turns", Static).update("")
        self.query_one("#detail-trainer-text", Static).update("")
        self._show_trainer(True)
        self._render_preview(self.tokenizer, value, sharegpt)

    def _show_trainer(self, on: bool) -> None:
        self.showing_trainer = on
        self.query_one("#detail-body", VerticalScroll).display = not on
        self.query_one("#detail-trainer", VerticalScroll).display = on
        self.body.focus()

    @work(
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group="detail-trainer",
        description="rendering the loss-mask preview",
    )
    def _render_preview(self, spec: str, value: Any, sharegpt: bool) -> None:
        # loading a tokenizer the first time can take a second: never on the UI thread
        try:
            preview = loss_mask_preview(load_tokenizer(spec), value, sharegpt=sharegpt)
        except StudioError as exc:
            self.app.call_from_thread(self._preview_failed, str(exc))
            return
        self.app.call_from_thread(self._preview_ready, preview)

    def _preview_failed(self, message: str) -> None:
        self.query_one("#detail-trainer-note", Static).update(
            Text(f"Cannot show the trainer's view: {message}")
        )
        self.notify(message, severity="error", title="Loss-mask preview", markup=False)

    def _preview_ready(self, preview: LossMaskPreview) -> None:
        from studio.tui.screens.loss_mask import preview_text

        self.preview = preview
        self.query_one("#detail-trainer-note", Static).update(trainer_note(preview))
        self.query_one("#detail-trainer-turns", Static).update(turns_text(preview))
        self.query_one("#detail-trainer-text", Static).update(preview_text(preview))

    def action_close(self) -> None:
        self.dismiss()

    def action_scroll_down(self) -> None:
        self.body.scroll_down(animate=False)

    def action_scroll_up(self) -> None:
        self.body.scroll_up(animate=False)

    def action_page_down(self) -> None:
        self.body.scroll_page_down(animate=False)

    def action_page_up(self) -> None:
        self.body.scroll_page_up(animate=False)

    def action_top(self) -> None:
        self.body.scroll_home(animate=False)

    def action_bottom(self) -> None:
        self.body.scroll_end(animate=False)


def trainer_note(preview: LossMaskPreview) -> Text:
    """Which tokenizer and template, the totals, the legend; with no tokenizer, what to pick."""
    from studio.tui.screens.loss_mask import MASKED_STYLE, TRAINED_STYLE

    text = Text()
    if preview.estimate:
        text.append("No tokenizer chosen", style="bold")
        text.append(
            f": {ESTIMATE_LABEL} (characters ÷ 4) and plain 'role: content' turns, not the "
            "trainer's template. Enter your model's tokenizer (a Hugging Face name or folder) "
            "in the Tokens pane to see its chat template and exact tokens.\n"
        )
    else:
        how = "after the chat template" if preview.templated else "no chat template: role: content"
        text.append(f"As the trainer sees it with {preview.tokenizer}, {how}.\n")
    prefix = "≈ " if preview.estimate else ""
    text.append(
        f"{prefix}{preview.total:,} tokens, {prefix}{preview.trained:,} trained "
        f"(assistant), {prefix}{preview.total - preview.trained:,} masked from the loss\n"
    )
    text.append("trained", style=TRAINED_STYLE)
    text.append("  ")
    text.append("masked (prompt, template)", style=MASKED_STYLE)
    text.append("  ·  t: back to the record")
    return text


def turns_text(preview: LossMaskPreview) -> Text:
    """Per-turn token counts as a small aligned table."""
    text = Text()
    text.append(f"{'turn':>4}  {'role':<12} {'tokens':>8} {'trained':>8}\n", style="bold")
    for turn in preview.turns:
        role = safe_str(turn.role, max_chars=12)
        text.append(f"{turn.index + 1:>4}  {role:<12} {turn.tokens:>8,} {turn.trained:>8,}\n")
    return text
