"""What a WebSocket connection or operation waits on, small enough to hold thousands of.

`asyncio.Queue` keeps four deques (its items, getters, putters and an Event's waiters): about
3.3 KiB empty; `asyncio.Event` one deque, about 0.9 KiB. A router holding 1,000
subscriptions held five of them for each (uvicorn's receive queue and writable event, the
connection's outbox and end, the operation's events on the shared socket). These do the
same with a list, and a future for each waiter made only while it waits: about 0.2 KiB.
"""

import asyncio
from typing import Generic, TypeVar

T = TypeVar("T")


class Mailbox(Generic[T]):
    """An unbounded first-in first-out queue with one consumer (the callers bound it)."""

    __slots__ = ("_head", "_items", "_waiter")

    def __init__(self) -> None:
        self._items: list[T] = []
        self._head = 0  # items before it were taken (the list is cleared once all are)
        self._waiter: asyncio.Future[None] | None = None

    def put_nowait(self, item: T) -> None:
        self._items.append(item)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def get_nowait(self) -> T:
        if self._head >= len(self._items):
            raise asyncio.QueueEmpty
        item = self._items[self._head]
        self._head += 1
        if self._head == len(self._items):
            self._items.clear()
            self._head = 0
        return item

    async def get(self) -> T:
        """The next item, waiting for one (an item put while a cancelled `get` waited stays
        for the next one)."""
        while self._head >= len(self._items):
            if self._waiter is not None:
                raise RuntimeError("a Mailbox has one consumer")
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self.get_nowait()

    def clear(self) -> None:
        self._items.clear()
        self._head = 0

    def qsize(self) -> int:
        return len(self._items) - self._head

    def empty(self) -> bool:
        return self._head >= len(self._items)

    def __len__(self) -> int:
        return self.qsize()


class Flag:
    """`asyncio.Event`'s set, clear, is_set and wait, for any number of waiters (a list of
    their futures, made while someone waits)."""

    __slots__ = ("_set", "_waiters")

    def __init__(self) -> None:
        self._set = False
        self._waiters: list[asyncio.Future[None]] | None = None

    def is_set(self) -> bool:
        return self._set

    def set(self) -> None:
        self._set = True
        waiters, self._waiters = self._waiters, None
        for waiter in waiters or ():
            if not waiter.done():
                waiter.set_result(None)

    def clear(self) -> None:
        self._set = False

    async def wait(self) -> bool:
        while not self._set:
            waiter = asyncio.get_running_loop().create_future()
            if self._waiters is None:
                self._waiters = []
            self._waiters.append(waiter)
            try:
                await waiter
            finally:
                if self._waiters is not None and waiter in self._waiters:
                    self._waiters.remove(waiter)  # cancelled: the others wait on
        return True
