"""Hand-edit modals for Browse: edit one cell (multi-line), tag rows, find and replace with a
preview of the rows it changes. Each returns what the pane needs to build its step."""

from __future__ import annotations

import polars as pl
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, DataTable, Input, Select, Static, TextArea
from textual.worker import get_current_worker

from studio.engine.errors import StudioError
from studio.engine.steps.edit import Replace, replace_preview
from studio.tui.cells import safe_str

PREVIEW_ROWS = 50


class EditCellScreen(ModalScreen[str | None]):
    """A multi-line editor for one cell; ctrl+s saves, Escape cancels."""

    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="edit.save"),
        Binding("escape", "cancel", "Cancel", id="edit.cancel"),
    ]

    def __init__(self, title: str, value: str) -> None:
        super().__init__(classes="modal")
        self.title_text = title
        self.value = value

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog edit-dialog"):
            yield Static(Text(self.title_text, style="bold"), classes="question")
            yield TextArea(self.value, id="edit-text", soft_wrap=True, tab_behavior="focus")
            yield Static(Text("ctrl+s saves · Esc cancels", style="dim"), classes="hint")

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()

    def action_save(self) -> None:
        new = self.query_one(TextArea).text
        self.dismiss(None if new == self.value else new)

    def action_cancel(self) -> None:
        self.dismiss(None)


class TagScreen(ModalScreen[str | None]):
    """Ask for a label; an empty label clears the tag."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="tag.cancel")]

    def __init__(self, count: int, default: str = "review") -> None:
        super().__init__(classes="modal")
        self.count = count
        self.default = default

    def compose(self) -> ComposeResult:
        rows = f"{self.count:,} row{'' if self.count == 1 else 's'}"
        with Vertical(classes="dialog"):
            yield Static(Text(f"Tag {rows} as (e.g. review, bad)", style="bold"))
            yield Input(self.default, id="tag-value")
            yield Static(Text("Enter tags · empty clears · Esc cancels", style="dim"))

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value.strip())

    def action_cancel(self) -> None:
        self.dismiss(None)


class ReplaceScreen(ModalScreen[Replace | None]):
    """Find and replace in a text column, with the changed rows previewed before applying."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="replace.cancel"),
        Binding("ctrl+s", "apply", "Apply", id="replace.apply"),
    ]

    def __init__(self, frame: pl.LazyFrame, columns: list[str], column: str | None) -> None:
        super().__init__(classes="modal")
        self.frame = frame
        self.columns = columns
        self.column = column if column in columns else (columns[0] if columns else None)
        self.previewed: Replace | None = None

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog replace-dialog"):
            yield Static(Text("Find and replace", style="bold"))
            yield Select(
                [(c, c) for c in self.columns],
                value=self.column if self.column else Select.NULL,
                id="replace-column",
                allow_blank=not self.columns,
                compact=True,
            )
            yield Input(id="replace-find", placeholder="find", compact=True)
            yield Input(
                id="replace-with", placeholder="replace with ($1 or \\1: a group)", compact=True
            )
            with Horizontal(classes="row"):
                yield Checkbox("regex", id="replace-regex", compact=True)
                yield Checkbox("ignore case", id="replace-case", compact=True)
            yield Static("", id="replace-status", markup=False)
            yield DataTable(id="replace-preview", cursor_type="row", zebra_stripes=True)
            with Horizontal(classes="buttons"):
                yield Button("Preview (Enter)", id="replace-do-preview", compact=True)
                yield Button("Apply (ctrl+s)", id="replace-apply", variant="primary", compact=True)
                yield Button("Cancel (Esc)", id="replace-cancel", compact=True)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("_id", "before", "after")
        self.query_one("#replace-find", Input).focus()

    def current_step(self) -> Replace:
        column = self.query_one("#replace-column", Select).value
        return Replace(
            column=column if isinstance(column, str) else "",
            find=self.query_one("#replace-find", Input).value,
            replace=self.query_one("#replace-with", Input).value,
            regex=self.query_one("#replace-regex", Checkbox).value,
            case_sensitive=not self.query_one("#replace-case", Checkbox).value,
        )

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.preview()

    @on(Button.Pressed, "#replace-do-preview")
    def _preview_pressed(self) -> None:
        self.preview()

    @on(Button.Pressed, "#replace-apply")
    def _apply_pressed(self) -> None:
        self.action_apply()

    @on(Button.Pressed, "#replace-cancel")
    def _cancel_pressed(self) -> None:
        self.dismiss(None)

    def preview(self) -> None:
        step = self.current_step()
        self.query_one("#replace-status", Static).update("Looking for changes…")
        self._preview(step)

    @work(thread=True, exclusive=True, exit_on_error=False, group="replace-preview")
    def _preview(self, step: Replace) -> None:
        try:
            count, rows = replace_preview(self.frame, step, limit=PREVIEW_ROWS)
        except StudioError as exc:
            self.app.call_from_thread(self._show_error, str(exc))
            return
        except Exception as exc:  # noqa: BLE001 - polars errors on odd patterns
            self.app.call_from_thread(self._show_error, str(exc).splitlines()[0])
            return
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show_preview, step, count, rows)

    def _show_error(self, message: str) -> None:
        self.previewed = None
        self.query_one(DataTable).clear()
        self.query_one("#replace-status", Static).update(Text(message))

    def _show_preview(self, step: Replace, count: int, rows: pl.DataFrame) -> None:
        self.previewed = step
        table = self.query_one(DataTable)
        table.clear()
        for row_id, before, after in rows.iter_rows():
            table.add_row(
                str(row_id),
                Text(safe_str(before, max_chars=60)),
                Text(safe_str(after, max_chars=60)),
            )
        shown = f" (first {rows.height})" if count > rows.height else ""
        self.query_one("#replace-status", Static).update(
            f"{count:,} row{'' if count == 1 else 's'} would change{shown}. ctrl+s applies."
        )

    def action_apply(self) -> None:
        step = self.current_step()
        if self.previewed != step:
            # always show what changes before applying
            self.preview()
            return
        self.dismiss(step)

    def action_cancel(self) -> None:
        self.dismiss(None)
