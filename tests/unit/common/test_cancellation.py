"""A worker loop that retries on errors still stops when cancelled, even when the driver
under it turns the cancellation into an error of its own (as SQLAlchemy and asyncpg may
when cancelled while closing a dead connection). Before, the retry ran on and whoever
awaited the worker (a stopping service, the test session's teardown) waited forever."""

from __future__ import annotations

import asyncio

from common.cancellation import stop_if_cancelled
from common.events.worker import supervised


async def test_a_supervised_loop_whose_driver_turns_the_cancel_into_an_error_stops() -> None:
    started = asyncio.Event()
    rounds = 0

    async def loop() -> None:
        nonlocal rounds
        rounds += 1
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            raise RuntimeError("connection was closed in the middle of operation") from None

    task = asyncio.create_task(supervised("database-job", loop))
    await started.wait()
    task.cancel()
    done, _ = await asyncio.wait([task], timeout=10)  # a bound, not a measurement
    assert task in done, "the loop was restarted instead of stopping"
    assert task.cancelled()
    assert rounds == 1


async def test_a_failure_without_a_stop_is_retried() -> None:
    rounds = 0
    second = asyncio.Event()

    async def loop() -> None:
        nonlocal rounds
        rounds += 1
        if rounds == 1:
            raise RuntimeError("database away")
        second.set()
        await asyncio.Event().wait()

    task = asyncio.create_task(supervised("database-job", loop))
    await asyncio.wait_for(second.wait(), timeout=10)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert rounds == 2
    assert task.cancelled()


async def test_outside_a_stop_nothing_is_raised() -> None:
    stop_if_cancelled()  # a task not asked to stop goes on
