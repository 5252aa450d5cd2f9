"""The Removed view: rows removed by each step, with the reason and the source file:line.
Mark rows and put them back (`Workspace.restore`, which re-runs the later steps)."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.widgets import DataTable, Footer, Static

from studio.engine.steps.base import ID
from studio.tui import keymap
from studio.tui.messages import RestoreRequested
from studio.tui.screens.view import WorkspaceView

LIMIT = 2000
"""At most this many rows of one step are listed; `a` then `Enter` puts back only those."""
PREVIEW = 60


@dataclass
class _StepRows:
    index: int
    step: str
    count: int


class RemovedScreen(WorkspaceView):
    BINDINGS = keymap.bindings("removed")

    def __init__(self) -> None:
        super().__init__()
        self.groups: list[_StepRows] = []
        self.current = 0
        self.rows: pl.DataFrame = pl.DataFrame()
        self.all_rows: pl.DataFrame = pl.DataFrame()
        self.marked: set[int] = set()
        self._generation = -1

    def compose(self) -> ComposeResult:
        yield Static("Removed rows", classes="view-title", id="removed-title")
        yield Static("", classes="view-subtitle", id="removed-step")
        yield DataTable(cursor_type="row", zebra_stripes=True, id="removed-table")
        yield Static("", classes="view-hint", id="removed-hint")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column(" ", key="mark", width=1)
        table.add_column("Source", key="source")
        table.add_column("Reason", key="reason")
        table.add_column("Row", key="preview")

    def workspace_changed(self) -> None:
        ws = self.workspace
        if ws is None:
            self._set_title("Removed rows · no dataset opened")
            return
        if ws.generation == self._generation:
            return
        self._generation = ws.generation
        self.marked.clear()
        self.load_removed()

    @work(
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group="removed",
        description="listing removed rows",
    )
    def load_removed(self) -> None:
        ws = self.workspace
        assert ws is not None
        removed = ws.removed().sort("step_index", ID)
        counts = (
            removed.group_by("step_index", maintain_order=True)
            .agg(pl.len().alias("count"), pl.col("step").first())
            .sort("step_index")
        )
        groups = [
            _StepRows(int(r["step_index"]), str(r["step"]), int(r["count"]))
            for r in counts.iter_rows(named=True)
        ]
        text_col = ws.dataset.shape.text
        columns = ws.dataset.columns
        previews = {}
        shown = removed.group_by("step_index", maintain_order=True).head(LIMIT)
        if shown.height:
            originals = ws.dataset.frame.join(shown.lazy().select(ID).unique(), on=ID, how="semi")
            picked = text_col if text_col in columns else (columns[0] if columns else None)
            if picked is not None:
                values = originals.select(ID, pl.col(picked).cast(pl.String)).collect()
                previews = dict(zip(values[ID].to_list(), values[picked].to_list(), strict=True))
        shown = shown.with_columns(
            pl.col(ID)
            .replace_strict(previews, default=None, return_dtype=pl.String)
            .alias("preview")
            if previews
            else pl.lit(None, dtype=pl.String).alias("preview")
        )
        self.app.call_from_thread(self._show, groups, shown)

    def _show(self, groups: list[_StepRows], shown: pl.DataFrame) -> None:
        previous = self.groups[self.current].index if self.groups else None
        self.groups = groups
        self.all_rows = shown
        self.current = 0
        for i, group in enumerate(groups):
            if group.index == previous:
                self.current = i
        self._show_group()

    def _show_group(self) -> None:
        table = self.query_one(DataTable)
        table.clear()
        ws = self.workspace
        total = sum(g.count for g in self.groups)
        name = ws.dataset.name if ws is not None else ""
        steps = len(self.groups)
        counts = f" · {total:,} in {steps} step{'' if steps == 1 else 's'}" if total else ""
        self._set_title(f"Removed rows · {name}{counts}")
        if not self.groups:
            self.rows = pl.DataFrame()
            self.query_one("#removed-step", Static).update(
                Text("No rows removed: steps that drop rows list them here.")
            )
            self._update_hint()
            return
        group = self.groups[self.current]
        self.rows = self.all_rows.filter(pl.col("step_index") == group.index)
        listed = f" (first {LIMIT:,} listed)" if group.count > LIMIT else ""
        self.query_one("#removed-step", Static).update(
            Text(
                f"Step {group.index + 1}: {group.step} · {group.count:,} removed{listed}"
                f" · [{self.current + 1}/{len(self.groups)}]",
                no_wrap=True,
                overflow="ellipsis",
            )
        )
        for row in self.rows.iter_rows(named=True):
            preview = (row["preview"] or "").replace("\n", " ")
            if len(preview) > PREVIEW:
                preview = preview[: PREVIEW - 1] + "…"
            table.add_row(
                Text("✓" if row[ID] in self.marked else " "),
                Text(row["source"] or ""),
                Text(row["reason"] or ""),
                Text(preview),
                key=str(row[ID]),
            )
        self._update_hint()

    def _set_title(self, title: str) -> None:
        self.query_one("#removed-title", Static).update(
            Text(title, no_wrap=True, overflow="ellipsis")
        )

    def _update_hint(self) -> None:
        n = len(self.marked)
        text = (
            f"{n:,} marked · Enter puts them back"
            if n
            else "Space marks rows · Enter puts back the current row"
        )
        self.query_one("#removed-hint", Static).update(Text(text, style="dim"))

    # -- actions -------------------------------------------------------------------------
    def _current_id(self) -> int | None:
        table = self.query_one(DataTable)
        if not self.rows.height or table.cursor_row < 0 or table.cursor_row >= self.rows.height:
            return None
        return int(self.rows[ID][table.cursor_row])

    def action_mark(self) -> None:
        row_id = self._current_id()
        if row_id is None:
            return
        self.marked.symmetric_difference_update({row_id})
        table = self.query_one(DataTable)
        table.update_cell(str(row_id), "mark", Text("✓" if row_id in self.marked else " "))
        if table.cursor_row < table.row_count - 1:
            table.move_cursor(row=table.cursor_row + 1)
        self._update_hint()

    def action_mark_all(self) -> None:
        if not self.rows.height:
            return
        ids = {int(i) for i in self.rows[ID].to_list()}
        if ids <= self.marked:
            self.marked -= ids
        else:
            self.marked |= ids
        cursor = self.query_one(DataTable).cursor_row
        self._show_group()
        self.query_one(DataTable).move_cursor(row=cursor)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_restore()

    def action_restore(self) -> None:
        if not self.groups:
            return
        group = self.groups[self.current]
        ids = [i for i in self.rows[ID].to_list() if i in self.marked] if self.rows.height else []
        if not ids:
            current = self._current_id()
            if current is None:
                return
            ids = [current]
        self.post_message(RestoreRequested(group.index, [int(i) for i in ids]))

    def action_next_step(self) -> None:
        if self.groups:
            self.current = (self.current + 1) % len(self.groups)
            self._show_group()

    def action_previous_step(self) -> None:
        if self.groups:
            self.current = (self.current - 1) % len(self.groups)
            self._show_group()
