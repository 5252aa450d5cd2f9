"""The Browse pane: the virtual table, a status line, search, marks, copy and row detail."""

from __future__ import annotations

import bisect
import itertools
import json
import re
import time
from pathlib import Path

import polars as pl
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Input, Static
from textual.worker import get_current_worker

from studio.engine.errors import StudioError
from studio.engine.search import invert_ids, iter_matches
from studio.engine.steps.edit import EditCell, Replace, TagRows
from studio.engine.steps.rows import DropRows, KeepRows
from studio.tui.cells import safe_str, to_str
from studio.tui.messages import OpenRows, StepRequested
from studio.tui.panes.base import Pane
from studio.tui.widgets.frame_table import FrameTable, dtype_label

REGEX_PREFIX = "re:"


def compile_highlight(query: str, regex: bool) -> re.Pattern[str] | None:
    """The Python pattern that highlights what the engine search matched (best effort)."""
    if not query:
        return None
    if not regex:
        return re.compile(re.escape(query), re.IGNORECASE)
    try:
        return re.compile(query)
    except re.error:
        return None


class BrowsePane(Pane):
    TAB_ID = "browse"
    TITLE = "Browse"

    DEFAULT_CSS = (Path(__file__).parent.parent / "styles" / "browse.tcss").read_text(
        encoding="utf-8"
    )

    BINDINGS = [
        Binding(
            "slash",
            "search",
            "Search",
            key_display="/",
            id="browse.search",
            tooltip="Search all text columns (literal; re: or ctrl+r for a regex)",
        ),
        Binding(
            "n",
            "next_match",
            "Next match",
            show=False,
            id="browse.next-match",
            tooltip="Go to the next search match",
        ),
        Binding(
            "N",
            "previous_match",
            "Prev match",
            show=False,
            id="browse.previous-match",
            tooltip="Go to the previous search match",
        ),
        Binding(
            "colon",
            "jump",
            "Jump",
            key_display=":",
            id="browse.jump",
            tooltip="Jump to a row number",
        ),
        Binding(
            "space",
            "toggle_mark",
            "Mark",
            id="browse.toggle-mark",
            tooltip="Mark or unmark the current row",
        ),
        Binding(
            "asterisk",
            "mark_matches",
            "Mark matches",
            show=False,
            key_display="*",
            id="browse.mark-matches",
            tooltip="Mark every row matching the search",
        ),
        Binding(
            "exclamation_mark",
            "invert_marks",
            "Invert marks",
            show=False,
            key_display="!",
            id="browse.invert-marks",
            tooltip="Invert the marks over the rows shown",
        ),
        Binding(
            "K",
            "keep_marked",
            "Keep marked",
            show=False,
            id="browse.keep-marked",
            tooltip="Keep only the marked rows (a step)",
        ),
        Binding(
            "D",
            "drop_marked",
            "Drop marked",
            show=False,
            id="browse.drop-marked",
            tooltip="Drop the marked rows (a step)",
        ),
        Binding(
            "c",
            "summary(False)",
            "Column summary",
            id="browse.column-summary",
            tooltip="Summary of the current column",
        ),
        Binding(
            "C",
            "summary(True)",
            "All columns summary",
            show=False,
            id="browse.summary-all",
            tooltip="Summary of every column",
        ),
        Binding(
            "y",
            "copy_cell",
            "Copy cell",
            show=False,
            id="browse.copy-cell",
            tooltip="Copy the current cell (OSC 52 clipboard)",
        ),
        Binding(
            "Y",
            "copy_row",
            "Copy row",
            show=False,
            id="browse.copy-row",
            tooltip="Copy the current row as JSON (OSC 52 clipboard)",
        ),
        Binding(
            "escape",
            "escape",
            "Back",
            show=False,
            id="browse.escape",
            tooltip="Close the prompt, leave a row view, or clear the search",
        ),
        Binding(
            "ctrl+r",
            "toggle_regex",
            "Regex on/off",
            show=False,
            id="browse.toggle-regex",
            tooltip="In the search prompt: regular expression on or off",
        ),
        # hand edits (issue 4): see the "hand edits" section below
        Binding(
            "e",
            "edit_cell",
            "Edit",
            id="browse.edit-cell",
            tooltip="Edit the current cell (a step)",
        ),
        Binding(
            "t",
            "tag_rows",
            "Tag",
            show=False,
            id="browse.tag-rows",
            tooltip="Tag the marked rows (or this row) with a label",
        ),
        Binding(
            "r",
            "find_replace",
            "Replace",
            show=False,
            id="browse.find-replace",
            tooltip="Find and replace in the current column, with a preview",
        ),
    ]

    def __init__(self, workspace=None, **kwargs) -> None:  # noqa: ANN001, ANN003
        super().__init__(workspace, **kwargs)
        self.query_text = ""
        self.query_regex = False
        self.match_rows: list[int] = []
        self.match_ids: list[int] = []
        self._prompt_mode = ""
        self._search_generation = -1
        self._clear_marks_on_change = False
        self._status = ""
        self._searching = ""

    # -- layout ----------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Static("", id="browse-view", markup=False)
        yield FrameTable(self.workspace, id="browse-table")
        yield Static("", id="browse-status", markup=False)
        yield Input(id="browse-prompt", compact=True)

    @property
    def table(self) -> FrameTable:
        return self.query_one("#browse-table", FrameTable)

    def on_mount(self) -> None:
        self.query_one("#browse-prompt", Input).display = False
        self.query_one("#browse-view", Static).display = False
        if self.workspace is not None:
            self.workspace_changed()

    def workspace_changed(self) -> None:
        table = self.table
        table.workspace = self.workspace
        if self._clear_marks_on_change:
            table.marked.clear()
            self._clear_marks_on_change = False
        table.refresh_data()
        if self.workspace is not None and table.marked:
            # forget marks on rows that no longer exist only when cheap (few marks)
            pass
        if self.query_text:
            self.run_search(self.query_text, self.query_regex, move=False)
        self.update_status()
        if self.shown():  # a step posted from another pane must not pull its tab away
            table.focus()

    # -- status ----------------------------------------------------------------------------
    def update_status(self) -> None:
        table = self.table
        parts = []
        if table.row_count:
            parts.append(f"row {table.cursor_row + 1:,} of {table.row_count:,}")
        else:
            parts.append("no rows")
        column = table.current_column
        if column is not None:
            parts.append(f"{safe_str(column, max_chars=30)} ({dtype_label(table.schema[column])})")
        if table.hidden:
            parts.append(f"{len(table.hidden)} hidden")
        if table.marked:
            parts.append(f"{len(table.marked):,} marked")
        if self.query_text:
            shown = safe_str(self.query_text, max_chars=24)
            kind = "regex" if self.query_regex else "search"
            found = self._searching or f"{len(self.match_rows):,} matches"
            parts.append(f"{kind} {shown!r}: {found}")
        status = " · ".join(parts)
        if status != self._status:
            self._status = status
            self.query_one("#browse-status", Static).update(status, layout=False)
        view = self.query_one("#browse-view", Static)
        if table.view_ids is not None:
            view.display = True
            title = safe_str(table.view_title or "selected rows", max_chars=60)
            view.update(f"Showing {table.row_count:,} rows: {title} (Escape shows all rows)")
        else:
            view.display = False

    @on(FrameTable.CursorMoved)
    def _cursor_moved(self) -> None:
        self.update_status()

    @on(FrameTable.RowOpened)
    def _row_opened(self, message: FrameTable.RowOpened) -> None:
        from studio.tui.screens.row_detail import RowDetailScreen

        table = self.table
        if self.workspace is None:
            return
        self.app.push_screen(
            RowDetailScreen(
                row=table.current_row(),
                row_id=message.row_id,
                position=table.cursor_row,
                total=table.row_count,
                schema=table.schema,
                source=self.workspace.dataset.source_of(message.row_id),
                highlight=table.highlight,
            )
        )

    # -- prompt (search and jump) ----------------------------------------------------------
    def _open_prompt(self, mode: str, placeholder: str, value: str = "") -> None:
        prompt = self.query_one("#browse-prompt", Input)
        self._prompt_mode = mode
        prompt.placeholder = placeholder
        prompt.value = value
        prompt.display = True
        prompt.focus()

    def _close_prompt(self) -> None:
        prompt = self.query_one("#browse-prompt", Input)
        prompt.display = False
        self._prompt_mode = ""
        self.table.focus()

    def action_search(self) -> None:
        hint = "/ search all text columns (ctrl+r or re: for a regular expression)"
        if self.query_text:
            last = (REGEX_PREFIX if self.query_regex else "") + self.query_text
            hint = f"/ {safe_str(last, max_chars=40)} (Enter on empty clears)"
        self._open_prompt("search", hint)

    def action_toggle_regex(self) -> None:
        """In the search prompt: add or remove the `re:` prefix (regular expression)."""
        if self._prompt_mode != "search":
            return
        prompt = self.query_one("#browse-prompt", Input)
        if prompt.value.startswith(REGEX_PREFIX):
            prompt.value = prompt.value[len(REGEX_PREFIX) :]
        else:
            prompt.value = REGEX_PREFIX + prompt.value
        prompt.cursor_position = len(prompt.value)

    def action_jump(self) -> None:
        self._open_prompt("jump", f": jump to row (1-{max(self.table.row_count, 1):,})")

    @on(Input.Submitted, "#browse-prompt")
    def _prompt_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        mode, value = self._prompt_mode, event.value.strip()
        self._close_prompt()
        if mode == "jump":
            self.jump(value)
        elif mode == "search":
            regex = value.startswith(REGEX_PREFIX)
            query = value[len(REGEX_PREFIX) :] if regex else value
            if not query:
                self.clear_search()
            else:
                self.run_search(query, regex)

    def jump(self, value: str) -> None:
        cleaned = value.replace(",", "").replace("_", "")
        if not cleaned.isdigit():
            self.notify(f"Not a row number: {safe_str(value, max_chars=30)}", markup=False)
            return
        self.table.move_to_row(int(cleaned) - 1)

    def action_escape(self) -> None:
        if self._prompt_mode:
            self._close_prompt()
        elif self.table.view_ids is not None:
            self.table.set_view(None)
            if self.query_text:
                self.run_search(self.query_text, self.query_regex, move=False)
            self.update_status()
        elif self.query_text:
            self.clear_search()

    # -- search ----------------------------------------------------------------------------
    def clear_search(self) -> None:
        self.query_text = ""
        self._searching = ""
        self.match_rows, self.match_ids = [], []
        self.table.set_highlight(None)
        self.update_status()

    def run_search(self, query: str, regex: bool, *, move: bool = True) -> None:
        self.query_text, self.query_regex = query, regex
        self._searching = "searching"
        self.match_rows, self.match_ids = [], []
        self.table.set_highlight(compile_highlight(query, regex))
        frame = self.table.frame
        if frame is None:
            return
        self._search(frame, query, regex, self.table.cursor_row if move else -1)

    @work(
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group="browse-search",
        description="searching",
    )
    def _search(self, frame: pl.LazyFrame, query: str, regex: bool, start: int) -> None:
        """Search chunk by chunk from the cursor: jump to the first match as soon as it is
        found, then publish every match (in row order) when the whole frame is searched."""
        worker = get_current_worker()
        total = self.table.row_count
        parts: list[pl.DataFrame] = []
        moved = start < 0
        last_note = time.monotonic()
        chunks = iter_matches(frame, query, rows=total, start=max(start, 0), regex=regex)
        try:
            first = next(chunks)
        except StudioError as exc:
            self.app.call_from_thread(self._search_failed, query, str(exc))
            return
        for index, (done, part) in enumerate(itertools.chain([first], chunks)):
            if worker.is_cancelled:
                return
            parts.append(part)
            if not moved and part.height:
                after = part.filter(pl.col("row") >= start) if index == 0 else part
                if after.height:
                    self.app.call_from_thread(self._first_match, query, int(after["row"][0]))
                    moved = True
            if time.monotonic() - last_note > 0.25:
                last_note = time.monotonic()
                self.app.call_from_thread(self._search_progress, query, done, total)
        found = pl.concat(parts).sort("row") if parts else pl.DataFrame()
        if worker.is_cancelled:
            return
        rows = found["row"].to_list() if found.height else []
        ids = found["_id"].to_list() if found.height else []
        self.app.call_from_thread(self._search_done, query, rows, ids, -1 if moved else start)

    def _search_failed(self, query: str, message: str) -> None:
        if query == self.query_text:
            self.clear_search()
        self.notify(message, severity="error", title="Search", markup=False)

    def _first_match(self, query: str, row: int) -> None:
        if query == self.query_text:
            self.table.move_to_row(row)

    def _search_progress(self, query: str, done: int, total: int) -> None:
        if query == self.query_text:
            self._searching = f"searching {done * 100 // max(total, 1)}%"
            self.update_status()

    def _search_done(self, query: str, rows: list[int], ids: list[int], start: int) -> None:
        if query != self.query_text:
            return
        self._searching = ""
        self.match_rows, self.match_ids = rows, ids
        if start >= 0:
            if rows:
                i = bisect.bisect_left(rows, start)
                self.table.move_to_row(rows[i % len(rows)])
            else:
                self.notify(f"No match for {safe_str(query, max_chars=40)!r}", markup=False)
        self.update_status()

    def _step_match(self, forward: bool) -> None:
        if not self.query_text:
            self.action_search()
            return
        rows = self.match_rows
        if not rows:
            self.notify("No matches.", markup=False)
            return
        cursor = self.table.cursor_row
        if forward:
            i = bisect.bisect_right(rows, cursor)
            target = rows[i % len(rows)]
        else:
            i = bisect.bisect_left(rows, cursor) - 1
            target = rows[i % len(rows)]
        self.table.move_to_row(target)

    def action_next_match(self) -> None:
        self._step_match(True)

    def action_previous_match(self) -> None:
        self._step_match(False)

    # -- marks -----------------------------------------------------------------------------
    def action_toggle_mark(self) -> None:
        table = self.table
        row_id = table.cursor_id
        if row_id is None:
            return
        if row_id in table.marked:
            table.marked.discard(row_id)
        else:
            table.marked.add(row_id)
        table.refresh_rows()
        table.move_to_row(table.cursor_row + 1)
        self.update_status()

    def action_mark_matches(self) -> None:
        if not self.match_ids:
            self.notify("Search first (/); then * marks every matching row.", markup=False)
            return
        self.table.marked.update(self.match_ids)
        self.table.refresh_rows()
        self.update_status()

    def action_invert_marks(self) -> None:
        frame = self.table.frame
        if frame is None:
            return
        self._invert(frame, set(self.table.marked))

    @work(
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group="browse-marks",
        description="inverting marks",
    )
    def _invert(self, frame: pl.LazyFrame, marked: set[int]) -> None:
        ids = invert_ids(frame, marked)
        if get_current_worker().is_cancelled:
            return
        # marks on rows outside the current view stay as they are
        self.app.call_from_thread(self._inverted, marked, set(ids.to_list()), frame)

    def _inverted(self, before: set[int], inside_flipped: set[int], frame: pl.LazyFrame) -> None:
        table = self.table
        if table.view_ids is not None:
            outside = before - set(table.view_ids)
            table.marked = outside | inside_flipped
        else:
            table.marked = inside_flipped
        table.refresh_rows()
        self.update_status()

    def _marked_ids(self) -> tuple[int, ...] | None:
        if not self.table.marked:
            self.notify("No marked rows: space marks the current row.", markup=False)
            return None
        return tuple(sorted(self.table.marked))

    def action_keep_marked(self) -> None:
        ids = self._marked_ids()
        if ids is not None:
            self._clear_marks_on_change = True
            self.post_message(StepRequested(KeepRows(ids=ids)))

    def action_drop_marked(self) -> None:
        ids = self._marked_ids()
        if ids is not None:
            self._clear_marks_on_change = True
            self.post_message(StepRequested(DropRows(ids=ids)))

    # -- views -----------------------------------------------------------------------------
    def open_rows(self, ids: list[int], title: str = "") -> None:
        """Show only these rows (a view filter; Escape shows all rows again)."""
        self.table.set_view(ids, title)
        if self.query_text:
            self.run_search(self.query_text, self.query_regex, move=False)
        self.update_status()
        self.table.focus()

    @on(OpenRows)
    def _open_rows(self, message: OpenRows) -> None:
        message.stop()
        self.open_rows(message.ids, message.title)

    # -- summary and copy ------------------------------------------------------------------
    def action_summary(self, all_columns: bool) -> None:
        from studio.tui.screens.column_summary import ColumnSummaryScreen

        table = self.table
        frame = table.frame
        if frame is None or table.current_column is None:
            return
        columns = table.all_columns if all_columns else [table.current_column]
        self.app.push_screen(ColumnSummaryScreen(frame, columns))

    def action_copy_cell(self) -> None:
        table = self.table
        column = table.current_column
        if column is None:
            return
        text = to_str(table.current_row().get(column))
        self.app.copy_to_clipboard(text)
        self.notify(
            f"Copied {len(text):,} characters of {safe_str(column, max_chars=30)}.",
            title="Copied",
            markup=False,
        )

    def action_copy_row(self) -> None:
        row = self.table.current_row()
        if not row:
            return
        text = json.dumps(row, ensure_ascii=False, default=str)
        self.app.copy_to_clipboard(text)
        self.notify(
            f"Copied the row as JSON ({len(text):,} characters).", title="Copied", markup=False
        )

    # -- hand edits (issue 4): edit a cell, tag rows, find and replace ---------------------
    def action_edit_cell(self) -> None:
        from studio.tui.screens.edit import EditCellScreen

        table = self.table
        column, row_id = table.current_column, table.cursor_id
        if column is None or row_id is None:
            return
        dtype = table.schema[column]
        if dtype.is_nested() or dtype in (pl.Binary, pl.Object):
            self.notify(f"{dtype_label(dtype)} cells cannot be edited here.", markup=False)
            return
        old = table.current_row().get(column)
        title = f"Edit {safe_str(column, max_chars=30)} of row {table.cursor_row + 1:,}"

        def done(new: str | None) -> None:
            if new is None:
                return
            value = None if (new == "" and old is None) else new
            self.post_message(StepRequested(EditCell(id=row_id, column=column, old=old, new=value)))

        self.app.push_screen(EditCellScreen(title, to_str(old)), done)

    def action_tag_rows(self) -> None:
        from studio.tui.screens.edit import TagScreen

        table = self.table
        ids = tuple(sorted(table.marked)) if table.marked else None
        if ids is None:
            if table.cursor_id is None:
                return
            ids = (table.cursor_id,)

        def done(tag: str | None) -> None:
            if tag is not None:
                self.post_message(StepRequested(TagRows(ids=ids, tag=tag)))

        self.app.push_screen(TagScreen(len(ids)), done)

    def action_find_replace(self) -> None:
        from studio.tui.screens.edit import ReplaceScreen

        table = self.table
        frame = table.frame
        if frame is None:
            return
        columns = [c for c in table.all_columns if table.schema[c] == pl.String]
        if not columns:
            self.notify("No text column to replace in.", markup=False)
            return

        def done(step: Replace | None) -> None:
            if step is not None:
                self.post_message(StepRequested(step))

        self.app.push_screen(ReplaceScreen(frame, columns, table.current_column), done)
