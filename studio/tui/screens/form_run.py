"""Base of the form screens that preview and write a step in thread workers (Few-shot pack,
Transfer stages): the status line, progress, Escape-cancels, the overwrite question and the
preview/write workers. A subclass builds the step from its form and says how to compute,
write and show the result."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, Input, Label, Static
from textual.worker import Worker, WorkerState, get_current_worker

from studio.engine.errors import StudioError
from studio.engine.progress import Cancelled, RunContext, running
from studio.tui.screens.view import WorkspaceView

if TYPE_CHECKING:
    from studio.engine.workspace import Workspace


class FormRunView(WorkspaceView):
    """Widget ids are `#{PREFIX}-folder` and `#{PREFIX}-status`; PREFIX is also the worker group."""

    PREFIX: ClassVar[str] = ""
    TITLE: ClassVar[str] = ""  # of the error notifications
    PREVIEW: ClassVar[str] = ""  # the preview worker's description
    WRITING: ClassVar[str] = ""  # the write worker's description
    WRITTEN: ClassVar[str] = ""  # the title of the "written" notification

    # -- the subclass's part ---------------------------------------------------------------------
    def build_step(self) -> Any:
        raise NotImplementedError

    def existing_in(self, folder: Path, step: Any) -> list[Path]:
        raise NotImplementedError

    def overwrite_question(self, folder: str, existing: list[Path]) -> str:
        raise NotImplementedError

    def compute(self, ws: Workspace, step: Any) -> Any:
        """The preview result (in the worker)."""
        raise NotImplementedError

    def write(self, step: Any, args: tuple[Any, ...], **options: Any) -> tuple[Any, str]:
        """Write (in the worker) with the engine's writer called as `writer(*args, **options)`
        (dataset, frame, step, folder; force, recipe); the shown result and the summary."""
        raise NotImplementedError

    def show(self, step: Any, result: Any) -> None:
        raise NotImplementedError

    # -- shared --------------------------------------------------------------------------------
    def compose_run_row(self) -> ComposeResult:
        """The output folder, the Preview and Write buttons, and the status line."""
        prefix = self.PREFIX
        with Horizontal(classes=f"{prefix}-row"):
            yield Label("Folder")
            yield Input("", id=f"{prefix}-folder")
            yield Button("Preview ^r", id=f"{prefix}-preview-button")
            yield Button("Write ^o", id=f"{prefix}-write-button", variant="primary")
        yield Static("", id=f"{prefix}-status")

    def _form_step(self) -> Any | None:
        try:
            step = self.build_step()
            if self.workspace is not None:
                step.validate(self.workspace.frame.collect_schema())
        except StudioError as exc:
            self.notify(str(exc), severity="error", title=self.TITLE, markup=False)
            return None
        return step

    def _preview(self, status: str) -> None:
        step = self._form_step()
        if step is not None:
            self._set_status(status)
            self.run_preview(step)

    def action_write(self) -> None:
        step = self._form_step()
        if step is None:
            return
        folder = self.query_one(f"#{self.PREFIX}-folder", Input).value.strip()
        if not folder:
            self.notify("Choose an output folder.", severity="error", markup=False)
            return
        existing = self.existing_in(Path(folder).expanduser(), step)
        if existing:
            from studio.tui.screens.confirm import ConfirmScreen

            self.app.push_screen(
                ConfirmScreen(self.overwrite_question(folder, existing)),
                lambda yes: self.run_write(step, folder, force=True) if yes else None,
            )
            return
        self.run_write(step, folder, force=False)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The status line says when a preview or write stopped (not its last progress)."""
        super().on_worker_state_changed(event)
        if event.worker.group != self.PREFIX or not self.is_mounted:
            return
        what = event.worker.description or "work"
        if event.state == WorkerState.ERROR:
            error = event.worker.error
            cancelled = isinstance(error, Cancelled)
            self._set_status(f"{what}: {'cancelled' if cancelled else 'failed'} (see the message)")
        elif event.state == WorkerState.CANCELLED:
            self._set_status(f"{what}: cancelled")

    def _set_status(self, text: str) -> None:
        self.query_one(f"#{self.PREFIX}-status", Static).update(Text(text, style="dim"))

    def _run_context(self, description: str) -> RunContext:
        worker = get_current_worker()
        return RunContext(
            on_progress=partial(self._progress, description),
            is_cancelled=lambda: worker.is_cancelled,
        )

    def _progress(self, description: str, done: float, total: float, note: str) -> None:
        share = f"{done / total:.0%} " if total else ""
        self.app.call_from_thread(self._set_status, f"{description}: {share}{note}")

    def _worker(self, name: str, description: str, *args: Any) -> Worker[None]:
        return self.run_worker(
            partial(getattr(self, f"_{name}"), *args),
            name=name,
            group=self.PREFIX,
            description=description,
            exclusive=True,
            exit_on_error=False,
            thread=True,
        )

    def run_preview(self, step: Any) -> Worker[None]:
        return self._worker("run_preview", self.PREVIEW, step)

    def run_write(self, step: Any, folder: str, force: bool) -> Worker[None]:
        return self._worker("run_write", self.WRITING, step, folder, force)

    def _run_preview(self, step: Any) -> None:
        ws = self.workspace
        if ws is None:
            return
        with running(self._run_context(self.PREVIEW)):
            result = self.compute(ws, step)
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self.show, step, result)

    def _run_write(self, step: Any, folder: str, force: bool) -> None:
        ws = self.workspace
        if ws is None:
            return
        with running(self._run_context(self.WRITING)):
            args = (ws.dataset, ws.frame, step, Path(folder).expanduser())
            result, summary = self.write(step, args, force=force, recipe=ws.recipe())
        self.app.call_from_thread(self.show, step, result)
        self.app.call_from_thread(self.notify, summary, title=self.WRITTEN, markup=False)
