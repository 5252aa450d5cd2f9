"""Messages shared across panes. Panes post these up; the app/screen mediates."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from studio.engine.steps.base import Step


@dataclass
class StepRequested(Message):
    """A pane asks for a step to be applied to the workspace (runs in a worker)."""

    step: Step


@dataclass
class WorkspaceChanged(Message):
    """The workspace changed (step applied, undone, redone, rows restored)."""

    generation: int


@dataclass
class OpenRows(Message):
    """Show these row ids in Browse (e.g. the rows behind a figure)."""

    ids: list[int]
    title: str = ""


@dataclass
class RestoreRequested(Message):
    """Put back rows that step `step_index` removed (the app runs it in a worker)."""

    step_index: int
    ids: list[int]


@dataclass
class WorkProgress(Message):
    """Progress of long work, shown in the status line (`total` 0: indeterminate).

    Workers post it through `post_message` (thread-safe); `description` names the work."""

    description: str
    done: float = 0
    total: float = 0
