"""Base of every tab's pane. Only the tab on screen does work.

A pane made with `lazy=True` (every tab but the first; see `make_pane`) is mounted empty: its
`compose()` and `on_mount()` run when the tab is first shown (or `build()` is called), so
opening a file composes and styles one pane, not nine. A built pane that is hidden gets
`workspace_changed()` when it is next shown rather than after every change
(`notify_workspace_changed`). The pane itself is always in the DOM (queries by id or class
find it); only its children wait.
"""

from __future__ import annotations

import asyncio
import functools
from typing import TYPE_CHECKING, Any, ClassVar

from textual import events
from textual.await_complete import AwaitComplete
from textual.containers import Container
from textual.message import Message

if TYPE_CHECKING:
    from studio.engine.workspace import Workspace


class _Build(Message, bubble=False):
    """Build a lazy pane now (posted to the pane itself, so it runs in the pane's own loop)."""


class Pane(Container):
    """A tab. The app sets `workspace` before mounting and calls `notify_workspace_changed()`
    after every change, which runs `workspace_changed()` now if the tab is on screen and
    otherwise when it is next shown; panes build steps and post `StepRequested`, never apply
    them directly."""

    TAB_ID: ClassVar[str] = ""
    TITLE: ClassVar[str] = ""

    def __init__(self, workspace: Workspace | None = None, **kwargs) -> None:  # noqa: ANN003
        super().__init__(**kwargs)
        self.workspace = workspace
        self.lazy = False
        """Set before mounting: compose and start only when first shown."""
        self._built = False
        self._built_event = asyncio.Event()
        self._missed_change = False
        self._focus_on_mount = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        own = cls.__dict__.get("workspace_changed")
        if own is not None and not getattr(own, "_clears_missed", False):

            @functools.wraps(own)
            def workspace_changed(self: Pane) -> None:
                self._missed_change = False  # whoever calls it, the pane has caught up
                own(self)

            workspace_changed._clears_missed = True  # type: ignore[attr-defined]
            cls.workspace_changed = workspace_changed  # type: ignore[method-assign]

    def workspace_changed(self) -> None:
        """Refresh from `self.workspace` (called on the UI thread; start workers for long work)."""
        self._missed_change = False

    def notify_workspace_changed(self) -> None:
        """The workspace changed: refresh now if on screen, else when next shown."""
        if self._built and self._on_screen():
            self.workspace_changed()
        else:
            self._missed_change = True

    # -- lazy building -----------------------------------------------------------------------
    @property
    def built(self) -> bool:
        """Whether the pane has been composed and started (a lazy one: once first shown)."""
        return self._built

    def build(self, *, focus: bool = False) -> AwaitComplete:
        """Compose and start a lazy pane now (no-op once built); `focus` focuses into it.
        Await the result to have its widgets mounted and its `on_mount` run."""
        if self._built:
            if focus:
                self.focus_first()
            return AwaitComplete.nothing()
        self._focus_on_mount = self._focus_on_mount or focus
        self.post_message(_Build())
        return AwaitComplete(self._built_event.wait())

    async def _dispatch_message(self, message: Message) -> None:
        if self.lazy and not self._built:
            if isinstance(message, events.Mount):
                self._watch_tabs()
            if isinstance(message, events.Compose | events.Mount):
                return  # held back until the tab is first shown
            if isinstance(message, events.Show | _Build):
                await self._build()
        if isinstance(message, _Build):
            return
        await super()._dispatch_message(message)
        if isinstance(message, events.Mount) and not self._built:  # a pane built at once
            self._built = True
            self._built_event.set()

    def _watch_tabs(self) -> None:
        """Build as soon as this pane's tab is made active (a reactive watcher runs at once,
        so the build is queued before anything else waits on the pane), not only on Show."""
        from textual.widgets import TabbedContent

        tab = self.parent
        tabs = next((a for a in self.ancestors if isinstance(a, TabbedContent)), None)
        if tab is None or tab.id is None or tabs is None:
            return

        def activated(active: str) -> None:
            if active == tab.id and not self._built:
                self.build()

        self.watch(tabs, "active", activated, init=False)

    async def _build(self) -> None:
        self._built = True
        try:
            if self._closing_down():
                return
            await super()._dispatch_message(events.Compose())
            # a tab key pressed as the app quits (a burst of typing: `q` then a digit) builds
            # a pane whose children are never mounted: its `on_mount` must not look for them
            if self._closing_down():
                return
            await super()._dispatch_message(events.Mount())
        finally:
            self._built_event.set()

    def _closing_down(self) -> bool:
        return self._closing or self._closed or bool(getattr(self.app, "_exit", False))

    # -- handlers ----------------------------------------------------------------------------
    def on_mount(self) -> None:
        # runs after the subclass's own on_mount (Textual calls handlers down the MRO)
        if self._focus_on_mount:
            self._focus_on_mount = False
            self.focus_first()

    def on_show(self) -> None:
        # after a subclass's own on_show: catch up on changes made while hidden
        if self._missed_change and self._built:
            self.workspace_changed()

    def focus_first(self) -> None:
        """Focus the first focusable widget inside, so the footer shows this pane's keys."""
        for widget in self.query("*"):
            if widget.focusable:
                widget.focus()
                return

    def on_worker_state_changed(self, event) -> None:  # noqa: ANN001
        """Worker state changes do not bubble: hand the pane's to the app's one error router."""
        route = getattr(self.app, "route_worker_state", None)
        if route is not None:
            route(event)

    def shown(self) -> bool:
        """True when this pane's tab is the one on screen (hidden panes defer heavy work)."""
        return self._on_screen()

    def _on_screen(self) -> bool:
        # the base's own check: a pane may use the name `shown` for something else
        node = self
        while node is not None and hasattr(node, "display"):
            if not node.display:
                return False
            node = node.parent  # type: ignore[assignment]
        return self.is_mounted


def make_pane(spec: str, tab_id: str, workspace: Workspace | None, *, lazy: bool) -> Pane:
    """The pane of a tab (`spec` is `"module:Class"`); `lazy`: composed when first shown."""
    from studio.tui.panes import load_pane

    pane: Pane = load_pane(spec)(workspace, id=f"pane-{tab_id}")
    pane.lazy = lazy
    return pane
