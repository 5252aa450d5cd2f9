"""The status line: dataset name, rows, steps, and a progress bar while work runs."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.css.query import NoMatches
from textual.widgets import ProgressBar, Static


class StatusBar(Horizontal):
    DEFAULT_CSS = """
    StatusBar {
        height: 1;
        background: $panel;
        color: $foreground;
    }
    StatusBar #status-text { width: 1fr; height: 1; padding: 0 1; }
    StatusBar #status-work { width: auto; max-width: 40; height: 1; color: $warning; }
    StatusBar ProgressBar { width: 24; height: 1; }
    StatusBar ProgressBar Bar { width: 14; }
    StatusBar.-idle #status-work, StatusBar.-idle ProgressBar { display: none; }
    """

    def compose(self) -> ComposeResult:
        yield Static("", id="status-text")
        yield Static("", id="status-work")
        yield ProgressBar(total=None, show_eta=False, id="status-progress")

    def on_mount(self) -> None:
        self.add_class("-idle")

    def set_text(self, text: str) -> None:
        self.query_one("#status-text", Static).update(Text(text, no_wrap=True, overflow="ellipsis"))

    def set_work(
        self, description: str | None, done: float | None = None, total: float | None = None
    ) -> None:
        """Show running work (None hides the bar); `total` None is an indeterminate bar."""
        if not self.is_mounted or not self.children:
            return  # a timer may fire while the app starts or shuts down
        if description is None:
            self.add_class("-idle")
            return
        try:
            work = self.query_one("#status-work", Static)
            bar = self.query_one(ProgressBar)
        except NoMatches:
            # seen on a busy machine: the poll timer fired between mount and compose of the
            # children; the next poll shows the work
            return
        self.remove_class("-idle")
        work.update(Text(f"{description}… Esc cancels ", no_wrap=True, overflow="ellipsis"))
        if total:
            bar.update(total=total, progress=done or 0)
        else:
            bar.update(total=None)

    @property
    def text(self) -> str:
        return str(self.query_one("#status-text", Static).content)
