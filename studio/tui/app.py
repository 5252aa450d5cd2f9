"""StudioApp: the shell. Loads the dataset in a worker, hosts one tab per capability, runs
steps in workers and routes worker failures to notifications."""

from __future__ import annotations

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import Footer, Header, Static, TabbedContent, TabPane
from textual.worker import Worker, WorkerState

from studio.engine.errors import StudioError
from studio.engine.io import load_dataset
from studio.engine.journal import Journal
from studio.engine.steps.base import Step
from studio.engine.workspace import Workspace
from studio.tui.messages import StepRequested, WorkspaceChanged
from studio.tui.panes import PANES, load_pane
from studio.tui.panes.base import Pane


class StudioApp(App[None]):
    TITLE = "Dataset Studio"
    BINDINGS = [
        Binding("ctrl+z", "undo", "Undo", id="undo"),
        Binding("ctrl+y", "redo", "Redo", id="redo"),
        Binding("q", "quit", "Quit", id="quit"),
    ]

    def __init__(
        self,
        paths: list[str] | None = None,
        *,
        theme_name: str | None = None,
        workspace: Workspace | None = None,
    ) -> None:
        super().__init__()
        self.paths = list(paths or [])
        self.workspace: Workspace | None = workspace
        self._theme_name = theme_name

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Opening…" if self.paths else "No dataset opened.", id="status")
        with TabbedContent(id="tabs"):
            for tab_id, title, spec in PANES:
                with TabPane(title, id=f"tab-{tab_id}"):
                    yield load_pane(spec)(self.workspace, id=f"pane-{tab_id}")
        yield Footer()

    def on_mount(self) -> None:
        if self.workspace is None and self.paths:
            self.load(self.paths[0])
        elif self.workspace is not None:
            self._workspace_ready()

    @work(
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group="load",
        description="opening dataset",
    )
    def load(self, path: str) -> None:
        dataset = load_dataset(path)
        workspace = Workspace(dataset, journal=Journal(dataset.paths))
        self.call_from_thread(self._set_workspace, workspace)

    def _set_workspace(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self._workspace_ready()

    def _workspace_ready(self) -> None:
        assert self.workspace is not None
        for pane in self.query(Pane):
            pane.workspace = self.workspace
        self._refresh_panes()

    def _refresh_panes(self) -> None:
        ws = self.workspace
        if ws is None:
            return
        self.query_one("#status", Static).update(
            f"{ws.dataset.name} · {ws.rows:,} rows · {len(ws.steps)} steps"
        )
        for pane in self.query(Pane):
            pane.workspace_changed()
        self.post_message(WorkspaceChanged(ws.generation))

    # -- steps -----------------------------------------------------------------------------
    @on(StepRequested)
    def _on_step_requested(self, message: StepRequested) -> None:
        self.apply_step(message.step)

    @work(
        thread=True, exclusive=True, exit_on_error=False, group="step", description="applying step"
    )
    def apply_step(self, step: Step) -> None:
        assert self.workspace is not None
        result = self.workspace.apply(step)
        self.call_from_thread(self._refresh_panes)
        self.call_from_thread(self.notify, result.summary(), title="Step applied", markup=False)

    @work(thread=True, exclusive=True, exit_on_error=False, group="step", description="undo")
    def action_undo(self) -> None:
        if self.workspace is not None and self.workspace.undo() is not None:
            self.call_from_thread(self._refresh_panes)

    @work(thread=True, exclusive=True, exit_on_error=False, group="step", description="redo")
    def action_redo(self) -> None:
        if self.workspace is not None and self.workspace.redo() is not None:
            self.call_from_thread(self._refresh_panes)

    # -- errors ----------------------------------------------------------------------------
    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state != WorkerState.ERROR:
            return
        error = event.worker.error
        if isinstance(error, StudioError):
            self.notify(
                str(error),
                severity="error",
                title=event.worker.description or "Error",
                markup=False,
            )
        else:
            self.notify(
                f"{type(error).__name__}: {error}",
                severity="error",
                title="Unexpected error",
                markup=False,
                timeout=10,
            )


def run_app(paths: list[str], *, theme: str | None = None, recipe: str | None = None) -> int:
    StudioApp(paths, theme_name=theme).run()
    return 0
