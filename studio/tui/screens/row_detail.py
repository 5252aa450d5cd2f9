"""Row detail: the whole record, wrapped and scrollable; conversations shown turn by turn."""

from __future__ import annotations

import json
import re
from typing import Any, ClassVar

import polars as pl
from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

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
    ) -> None:
        super().__init__()
        self.row = row
        self.row_id = row_id
        self.position = position
        self.total = total
        self.row_schema = schema or {}
        self.source = source
        self.highlight = highlight

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
        return self.query_one("#detail-body", VerticalScroll)

    def on_mount(self) -> None:
        self.body.focus()

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
