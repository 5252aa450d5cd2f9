"""The recipe as a table: each step's plain description, rows in and out, rows removed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.widgets import DataTable

if TYPE_CHECKING:
    from studio.engine.workspace import Workspace


class StepList(DataTable):
    DEFAULT_CSS = """
    StepList { height: 1fr; }
    """

    def __init__(self, **kwargs) -> None:  # noqa: ANN003
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)

    def on_mount(self) -> None:
        self.add_column("#", key="index")
        self.add_column("Step", key="step")
        self.add_column("Rows in", key="in")
        self.add_column("Rows out", key="out")
        self.add_column("Removed", key="removed")

    def show(self, workspace: Workspace | None) -> None:
        self.clear()
        if workspace is None:
            return
        rows = workspace.dataset.rows
        self.add_row(
            Text("0", style="italic"),
            Text(f"open {workspace.dataset.name}", style="italic"),
            Text(""),
            Text(f"{rows:,}", justify="right"),
            Text(""),
            key="source",
        )
        for index, result in enumerate(workspace.results, start=1):
            restored = len(workspace.restored.get(index - 1, ()))
            removed = f"{result.dropped:,}"
            if restored:
                removed += f" ({restored:,} back)"
            self.add_row(
                Text(str(index)),
                Text(result.step.describe()),
                Text(f"{result.rows_in:,}", justify="right"),
                Text(f"{result.rows_out:,}", justify="right"),
                Text(removed, justify="right"),
                key=f"step-{index}",
            )
        if workspace.results:
            self.move_cursor(row=self.row_count - 1)
