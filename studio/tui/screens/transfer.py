"""The transfer stages screen: stage-1 sources (typed, or added with the file picker), the
target (the current dataset, with its steps), an optional test file, the split and the leak
check, a summary preview (rows, tokens, labels, overlap, leaks) and writing both stages.

The preview and the write run in thread workers (Escape cancels); the written
`transfer.recipe.json` is the workspace's recipe plus the `transfer.stages` step, so
`studio transfer --recipe ... --target TGT -o DIR` rewrites the same files headless.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Footer, Input, Label, Select, Static

from studio.engine.errors import StudioError
from studio.engine.steps.transfer import TransferStages
from studio.engine.transfer import (
    CHECKS,
    TransferPlan,
    existing_targets,
    plan_transfer,
    write_transfer,
)
from studio.tui import keymap
from studio.tui.screens.fewshot import default_folder
from studio.tui.screens.form_run import FormRunView

if TYPE_CHECKING:
    from studio.engine.workspace import Workspace

SEPARATOR = ";"


def parse_sources(text: str) -> tuple[str, ...]:
    return tuple(s.strip() for s in text.split(SEPARATOR) if s.strip())


def parse_ratios(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(v) for v in text.replace("/", ",").split(",") if v.strip())
    except ValueError:
        raise StudioError(f"Bad ratios {text!r}: write e.g. 0.8,0.1,0.1.") from None


def spec_text(spec: object) -> str:
    """A source spec as the `PATH:task=NAME,field=column` text `parse_source_arg` reads."""
    path = str(getattr(spec, "path", ""))
    task = str(getattr(spec, "task_name", "") or "")
    mapping = getattr(spec, "mapping", ()) or ()
    text = f"{path}:task={task}" if task else path
    return text + "".join(f",{f}={c}" for f, c in mapping)


def workspace_sources(app: object) -> list[str]:
    """The sources open in the app's multi-source workspace (`app.sources`, a `Combined`), as
    source texts; empty for a single dataset. The target of the stages is always the whole
    current workspace, so these are offered to add to stage 1, not filled in."""
    combined = getattr(app, "sources", None)
    specs = getattr(combined, "specs", ()) or ()
    return [spec_text(s) for s in specs]


class TransferScreen(FormRunView):
    BINDINGS = keymap.bindings("transfer")
    PREFIX = "transfer"
    TITLE = "Transfer stages"
    PREVIEW = "transfer preview"
    WRITING = "writing the stages"
    WRITTEN = "Transfer stages written"

    def __init__(self) -> None:
        super().__init__()
        self.plan: TransferPlan | None = None
        self.plan_step: TransferStages | None = None

    def compose(self) -> ComposeResult:
        yield Static("Transfer learning stages", classes="view-title", id="transfer-title")
        with VerticalScroll(id="transfer-body"):
            with Horizontal(classes="transfer-row"):
                yield Label("Stage 1")
                yield Input(
                    "",
                    placeholder="A.jsonl:task=qa; B.parquet",
                    id="transfer-sources",
                )
                yield Button("Add file ^n", id="transfer-add")
            with Horizontal(classes="transfer-row", id="transfer-open-row"):
                yield Label("Open sources")
                yield Select([], prompt="add an open source to stage 1", id="transfer-open")
            with Horizontal(classes="transfer-row"):
                yield Label("Test file")
                yield Input("", placeholder="optional: a separate test set", id="transfer-test")
                yield Button("Pick", id="transfer-pick-test")
            with Horizontal(classes="transfer-row"):
                yield Label("Split")
                yield Input("0.8,0.1,0.1", id="transfer-ratios")
                yield Label("Seed")
                yield Input("0", id="transfer-seed", type="integer")
                yield Label("Leaks")
                yield Select(
                    [(c, c) for c in CHECKS], value="near", allow_blank=False, id="transfer-check"
                )
            yield from self.compose_run_row()
            yield Static(
                Text(
                    "Stage 2 is the current data (with its steps). Preview (ctrl+r) shows both stages."
                ),
                id="transfer-summary",
            )
        yield Footer()

    def on_mount(self) -> None:
        ws = self.workspace
        if ws is None:
            return
        self.query_one("#transfer-folder", Input).value = default_folder(
            list(ws.dataset.paths), "transfer"
        )
        others = workspace_sources(self.app)
        if others:
            self.query_one("#transfer-open", Select).set_options([(o, o) for o in others])
        else:
            self.query_one("#transfer-open-row").display = False
        self.query_one("#transfer-title", Static).update(
            Text(f"Transfer learning stages · target {ws.dataset.name} · {ws.rows:,} rows")
        )
        self.query_one("#transfer-sources", Input).focus()

    # -- the step ------------------------------------------------------------------------------
    def build_step(self) -> TransferStages:
        sources = parse_sources(self.query_one("#transfer-sources", Input).value)
        if not sources:
            raise StudioError("Add at least one stage-1 source (ctrl+n picks a file).")
        seed_text = self.query_one("#transfer-seed", Input).value.strip() or "0"
        try:
            seed = int(seed_text)
        except ValueError:
            raise StudioError("Seed must be a whole number.") from None
        return TransferStages(
            sources=sources,
            test=self.query_one("#transfer-test", Input).value.strip(),
            ratios=parse_ratios(self.query_one("#transfer-ratios", Input).value),
            seed=seed,
            check=str(self.query_one("#transfer-check", Select).value),
        )

    # -- picking files ---------------------------------------------------------------------------
    @on(Button.Pressed, "#transfer-add")
    def action_add_source(self) -> None:
        from studio.tui.screens.picker import PickerScreen

        def picked(path: str | None) -> None:
            if path:
                field = self.query_one("#transfer-sources", Input)
                parts = list(parse_sources(field.value))
                parts.append(path)
                field.value = f"{SEPARATOR} ".join(parts)

        self.app.push_screen(PickerScreen(self._folder(), title="Add a stage-1 source"), picked)

    @on(Select.Changed, "#transfer-open")
    def _open_source_chosen(self, event: Select.Changed) -> None:
        if isinstance(event.value, str) and event.value:
            field = self.query_one("#transfer-sources", Input)
            parts = list(parse_sources(field.value))
            if event.value not in parts:
                parts.append(event.value)
            field.value = f"{SEPARATOR} ".join(parts)

    @on(Button.Pressed, "#transfer-pick-test")
    def action_pick_test(self) -> None:
        from studio.tui.screens.picker import PickerScreen

        def picked(path: str | None) -> None:
            if path:
                self.query_one("#transfer-test", Input).value = path

        self.app.push_screen(PickerScreen(self._folder(), title="Pick the test file"), picked)

    def _folder(self) -> Path | None:
        ws = self.workspace
        if ws is None or not ws.dataset.paths:
            return None
        return Path(ws.dataset.paths[0]).resolve().parent

    # -- preview and write -------------------------------------------------------------------------
    @on(Button.Pressed, "#transfer-preview-button")
    def action_preview(self) -> None:
        self._preview("Preparing the stages…")

    @on(Button.Pressed, "#transfer-write-button")
    def action_write(self) -> None:
        super().action_write()

    def existing_in(self, folder: Path, step: TransferStages) -> list[Path]:
        return existing_targets(folder, step.format)

    def overwrite_question(self, folder: str, existing: list[Path]) -> str:
        return f"{folder} already holds stages ({existing[0].name}). Overwrite them?"

    def compute(self, ws: Workspace, step: TransferStages) -> TransferPlan:
        return plan_transfer(ws.dataset, ws.frame, step)

    def write(
        self, step: TransferStages, args: tuple[Any, ...], **options: Any
    ) -> tuple[TransferPlan, str]:
        kept = self.plan if self.plan_step == step else None
        result = write_transfer(*args, **options, plan=kept)
        return result.plan, result.summary()

    def show(self, step: TransferStages, plan: TransferPlan) -> None:
        self.plan, self.plan_step = plan, step
        table = Table(expand=True, show_edge=False)
        table.add_column("")
        table.add_column("stage 1 (sources)", ratio=1)
        table.add_column("stage 2 (target)", ratio=1)
        for figure, first, second in plan.table():
            table.add_row(Text(figure), Text(first), Text(second))
        notes = Text()
        notes.append(f"stage 2: {plan.split_note}\n")
        notes.append(f"tokens: {plan.tokenizer_label}\n", style="dim")
        if plan.overlap["only_stage2"]:
            notes.append(
                "labels only in stage 2: " + ", ".join(plan.overlap["only_stage2"][:10]) + "\n"
            )
        for row in plan.leaks.head(8).iter_rows(named=True):
            notes.append(
                f"leak: {row['source']} ({row['task']}) {row['kind']} match of "
                f"{row['eval_split']} row {row['eval_source']}\n"
            )
        if plan.leaks.height > 8:
            notes.append(f"… {plan.leaks.height - 8:,} more in leaks.jsonl\n", style="dim")
        for line in plan.schema_lines[:12]:
            notes.append(line + "\n", style="dim")
        from rich.console import Group

        self.query_one("#transfer-summary", Static).update(Group(table, notes))
        self._set_status("")
