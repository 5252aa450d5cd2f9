"""The Export pane: pick a format, map columns onto its fields, see the first rows exactly as they
will be written and how many rows are invalid, then write in a worker (Escape cancels).

Everything runs through `studio.engine.export`, the same code as `studio export`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import polars as pl
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widgets import Button, Checkbox, Input, Label, ProgressBar, Select, Static
from textual.worker import Worker, get_current_worker

from studio.engine.errors import StudioError
from studio.engine.export import (
    DEFAULT_SUFFIX,
    ExportOptions,
    build_step,
    existing_targets,
    export_workspace,
    parse_map,
    preview,
    validate,
)
from studio.engine.progress import Cancelled, RunContext, running
from studio.engine.shape import detect_shape
from studio.engine.steps.base import ID
from studio.engine.steps.export import FIELDS, FORMAT_TITLES, FORMATS
from studio.tui.messages import OpenRows
from studio.tui.panes.base import Pane

if TYPE_CHECKING:
    from studio.engine.export import ExportResult

_CSS_FILE = Path(__file__).resolve().parent.parent / "styles" / "export.tcss"
MAP_FIELD = "__map__"
PREVIEW_ROWS = 5


class ConfirmOverwrite(ModalScreen[bool]):
    """Ask before replacing existing outputs. y/Enter: replace; n/Escape: keep them."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Replace", id="confirm-yes"),
        Binding("n,escape", "answer(False)", "Keep", id="confirm-no"),
    ]

    def __init__(self, paths: list[Path]) -> None:
        super().__init__()
        self.paths = paths

    def compose(self) -> ComposeResult:
        names = "\n".join(f"  {p}" for p in self.paths[:8])
        more = f"\n  … and {len(self.paths) - 8} more" if len(self.paths) > 8 else ""
        with Vertical(id="confirm-box"):
            yield Static(Text(f"These files already exist:\n{names}{more}\n\nReplace them?"))
            with Horizontal(id="confirm-buttons"):
                yield Button("Replace (y)", id="confirm-replace", variant="warning", compact=True)
                yield Button("Keep (n)", id="confirm-keep", compact=True)

    def on_mount(self) -> None:
        self.query_one("#confirm-keep", Button).focus()

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "confirm-replace")


@dataclass
class _Prepared:
    generation: int
    columns: list[str]
    defaults: dict[str, dict[str, str]]
    splits: dict[str, int]


