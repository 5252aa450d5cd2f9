"""Wait until the app's workers are done. A pane's exclusive worker that a newer change
cancelled is expected (it makes `wait_for_complete` raise `WorkerCancelled`): wait again."""

from __future__ import annotations

import contextlib

from textual.worker import WorkerCancelled


async def settle(app, pilot, rounds: int = 4) -> None:  # noqa: ANN001
    for _ in range(rounds):
        with contextlib.suppress(WorkerCancelled):
            await app.workers.wait_for_complete()
        await pilot.pause()
