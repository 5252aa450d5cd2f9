"""Wait until the app's workers are done. A pane's exclusive worker that a newer change
cancelled is expected (it makes `wait_for_complete` raise `WorkerCancelled`): wait again.
A worker that failed on bad input (`WorkerFailed`) is expected too: the app turns it into an
error notification, which the tests check."""

from __future__ import annotations

import contextlib

from textual.worker import WorkerCancelled, WorkerFailed


async def settle(app, pilot, rounds: int = 4) -> None:  # noqa: ANN001
    for _ in range(rounds):
        with contextlib.suppress(WorkerCancelled, WorkerFailed):
            await app.workers.wait_for_complete()
        await pilot.pause()
