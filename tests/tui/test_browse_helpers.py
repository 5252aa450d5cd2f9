"""Data and small helpers shared by the Browse tests."""

from __future__ import annotations

import json
from pathlib import Path

from textual.app import App, ComposeResult

from studio.engine.io import load_dataset
from studio.engine.workspace import Workspace
from studio.tui.messages import StepRequested
from studio.tui.panes.browse import BrowsePane
from studio.tui.widgets.frame_table import FrameTable

ROWS = 5000

HOSTILE = [
    "[bold]x[/bold]",
    "[link=http://x]y[/link]",
    "\x1b[31mred\x1b[0m",
    "bell\x07here",
    "osc\x1b]52;c;aGk=\x07end",
    "c1\x9b31mcsi",
]


def chat(i: int) -> list[dict[str, str]]:
    return [
        {"role": "system", "content": "Answer briefly."},
        {"role": "user", "content": f"What is {i} plus one?"},
        {"role": "assistant", "content": f"It is {i + 1}."},
    ]


def write_rows(path: Path, rows: int = ROWS) -> Path:
    """A JSONL file: text, a shuffled number, a chat conversation; a few hostile rows."""
    with path.open("w", encoding="utf-8") as out:
        for i in range(rows):
            text = HOSTILE[i - 10] if 10 <= i < 10 + len(HOSTILE) else f"row {i} text"
            record = {"text": text, "n": (i * 7919) % rows, "messages": chat(i)}
            out.write(json.dumps(record) + "\n")
    return path


def table_lines(table: FrameTable) -> list[str]:
    """The text of every line the table draws right now."""
    return [table.render_line(y).text for y in range(table.page_rows)]


class BrowseApp(App[None]):
    """Browse alone over a workspace (applies requested steps synchronously)."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.workspace = Workspace(load_dataset(path))

    def compose(self) -> ComposeResult:
        yield BrowsePane(self.workspace, id="pane-browse")

    def on_step_requested(self, message: StepRequested) -> None:
        self.workspace.apply(message.step)
        self.query_one(BrowsePane).workspace_changed()