class ExportPane(Pane):
    TAB_ID = "export"
    TITLE = "Export"
    # The styles live in styles/export.tcss (also used by the overwrite modal); loaded here,
    # unscoped, until the app lists the pane style sheets in CSS_PATH.
    DEFAULT_CSS = _CSS_FILE.read_text(encoding="utf-8")
    SCOPED_CSS = False
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "write", "Write", id="export-write", tooltip="Write the export"),
        Binding(
            "escape", "cancel", "Cancel", id="export-cancel", tooltip="Cancel a running export"
        ),
        Binding(
            "ctrl+l",
            "show_invalid",
            "Invalid rows",
            id="export-show-invalid",
            tooltip="Show the invalid rows in Browse",
        ),
    ]

    def __init__(self, workspace=None, **kwargs) -> None:  # noqa: ANN001, ANN003
        super().__init__(workspace, **kwargs)
        self._format = "jsonl"
        self._fields: dict[str, dict[str, str]] = {}
        self._defaults: dict[str, dict[str, str]] = {}
        self._system = ""
        self._tokenizer = ""
        self._output_edited = False
        self._splits: dict[str, int] = {}
        self._prepared_generation = -1
        self._debounce: Timer | None = None
        self._export_worker: Worker[None] | None = None
        self._building = False
        self.last_result: ExportResult | None = None
        self._invalid_ids: list[int] = []
        self._exporting = False
        self._thread_started = False

    # -- layout --------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        with VerticalScroll(id="export-form"):
            with Horizontal(classes="export-row"):
                yield Label("Format")
                yield Select(
                    [(FORMAT_TITLES[f], f) for f in FORMATS],
                    value="jsonl",
                    allow_blank=False,
                    id="export-format",
                    compact=True,
                )
                yield Label("Invalid", classes="export-wide")
                yield Select(
                    [("block", "block"), ("skip", "skip")],
                    value="block",
                    allow_blank=False,
                    id="export-invalid",
                    compact=True,
                )
            with Horizontal(classes="export-row"):
                yield Label("Output")
                yield Input(placeholder="path of the output", id="export-output", compact=True)
            with Horizontal(classes="export-row"):
                yield Checkbox(
                    "One file per split", value=True, id="export-per-split", compact=True
                )
                yield Label("", id="export-split-info", classes="export-wide")
            with Horizontal(classes="export-row"):
                yield Label("Max tokens")
                yield Input(
                    placeholder="no limit",
                    type="integer",
                    id="export-max-tokens",
                    compact=True,
                )
                yield Label("Tokenizer", classes="export-wide")
                yield Input(
                    placeholder="tokens_ columns (Enter)",
                    id="export-tokenizer",
                    compact=True,
                )
            yield Static(
                Text('Fields: COLUMN, COL1+COL2 (joined) or "constant text"'),
                classes="export-hint",
            )
            yield Vertical(id="export-fields")
            yield Static("", id="export-validation")
            yield Static("Preview (first rows as written)", id="export-preview-title")
            yield Static("", id="export-preview")
            with Horizontal(id="export-actions"):
                yield Button("Write (ctrl+s)", id="export-write-button", compact=True)
                yield ProgressBar(total=100, show_eta=False, id="export-progress")

    def on_mount(self) -> None:
        if self.workspace is not None:
            self.workspace_changed()

    # -- state from the workspace --------------------------------------------------------
    def workspace_changed(self) -> None:
        if self.workspace is None or not self.is_mounted:
            return
        self.prepare(self.workspace.generation)

    @work(
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group="export-prepare",
        description="reading the data for export",
    )
    def prepare(self, generation: int) -> None:
        from studio.engine.export import auto_fields

        ws = self.workspace
        assert ws is not None
        frame = ws.frame
        schema = frame.collect_schema()
        columns = [c for c in schema.names() if c != ID]
        shape = detect_shape(frame)
        defaults = {fmt: auto_fields(fmt, shape, columns) for fmt in FORMATS}
        splits: dict[str, int] = {}
        if "split" in schema:
            counts = frame.group_by("split").len().collect()
            splits = {str(k): int(n) for k, n in counts.iter_rows()}
        prepared = _Prepared(generation, columns, defaults, splits)
        self.app.call_from_thread(self._prepared, prepared)

    async def _prepared(self, prepared: _Prepared) -> None:
        first = self._prepared_generation < 0
        self._prepared_generation = prepared.generation
        self._defaults = prepared.defaults
        self._splits = prepared.splits
        per_split = self.query_one("#export-per-split", Checkbox)
        info = self.query_one("#export-split-info", Label)
        if self._splits:
            order = {"train": 0, "validation": 1, "test": 2}
            parts = sorted(self._splits.items(), key=lambda kv: (order.get(kv[0], 9), kv[0]))
            info.update(Text(", ".join(f"{k} {n:,}" for k, n in parts)))
            per_split.disabled = False
        else:
            info.update("no split column")
            per_split.disabled = True
        if first:
            self._set_default_output()
            await self._build_fields()
        self.schedule_refresh(0.01)

    def _set_default_output(self) -> None:
        if self.workspace is None or self._output_edited:
            return
        source = Path(self.workspace.dataset.paths[0])
        stem = source.name.split(".")[0] or "export"
        suffix = DEFAULT_SUFFIX[self._format]
        name = f"{stem}.{self._format}{suffix}" if suffix else f"{stem}_hf"
        output = self.query_one("#export-output", Input)
        self._building = True
        output.value = str(source.parent / name)
        self._building = False

    async def _build_fields(self) -> None:
        container = self.query_one("#export-fields", Vertical)
        await container.remove_children()
        values = self._fields.setdefault(self._format, dict(self._defaults.get(self._format, {})))
        rows = []
        if self._format in FIELDS:
            for field in FIELDS[self._format]:
                hint = "a conversation column" if field in ("messages", "conversations") else ""
                rows.append(
                    Horizontal(
                        Label(field),
                        Input(
                            value=values.get(field, ""),
                            placeholder=hint,
                            id=f"field-{field}",
                            compact=True,
                        ),
                        classes="export-field",
                    )
                )
        else:
            text = ",".join(f"{k}={v}" for k, v in values.items())
            rows.append(
                Horizontal(
                    Label("columns"),
                    Input(
                        value=text,
                        placeholder="empty: every column; or NAME=SOURCE,...",
                        id=f"field-{MAP_FIELD}",
                        compact=True,
                    ),
                    classes="export-field",
                )
            )
            rows.append(
                Horizontal(
                    Label("system"),
                    Input(
                        value=self._system,
                        placeholder="adds a constant system column",
                        id="field-system",
                        compact=True,
                    ),
                    classes="export-field",
                )
            )
        self._building = True
        await container.mount_all(rows)
        self._building = False

    # -- events --------------------------------------------------------------------------
    @on(Select.Changed, "#export-format")
    async def _format_changed(self, event: Select.Changed) -> None:
        if event.value == self._format or event.value is Select.BLANK:
            return
        self._format = str(event.value)
        self._set_default_output()
        await self._build_fields()
        self.schedule_refresh()

    @on(Select.Changed, "#export-invalid")
    @on(Checkbox.Changed, "#export-per-split")
    def _option_changed(self) -> None:
        self.schedule_refresh()

    @on(Input.Changed)
    def _input_changed(self, event: Input.Changed) -> None:
        if self._building:
            return
        name = event.input.id or ""
        if name == "export-output":
            self._output_edited = True
            return
        if name == "export-max-tokens":
            self.schedule_refresh()
            return
        if not name.startswith("field-"):
            return
        field = name.removeprefix("field-")
        values = self._fields.setdefault(self._format, {})
        if field == MAP_FIELD:
            try:
                parsed = parse_map(event.value)
            except StudioError:
                return
            values.clear()
            values.update(parsed)
        elif field == "system" and self._format not in FIELDS:
            self._system = event.value
        else:
            values[field] = event.value
        self.schedule_refresh()

    @on(Input.Submitted, "#export-tokenizer")
    def _tokenizer_submitted(self, event: Input.Submitted) -> None:
        # applied on Enter only: a half-typed model name must not start a download
        self._tokenizer = event.value.strip()
        self.schedule_refresh(0.01)

    @on(Button.Pressed, "#export-write-button")
    def _write_pressed(self) -> None:
        self.action_write()

    # -- preview and validation ----------------------------------------------------------
    def schedule_refresh(self, delay: float = 0.3) -> None:
        if self._debounce is not None:
            self._debounce.stop()
        self._debounce = self.set_timer(delay, self._start_refresh)

    def _start_refresh(self) -> None:
        if self.workspace is not None:
            self.refresh_preview(self._options(force=False))

    def _options(self, *, force: bool) -> ExportOptions:
        fmt = self._format
        fields = {k: v for k, v in self._fields.get(fmt, {}).items() if v.strip()}
        per_split = self.query_one("#export-per-split", Checkbox)
        max_tokens = self.query_one("#export-max-tokens", Input).value.strip()
        return ExportOptions(
            output=Path(self.query_one("#export-output", Input).value.strip() or "."),
            format=fmt,
            fields=fields,
            system=self._system if fmt not in FIELDS else "",
            per_split=bool(self._splits) and per_split.value,
            on_invalid=str(self.query_one("#export-invalid", Select).value),
            max_tokens=max(0, int(max_tokens)) if max_tokens.lstrip("-").isdigit() else 0,
            tokenizer=self._tokenizer,
            force=force,
        )

    @work(
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group="export-preview",
        description="preview",
    )
    def refresh_preview(self, options: ExportOptions) -> None:
        ws = self.workspace
        assert ws is not None
        frame = ws.frame
        try:
            schema = frame.collect_schema()
            split = "split" if options.per_split and "split" in schema else None
            step = build_step(
                options.format,
                schema,
                fields=options.fields,
                system=options.system,
                split_column=split,
                on_invalid=options.on_invalid,
                max_tokens=options.max_tokens,
                tokenizer=options.tokenizer,
            )
            lines = preview(frame, step, PREVIEW_ROWS)
            if get_current_worker().is_cancelled:
                return
            checked = validate(frame, step, ws.dataset)
        except StudioError as exc:
            self.app.call_from_thread(self._show_error, str(exc))
            return
        except pl.exceptions.PolarsError as exc:
            self.app.call_from_thread(self._show_error, str(exc).splitlines()[0])
            return
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show_preview, lines, checked, options.on_invalid)

    def action_show_invalid(self) -> None:
        if not self._invalid_ids:
            self.notify("No invalid rows.", markup=False)
            return
        self.post_message(OpenRows(list(self._invalid_ids), "rows the export finds invalid"))

    def _show_error(self, message: str) -> None:
        status = self.query_one("#export-validation", Static)
        status.set_class(True, "-error")
        status.set_class(False, "-invalid")
        status.update(Text(f"✗ {message}"))
        self.query_one("#export-preview", Static).update("")

    def _show_preview(self, lines: list[str], checked, on_invalid: str) -> None:  # noqa: ANN001
        status = self.query_one("#export-validation", Static)
        status.set_class(False, "-error")
        status.set_class(bool(checked.count), "-invalid")
        self._invalid_ids = [int(i) for i in checked.invalid["_id"].to_list()]
        if checked.count:
            action = "will be skipped" if on_invalid == "skip" else "block the export"
            status.update(
                Text(
                    f"! {checked.summary()}: they {action}. e.g. {checked.examples(4)} "
                    "(ctrl+l: show them)"
                )
            )
        else:
            status.update(Text(f"✓ {checked.summary()}"))
        shown = [line if len(line) <= 300 else line[:299] + "…" for line in lines]
        self.query_one("#export-preview", Static).update(
            Text("\n".join(shown) or "(no rows)", no_wrap=True, overflow="ellipsis")
        )

    # -- writing -------------------------------------------------------------------------
    def action_write(self) -> None:
        if self.workspace is None:
            self.notify("Open a dataset first.", severity="warning", markup=False)
            return
        if self._exporting:
            self.notify("An export is already running.", severity="warning", markup=False)
            return
        options = self._options(force=False)
        if not self.query_one("#export-output", Input).value.strip():
            self.notify("Type an output path first.", severity="warning", markup=False)
            return
        splits = sorted(self._splits) if options.per_split else None
        existing = existing_targets(options.output, options.format, splits)
        if existing:

            def answered(replace: bool | None) -> None:
                if replace:
                    options.force = True
                    self._start_export(options)

            self.app.push_screen(ConfirmOverwrite(existing), answered)
            return
        self._start_export(options)

    def _start_export(self, options: ExportOptions) -> None:
        bar = self.query_one("#export-progress", ProgressBar)
        bar.update(total=100, progress=0)
        bar.add_class("-running")
        self._exporting = True
        self._thread_started = False
        self._export_worker = self.write_export(options)

    def _check_cancelled_start(self) -> None:
        """A worker cancelled before its thread ran never reports back: say so here."""
        worker = self._export_worker
        if not self._exporting or worker is None or self._thread_started:
            return
        if worker.is_finished or worker not in self.app.workers:
            self._finished(None, "cancelled")
        else:
            self.set_timer(0.2, self._check_cancelled_start)

    def action_cancel(self) -> None:
        if self._exporting and self._export_worker is not None:
            self._export_worker.cancel()
            self.notify("Cancelling the export…", severity="warning", markup=False)
            self.set_timer(0.2, self._check_cancelled_start)

    @work(
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group="export",
        description="export",
    )
    def write_export(self, options: ExportOptions) -> None:
        worker = get_current_worker()
        self._thread_started = True
        ws = self.workspace
        assert ws is not None
        context = RunContext(
            on_progress=lambda done, total, note: self.app.call_from_thread(
                self._progress, done, total
            ),
            is_cancelled=lambda: worker.is_cancelled,
            min_interval=0.1,
        )
        try:
            with running(context):
                result = export_workspace(ws, options)
        except Cancelled:
            self.app.call_from_thread(self._finished, None, "cancelled")
            return
        except StudioError as exc:
            self.app.call_from_thread(self._finished, None, str(exc))
            return
        self.app.call_from_thread(self._finished, result, "")

    def _progress(self, done: float, total: float) -> None:
        self.query_one("#export-progress", ProgressBar).update(
            progress=100 * done / total if total else 100
        )

    def _finished(self, result: ExportResult | None, error: str) -> None:
        if not self._exporting:
            return
        self._exporting = False
        self.query_one("#export-progress", ProgressBar).remove_class("-running")
        if result is None:
            if error == "cancelled":
                self.notify(
                    "Export cancelled; nothing was written.",
                    title="Export",
                    severity="warning",
                    markup=False,
                )
            else:
                self.notify(error, title="Export failed", severity="error", markup=False)
            return
        self.last_result = result
        lines = [f"{name}: {rows:,} rows" for name, rows in result.rows.items()]
        lines += [f"recipe: {result.recipe.name}", f"card: {result.card.name}"]
        if result.llama_factory is not None:
            lines.append(f"LLaMA-Factory entry: {result.llama_factory.name}")
        if result.skipped:
            lines.append(f"{result.skipped:,} invalid rows skipped")
        self.notify("\n".join(lines), title=f"Exported to {result.files[0].parent}", markup=False)
