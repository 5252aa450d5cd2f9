"""The Sources view: every source of the workspace with its rows, detected shape, task name,
its own recipe, mapping onto the common shape and mismatch report, plus a preview of its
mapped rows.

Changes (add or remove a source, rename a task, edit a mapping, switch the common shape)
rebuild the combined workspace in a worker (`StudioApp.load_sources`); the steps applied so
far are replayed on it.

`Enter` opens the selected source on its own as the workspace, its own recipe replayed, to
edit that recipe with every pane. While it is edited this view (F7) lists the combination to
return to and offers only: `Enter` apply the edited recipe and return, `d` discard the edit and
return, `Escape`/`F7` keep editing.
"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Footer, Static

from studio.engine.sources import SHAPES, Combined, SourceReport, SourceSpec
from studio.engine.steps.base import ID
from studio.tui import keymap
from studio.tui.screens.view import WorkspaceView

PREVIEW_ROWS = 3
CELL = 60


def mapping_text(report: SourceReport) -> str:
    if not report.used:
        return "-"
    return ", ".join(f"{f}←{c}" for f, c in report.used.items())


def status_text(report: SourceReport) -> str:
    if not report.ok:
        return "not used"
    n = len(report.missing) + len(report.problems)
    ignored = len(report.ignored)
    if not n and not ignored:
        return "ok"
    parts = []
    if n:
        parts.append(f"{n} mismatch{'' if n == 1 else 'es'}")
    if ignored:
        parts.append(f"{ignored} ignored")
    return ", ".join(parts)


def _short(value: object, limit: int = CELL) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def recipe_lines(steps: list, restored: int = 0) -> list[str]:  # noqa: ANN001
    """A source's own recipe, one numbered line per step (and how many rows were put back)."""
    if not steps:
        return ["  (none: its rows as loaded)"]
    out = [f"  {i}. {_short(step.describe(), 70)}" for i, step in enumerate(steps, start=1)]
    if restored:
        out.append(f"  ({restored:,} row{'' if restored == 1 else 's'} put back)")
    return out


def recipe_count(spec: SourceSpec) -> str:
    n = len(spec.steps)
    return f"{n} step{'' if n == 1 else 's'}" if n else "-"


def preview_lines(combined: Combined, task: str, rows: int = PREVIEW_ROWS) -> list[str]:
    """The first mapped rows of one task, one line per field."""
    frame = (
        combined.dataset.frame.filter(__import__("polars").col("task") == task).head(rows).collect()
    )
    out: list[str] = []
    for row in frame.iter_rows(named=True):
        out.append(f"row {row[ID]}:")
        for key, value in row.items():
            if key in (ID, "task"):
                continue
            if isinstance(value, list):
                for turn in value[:4]:
                    out.append(f"  {turn.get('role')}: {_short(turn.get('content'))}")
            elif value is None:
                out.append(f"  {key}: (empty)")
            else:
                out.append(f"  {key}: {_short(value)}")
    return out


