"""Base of every tab's pane."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.containers import Container

if TYPE_CHECKING:
    from studio.engine.workspace import Workspace


class Pane(Container):
    """A tab. The app sets `workspace` before mounting and calls `workspace_changed()` after
    every change; panes build steps and post `StepRequested`, never apply them directly."""

    TAB_ID: ClassVar[str] = ""
    TITLE: ClassVar[str] = ""

    def __init__(self, workspace: Workspace | None = None, **kwargs) -> None:  # noqa: ANN003
        super().__init__(**kwargs)
        self.workspace = workspace

    def workspace_changed(self) -> None:
        """Refresh from `self.workspace` (called on the UI thread; start workers for long work)."""

    def on_worker_state_changed(self, event) -> None:  # noqa: ANN001
        """Worker state changes do not bubble: hand the pane's to the app's one error router."""
        route = getattr(self.app, "route_worker_state", None)
        if route is not None:
            route(event)

    def shown(self) -> bool:
        """True when this pane's tab is the one on screen (hidden panes defer heavy work)."""
        node = self
        while node is not None and hasattr(node, "display"):
            if not node.display:
                return False
            node = node.parent  # type: ignore[assignment]
        return self.is_mounted
