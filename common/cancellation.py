"""Stops that must not be retried away.

A loop that retries on `Exception` (a worker riding out a broker or database restart) can
swallow its own cancellation: SQLAlchemy and asyncpg, cancelled while closing a connection
that is already dead, may raise their own error instead of `CancelledError`. The retry then
runs on, the cancel request is spent, and whoever awaits the task waits forever (a stopping
worker, a test session's teardown). `Task.cancelling()` still counts the request, so each
such `except Exception` asks `stop_if_cancelled()` first.
"""

from __future__ import annotations

import asyncio


def stop_if_cancelled() -> None:
    """Raise `CancelledError` if the current task has been asked to stop."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
