"""`router.mailbox`: the queue and the flag a WebSocket connection waits on, in place of
asyncio's (router/server/websocket_protocol.py, router/subscriptions/connection.py)."""

import asyncio

import pytest

from router.mailbox import Flag, Mailbox


async def test_a_mailbox_hands_items_over_in_order_and_wakes_its_consumer() -> None:
    mailbox: Mailbox[int] = Mailbox()
    assert mailbox.empty()
    assert not mailbox
    waiting = asyncio.create_task(mailbox.get())
    await asyncio.sleep(0)
    mailbox.put_nowait(1)
    mailbox.put_nowait(2)
    assert await waiting == 1
    mailbox.put_nowait(3)
    assert (len(mailbox), mailbox.get_nowait(), await mailbox.get()) == (2, 2, 3)
    with pytest.raises(asyncio.QueueEmpty):
        mailbox.get_nowait()
    mailbox.put_nowait(4)
    mailbox.clear()
    assert mailbox.qsize() == 0


async def test_an_item_put_while_a_cancelled_get_waited_is_kept() -> None:
    mailbox: Mailbox[str] = Mailbox()
    waiting = asyncio.create_task(mailbox.get())
    await asyncio.sleep(0)
    mailbox.put_nowait("kept")
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert await mailbox.get() == "kept"


async def test_a_mailbox_has_one_consumer() -> None:
    mailbox: Mailbox[int] = Mailbox()
    first = asyncio.create_task(mailbox.get())
    await asyncio.sleep(0)
    with pytest.raises(RuntimeError, match="one consumer"):
        await mailbox.get()
    first.cancel()


async def test_a_flag_wakes_every_waiter_and_one_cancelled_waiter_leaves_the_others() -> None:
    flag = Flag()
    waiters = [asyncio.create_task(flag.wait()) for _ in range(3)]
    await asyncio.sleep(0)
    waiters[0].cancel()
    await asyncio.sleep(0)
    assert not flag.is_set()
    flag.set()
    assert await asyncio.gather(*waiters[1:]) == [True, True]
    assert waiters[0].cancelled()
    assert await flag.wait() is True  # set: at once
    flag.clear()
    late = asyncio.create_task(flag.wait())
    await asyncio.sleep(0)
    assert not late.done()
    flag.set()
    assert await late is True