class SourcesScreen(WorkspaceView):
    BINDINGS = keymap.bindings("sources")

    def compose(self) -> ComposeResult:
        yield Static("Sources", classes="view-title", id="sources-title")
        table: DataTable = DataTable(id="sources-table", cursor_type="row", zebra_stripes=True)
        table.add_columns("task", "file", "rows", "shape", "recipe", "status", "mapping")
        yield table
        with VerticalScroll(id="sources-detail"):
            yield Static("", id="sources-report")
        yield Static("", classes="view-hint", id="sources-hint")
        yield Footer()

    @property
    def combined(self) -> Combined | None:
        """The combination listed (while a source is edited: the one to return to)."""
        return getattr(self.app, "sources_shown", None)

    @property
    def edit(self):  # noqa: ANN201
        """The source being edited on its own (None: not editing)."""
        return getattr(self.app, "editing", None)

    # keys that change the combination wait until the edit is applied or discarded
    _COMBINED_ONLY = frozenset(
        {"close", "edit_source", "remove_source", "add_source", "rename_task", "edit_mapping"}
        | {"cycle_shape", "open_mixture"}
    )
    _EDIT_ONLY = frozenset({"keep_editing", "apply_edit", "discard_edit"})

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        editing = self.edit is not None
        if action in self._EDIT_ONLY:
            return editing
        if action in self._COMBINED_ONLY:
            return not editing
        return True

    def selected(self) -> int:
        return max(self.query_one(DataTable).cursor_row, 0)

    def workspace_changed(self) -> None:
        table = self.query_one(DataTable)
        keep = table.cursor_row
        table.clear()
        ws = self.workspace
        combined = self.combined
        edit = self.edit
        title = "Sources"
        hint = "a adds a source · m opens the mixture · Esc closes"
        if ws is None:
            title += " · no dataset opened"
        elif combined is not None and edit is not None:
            self._list(combined)
            n = len(ws.steps)
            title += f" · editing {edit.task} ({edit.index + 1} of {len(combined.specs)})"
            hint = (
                f"Enter applies {edit.task}'s recipe ({n} step{'' if n == 1 else 's'}) and "
                "returns to the combined workspace · d discards the edit · Esc keeps editing"
            )
            keep = edit.index
        elif combined is None:
            ds = ws.dataset
            table.add_row(
                Text("-"),
                Text(ds.name),
                Text(f"{ws.rows:,}"),
                Text(ds.shape.kind),
                Text("-"),
                Text("ok"),
                Text("(one dataset: no mapping)"),
            )
            title += f" · 1 source · {ws.rows:,} rows"
            hint = "a adds a source: the data is then mapped onto a common shape with a task column"
        else:
            report = combined.report
            self._list(combined)
            n = len(report.sources)
            title += (
                f" · {n} source{'' if n == 1 else 's'} · common shape {report.shape} · "
                f"{combined.dataset.rows:,} rows"
            )
            hint = (
                "Enter edits the selected source's recipe on its own · x removes it · a add · "
                "t task name · e mapping · s common shape · m mixture · Esc closes"
            )
        self.query_one("#sources-title", Static).update(
            Text(title, no_wrap=True, overflow="ellipsis")
        )
        self.query_one("#sources-hint", Static).update(Text(hint, style="dim"))
        if table.row_count:
            table.move_cursor(row=min(max(keep, 0), table.row_count - 1))
        self._show_detail()
        self.refresh_bindings()  # the keys differ while a source is edited

    def _list(self, combined: Combined) -> None:
        table = self.query_one(DataTable)
        edit = self.edit
        # the mapping is the last column: as wide as the screen leaves it (the detail has it all)
        width = max(40, self.app.size.width - 90)
        for index, src in enumerate(combined.report.sources):
            spec = combined.specs[index] if index < len(combined.specs) else None
            status = status_text(src)
            if edit is not None and index == edit.index:
                status = "editing"
            table.add_row(
                Text(src.task),
                Text(src.name),
                Text(f"{src.rows:,}"),
                Text(src.kind),
                Text(recipe_count(spec) if spec is not None else "-"),
                Text(status, style="" if status == "ok" else "bold"),
                Text(_short(mapping_text(src), width)),
            )

    @on(DataTable.RowHighlighted)
    def _highlighted(self, _event: DataTable.RowHighlighted) -> None:
        self._show_detail()

    def _show_detail(self) -> None:
        combined = self.combined
        detail = self.query_one("#sources-report", Static)
        if combined is None:
            detail.update(
                Text("One dataset is open. Add a source to combine several.", style="dim")
            )
            return
        sources = combined.report.sources
        if not sources:
            detail.update(Text(""))
            return
        index = min(self.selected(), len(sources) - 1)
        src = sources[index]
        text = Text()
        text.append(f"common shape {combined.report.shape}\n", style="bold")
        for line in src.lines():
            text.append(line + "\n")
        edit, ws = self.edit, self.workspace
        if edit is not None and index == edit.index and ws is not None:
            steps, restored = list(ws.steps), ws.recipe().restored
            text.append(f"recipe of {src.task}, being edited (Enter applies it):\n", style="bold")
        else:
            spec = combined.specs[index]
            steps, restored = list(spec.steps), spec.recipe.restored
            text.append(f"recipe of {src.task}:\n", style="bold")
        for line in recipe_lines(steps, sum(len(v) for v in restored.values())):
            text.append(line + "\n")
        if src.ok:
            text.append("mapped rows:\n", style="bold")
            for line in preview_lines(combined, src.task):
                text.append(line + "\n")
        detail.update(text)

    # -- actions ---------------------------------------------------------------------------
    @on(DataTable.RowSelected)
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        # Enter on the table (the screen's priority binding normally takes it first)
        event.stop()
        if self.edit is not None:
            self.action_apply_edit()
        else:
            self.action_edit_source()

    def action_edit_source(self) -> None:
        combined = self.combined
        if combined is None:
            self.notify(
                "One dataset is open: its recipe is the workspace's. Add a source to combine.",
                markup=False,
            )
            return
        self.app.edit_source(self.selected())  # type: ignore[attr-defined]

    def action_keep_editing(self) -> None:
        self.dismiss(None)

    def action_apply_edit(self) -> None:
        self.app.apply_source_edit()  # type: ignore[attr-defined]

    def action_discard_edit(self) -> None:
        from studio.tui.screens.confirm import ConfirmScreen

        edit = self.edit
        if edit is None:
            return
        if not self.app.edit_changed():  # type: ignore[attr-defined]
            self.app.discard_source_edit()  # type: ignore[attr-defined]
            return
        self.app.push_screen(
            ConfirmScreen(f"Discard the edit of source {edit.task}? Its recipe stays as it was."),
            lambda yes: self.app.discard_source_edit() if yes else None,  # type: ignore[attr-defined]
        )

    def action_remove_source(self) -> None:
        from studio.tui.screens.confirm import ConfirmScreen

        combined = self.combined
        if combined is None:
            self.notify("One dataset is open: there is no source to remove.", markup=False)
            return
        index = self.selected()
        if len(combined.specs) == 1:
            self.notify(
                "A combination keeps at least one source.", severity="warning", markup=False
            )
            return
        spec = combined.specs[index]
        rows = combined.report.sources[index].rows
        self.app.push_screen(
            ConfirmScreen(
                f"Remove source {spec.task_name} ({rows:,} rows) from the combination? "
                "The combined steps replay on the other sources."
            ),
            lambda yes: self.app.remove_source(index) if yes else None,  # type: ignore[attr-defined]
        )

    def action_add_source(self) -> None:
        self.app.action_add_source()  # type: ignore[attr-defined]

    def action_open_mixture(self) -> None:
        self.app.action_open_mixture()  # type: ignore[attr-defined]

    def action_rename_task(self) -> None:
        from studio.tui.screens.prompt import PathPrompt

        combined = self.combined
        if combined is None:
            self.notify("Add a source first: one dataset has no task names.", markup=False)
            return
        index = self.selected()
        src = combined.report.sources[index]
        self.app.push_screen(
            PathPrompt(f"Task name for {src.name}", src.task),
            lambda name: self.app.set_source(index, task=name) if name else None,  # type: ignore[attr-defined]
        )

    def action_edit_mapping(self) -> None:
        from studio.tui.screens.prompt import PathPrompt

        combined = self.combined
        if combined is None:
            self.notify("Add a source first: one dataset is not mapped.", markup=False)
            return
        index = self.selected()
        src = combined.report.sources[index]
        current = ",".join(f"{f}={c}" for f, c in combined.specs[index].mapping)
        columns = ", ".join(src.columns)
        self.app.push_screen(
            PathPrompt(f"FIELD=COLUMN,... for {src.name} (columns: {columns})", current),
            lambda text: self.app.set_source(index, mapping=text) if text is not None else None,  # type: ignore[attr-defined]
        )

    def action_cycle_shape(self) -> None:
        combined = self.combined
        if combined is None:
            self.notify("Add a source first.", markup=False)
            return
        current = str(combined.dataset.combined.get("shape", "auto"))  # type: ignore[union-attr]
        nxt = SHAPES[(SHAPES.index(current) + 1) % len(SHAPES)] if current in SHAPES else "auto"
        self.notify(f"Common shape: {nxt}", markup=False)
        self.app.set_common_shape(nxt)  # type: ignore[attr-defined]
