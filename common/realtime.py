"""Redis pub/sub fanned out inside a process: one Redis connection, any number of listeners.

A process subscribes to a Redis channel once, however many local listeners want it, and
hands each message to every listener's bounded queue. A listener that falls behind (its
queue full) is closed with the reason, without slowing the others. When Redis goes away
the hub reconnects with backoff, subscribes again, and tells every listener that messages
may have been missed (a `Gap`), so a client can catch up with a query.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import Any, Final

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)

QUEUE_SIZE: Final = 100
# How long the hub waits for a message before it looks for channels to (un)subscribe: the
# delay before a new listener's channel is live.
POLL_SECONDS: Final = 0.05
RECONNECT_MAX_SECONDS: Final = 5.0


@dataclass(frozen=True, slots=True)
class Gap:
    """Messages may have been missed (Redis was unreachable)."""


class SlowListener(Exception):
    """The listener's queue overflowed; it was closed so that nobody else waits for it."""


_CLOSED: Final = object()


class Listener:
    def __init__(self, hub: PubSubHub, channel: str, size: int) -> None:
        self.hub = hub
        self.channel = channel
        self.queue: asyncio.Queue[Any] = asyncio.Queue(size)
        self.overflowed = False

    def offer(self, item: Any) -> None:
        if self.overflowed:
            return
        try:
            self.queue.put_nowait(item)
        except asyncio.QueueFull:
            self.overflowed = True
            self.hub._drop(self)
            with contextlib.suppress(asyncio.QueueEmpty):
                self.queue.get_nowait()  # make room for the end marker
            self.queue.put_nowait(_CLOSED)

    async def receive(self) -> dict[str, Any] | Gap | None:
        """The next message, a Gap, or None once the hub is closed; SlowListener once this
        listener has fallen behind."""
        item = await self.queue.get()
        if item is _CLOSED:
            self.queue.put_nowait(_CLOSED)  # every later call sees the end too
            if self.overflowed:
                raise SlowListener(f"the listener on {self.channel} fell behind")
            return None
        return item  # type: ignore[no-any-return]

    async def __aiter__(self) -> AsyncIterator[dict[str, Any] | Gap]:
        try:
            while (item := await self.receive()) is not None:
                yield item
        finally:
            self.close()

    def close(self) -> None:
        self.hub._drop(self)


class PubSubHub:
    def __init__(self, redis: Redis, *, queue_size: int = QUEUE_SIZE) -> None:
        self.redis = redis
        self.queue_size = queue_size
        self._listeners: dict[str, set[Listener]] = {}
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.connected = asyncio.Event()

    def listen(self, channel: str) -> Listener:
        listener = Listener(self, channel, self.queue_size)
        self._listeners.setdefault(channel, set()).add(listener)
        self._changed.set()
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="realtime-hub")
        return listener

    def _drop(self, listener: Listener) -> None:
        listeners = self._listeners.get(listener.channel)
        if listeners is not None:
            listeners.discard(listener)
            if not listeners:
                del self._listeners[listener.channel]
            self._changed.set()

    @property
    def channels(self) -> set[str]:
        return set(self._listeners)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        for listeners in list(self._listeners.values()):
            for listener in list(listeners):
                listener.queue.put_nowait(_CLOSED)
        self._listeners.clear()

    async def _run(self) -> None:
        delay = 0.1
        first = True
        while True:
            pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
            try:
                subscribed: set[str] = set()
                await pubsub.ping()
                if not first:  # a reconnection: whatever was published meanwhile is lost
                    for listeners in list(self._listeners.values()):
                        for listener in list(listeners):
                            listener.offer(Gap())
                first = False
                self.connected.set()
                delay = 0.1
                while True:
                    wanted = self.channels
                    if wanted - subscribed:
                        await pubsub.subscribe(*(wanted - subscribed))
                    if subscribed - wanted:
                        await pubsub.unsubscribe(*(subscribed - wanted))
                    subscribed = wanted
                    self._changed.clear()
                    message = await pubsub.get_message(timeout=POLL_SECONDS)
                    if message is not None and message.get("type") == "message":
                        self._deliver(message)
            except asyncio.CancelledError:
                raise
            except (RedisConnectionError, RedisTimeoutError, OSError) as error:
                self.connected.clear()
                log.warning("realtime hub lost Redis; reconnecting", extra={"error": repr(error)})
                await asyncio.sleep(delay)
                delay = min(RECONNECT_MAX_SECONDS, delay * 2)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]

    def _deliver(self, message: dict[str, Any]) -> None:
        channel = message["channel"]
        channel = channel.decode() if isinstance(channel, bytes) else str(channel)
        try:
            payload = json.loads(message["data"])
        except (TypeError, ValueError):
            return
        for listener in list(self._listeners.get(channel, ())):
            listener.offer(payload)


async def publish(redis: Redis, channel: str, payload: dict[str, Any]) -> None:
    """Publish after the change committed; a Redis outage loses only the live push."""
    await publish_all(redis, [(channel, payload)])


async def publish_all(redis: Redis, messages: Iterable[tuple[str, dict[str, Any]]]) -> None:
    """Publish many (channel, payload) messages in one round trip, in order."""
    pipeline = redis.pipeline(transaction=False)
    channels = []
    for channel, payload in messages:
        pipeline.publish(channel, json.dumps(payload, default=str))
        channels.append(channel)
    if not channels:
        return
    try:
        await pipeline.execute()
    except (RedisConnectionError, RedisTimeoutError, OSError) as error:
        log.warning(
            "realtime publish failed",
            extra={"channels": len(channels), "first": channels[0], "error": repr(error)},
        )
