"""Redis pub/sub fanned out inside a process: one Redis connection, any number of listeners.

A process subscribes to a Redis channel once, however many local listeners want it, and
hands each message to every listener's bounded queue. A listener that falls behind (its
queue full) is closed with the reason, without slowing the others. When Redis goes away
the hub reconnects with backoff, subscribes again, and tells every listener that messages
may have been missed (a `Gap`), so a client can catch up with a query.

Many messages published at once (a notification to a thousand users) can travel as one: a
hub given a `batches` channel also subscribes to it, and hands each (channel, payload) of a
batch published there to that channel's listeners, as if it had come on its own channel.
A thousand PUBLISH commands cost the publisher ~30 ms of CPU in redis-py and each listening
process ~50 ms to read back one by one; one batch costs both a few milliseconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import Any, Final

import orjson
from opentelemetry.trace import SpanKind
from redis.asyncio import ConnectionPool, Redis
from redis.asyncio.client import Pipeline, PubSub
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from common.telemetry import tracing

log = logging.getLogger(__name__)

QUEUE_SIZE: Final = 100
TRACE_KEY: Final = "trace"  # the publisher's trace context, in a message
# How long the hub waits for a message before it looks for channels to (un)subscribe: the
# delay before a new listener's channel is live.
POLL_SECONDS: Final = 0.05
RECONNECT_MAX_SECONDS: Final = 5.0
# Messages per batch: a batch is one Redis message, held whole in Redis's output buffer of
# each subscriber (32 MB at most by default); a notification's message is under 1 KiB.
BATCH_SIZE: Final = 1000


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
        self.subscribed = asyncio.Event()  # set once Redis has the channel's SUBSCRIBE

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


def _single_attempt(redis: Redis) -> Redis:
    """A client like `redis` on its own pool, without retries: a client that retries would
    reconnect and resubscribe silently, and the hub must see the break to report a Gap."""
    pool = redis.connection_pool
    kwargs = {**pool.connection_kwargs, "retry": Retry(NoBackoff(), 0)}
    return Redis(connection_pool=ConnectionPool(connection_class=pool.connection_class, **kwargs))


class PubSubHub:
    def __init__(
        self, redis: Redis, *, queue_size: int = QUEUE_SIZE, batches: str | None = None
    ) -> None:
        self.redis = _single_attempt(redis)
        self.queue_size = queue_size
        self.batches = batches  # the channel of batches (`publish_all(batches=...)`)
        self._listeners: dict[str, set[Listener]] = {}
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._subscribed: set[str] = set()  # channels subscribed on the live connection
        self.connected = asyncio.Event()

    def listen(self, channel: str) -> Listener:
        listener = Listener(self, channel, self.queue_size)
        self._listeners.setdefault(channel, set()).add(listener)
        if channel in self._subscribed:
            listener.subscribed.set()
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
        await self.redis.aclose(close_connection_pool=True)

    async def _run(self) -> None:
        delay = 0.1
        first = True
        while True:
            pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
            try:
                self._subscribed = set()
                await pubsub.ping()
                if not first:  # a reconnection: whatever was published meanwhile is lost
                    for listeners in list(self._listeners.values()):
                        for listener in list(listeners):
                            listener.offer(Gap())
                first = False
                self.connected.set()
                delay = 0.1
                self._changed.set()
                while True:
                    if self._changed.is_set():
                        self._changed.clear()
                        await self._resubscribe(pubsub)
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

    async def _resubscribe(self, pubsub: PubSub) -> None:
        """Bring the connection's subscriptions in line with the listeners' channels (and the
        batches' channel while there is any: subscribed in the same command as the first
        listener's channel, so a listener's `subscribed` covers both)."""
        wanted = self.channels
        if wanted and self.batches is not None:
            wanted.add(self.batches)
        added, removed = wanted - self._subscribed, self._subscribed - wanted
        if added:
            await pubsub.subscribe(*added)
        if removed:
            await pubsub.unsubscribe(*removed)
        self._subscribed = (self._subscribed | added) - removed
        for channel in added:
            for listener in self._listeners.get(channel, ()):
                listener.subscribed.set()

    def _deliver(self, message: dict[str, Any]) -> None:
        channel = message["channel"]
        channel = channel.decode() if isinstance(channel, bytes) else str(channel)
        payload = _decoded(message["data"])
        if channel != self.batches:
            if isinstance(payload, dict):
                self._offer(channel, payload)
            return
        for item in payload if isinstance(payload, list) else ():
            if (
                isinstance(item, list)
                and len(item) == 2
                and isinstance(item[0], str)
                and isinstance(item[1], dict)
            ):
                self._offer(item[0], item[1])

    def _offer(self, channel: str, payload: dict[str, Any]) -> None:
        for listener in list(self._listeners.get(channel, ())):
            listener.offer(payload)


def _decoded(data: Any) -> Any:
    """A message's JSON (None when it is not JSON): orjson, or the json module for what
    only it reads (NaN, which `json.dumps` writes)."""
    try:
        return orjson.loads(data)
    except (TypeError, ValueError):
        try:
            return json.loads(data)
        except (TypeError, ValueError):
            return None


_AS_JSON_WRITES: Final = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def _encoded(value: Any) -> bytes:
    """orjson, writing what `json.dumps(value, default=str)` would (datetimes and dataclasses
    by `str`); the json module for what orjson refuses (integers past 64 bits, keys that are
    not strings)."""
    try:
        return orjson.dumps(value, default=str, option=_AS_JSON_WRITES)
    except TypeError:
        return json.dumps(value, default=str).encode()


async def publish(redis: Redis, channel: str, payload: dict[str, Any]) -> None:
    """Publish after the change committed; a Redis outage loses only the live push."""
    await publish_all(redis, [(channel, payload)])


async def publish_all(
    redis: Redis, messages: Iterable[tuple[str, dict[str, Any]]], *, batches: str | None = None
) -> None:
    """Publish many (channel, payload) messages in one round trip, in order; tracing on,
    each carries the trace context under `trace` (a listener's span continues it). With
    `batches`, more than one message go as batches on that channel, read by hubs made with
    the same `batches` (one Redis message per BATCH_SIZE, not one per payload)."""
    with tracing.span("redis publish", {"db.system.name": "redis"}, kind=SpanKind.PRODUCER):
        context = tracing.carrier() if tracing.active() else {}
        items = [
            (channel, {**payload, TRACE_KEY: context} if context else payload)
            for channel, payload in messages
        ]
        if not items:
            return
        pipeline = redis.pipeline(transaction=False)
        if batches is None or len(items) == 1:
            for channel, message in items:
                pipeline.publish(channel, _encoded(message))
        else:
            for start in range(0, len(items), BATCH_SIZE):
                pipeline.publish(batches, _encoded(items[start : start + BATCH_SIZE]))
        await _execute(pipeline, [channel for channel, _ in items])


async def _execute(pipeline: Pipeline, channels: list[str]) -> None:
    try:
        await pipeline.execute()
    except (RedisConnectionError, RedisTimeoutError, OSError) as error:
        log.warning(
            "realtime publish failed",
            extra={"channels": len(channels), "first": channels[0], "error": repr(error)},
        )
