"""Base of the full-screen views over the workspace (Steps, Problems, Removed)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.screen import Screen
from textual.worker import Worker

if TYPE_CHECKING:
    from studio.engine.workspace import Workspace


class WorkspaceView(Screen[None]):
    """The app calls `workspace_changed()` on every open view after each change."""

    @property
    def workspace(self) -> Workspace | None:
        return getattr(self.app, "workspace", None)

    def on_screen_resume(self) -> None:
        self.workspace_changed()

    def workspace_changed(self) -> None:
        """Refresh from `self.workspace`."""

    def action_close(self) -> None:
        self.dismiss(None)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        route = getattr(self.app, "route_worker_state", None)
        if route is not None:
            route(event)
