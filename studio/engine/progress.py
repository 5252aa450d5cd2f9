"""Progress and cancellation for long steps, without tying `apply` to any UI.

A runner (TUI worker, CLI) installs a `RunContext` with `running(...)`; long steps call
`report(done, total)` between batches and `check_cancelled()` to stop early. Outside a runner
both are no-ops, so `apply(frame)` stays a pure function.
"""

from __future__ import annotations

import contextlib
import contextvars
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field


class Cancelled(Exception):
    """Raised inside a step when the user cancelled the run."""


@dataclass
class RunContext:
    on_progress: Callable[[float, float, str], None] | None = None
    is_cancelled: Callable[[], bool] | None = None
    min_interval: float = 0.1
    _last: float = field(default=0.0, repr=False)

    def report(self, done: float, total: float, note: str = "") -> None:
        if self.on_progress is None:
            return
        now = time.monotonic()
        if done < total and now - self._last < self.min_interval:
            return
        self._last = now
        self.on_progress(done, total, note)


_CONTEXT: contextvars.ContextVar[RunContext | None] = contextvars.ContextVar(
    "studio_run_context", default=None
)


@contextlib.contextmanager
def running(context: RunContext) -> Iterator[RunContext]:
    token = _CONTEXT.set(context)
    try:
        yield context
    finally:
        _CONTEXT.reset(token)


def report(done: float, total: float, note: str = "") -> None:
    """Tell the runner how far a long step is (throttled)."""
    context = _CONTEXT.get()
    if context is not None:
        context.report(done, total, note)


def check_cancelled() -> None:
    """Raise `Cancelled` when the user asked to stop; call between batches."""
    context = _CONTEXT.get()
    if context is not None and context.is_cancelled is not None and context.is_cancelled():
        raise Cancelled()
