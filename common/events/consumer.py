"""Consuming domain events: a durable queue per service, manual acks, an inbox for
exactly-once effects, retries through delay queues, then the dead-letter queue.

For each delivery, in one transaction: insert (event id, consumer) into the inbox; if it
was there already the event was applied before (a redelivery) and is only acknowledged;
otherwise the handler applies its effect in the same transaction. Deliveries that arrive
within a few milliseconds of each other share that transaction (up to 100); if any of them
fails, the batch is rolled back and each is applied on its own. The ack comes after the
commit: a consumer that dies in between gets the message again and the inbox absorbs it.
A handler that fails leaves nothing behind (the transaction rolls back); the message is
re-published to the next delay queue (attempt count in a header) and acknowledged, and
after the last delay it goes to `<service>.dlq` with the error. An event that does not
parse, or has no handler, goes straight to the dead-letter queue: retrying cannot help.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractRobustConnection
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind
from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from common.cancellation import stop_if_cancelled
from common.events import broker
from common.events.envelope import Event, InvalidEvent
from common.telemetry.metrics import CONSUMER_RETRIES

log = logging.getLogger(__name__)

Handler = Callable[[AsyncSession, Event], Awaitable[None]]

TRACER = trace.get_tracer("lms.events")
# Handlers may leave coroutines to run once their transaction has committed (for example a
# live push): a list of zero-argument async callables in session.info[AFTER_COMMIT].
AFTER_COMMIT = "lms.after_commit"
MAX_BATCH = 100
BATCH_WINDOW_SECONDS = 0.005


@dataclass
class ConsumerStats:
    applied: int = 0
    duplicates: int = 0
    retried: int = 0
    dead_lettered: int = 0
    applied_at: dict[str, float] = field(default_factory=dict)  # event id -> loop time


class ConsumerRunner:
    def __init__(
        self,
        service: str,
        sessions: async_sessionmaker[AsyncSession],
        inbox: Table,
        handlers: Mapping[str, Handler],
        amqp_url: str,
        *,
        prefetch: int = 32,
        retry_delays_ms: Sequence[int] = broker.RETRY_DELAYS_MS,
        after_commit: Callable[[Event], Awaitable[None]] | None = None,
    ) -> None:
        self.service = service
        self.sessions = sessions
        self.inbox = inbox
        self.handlers = dict(handlers)
        self.amqp_url = amqp_url
        self.prefetch = prefetch
        self.retry_delays_ms = tuple(retry_delays_ms)
        self.after_commit = after_commit  # a test hook: runs between commit and ack
        self.stats = ConsumerStats()
        self.ready = asyncio.Event()

    async def run(self) -> None:
        """Consume until cancelled; the robust connection rides out broker restarts."""
        connection: AbstractRobustConnection | None = None
        try:
            while connection is None:
                try:
                    connection = await broker.connect(self.amqp_url)
                except Exception as error:
                    stop_if_cancelled()
                    log.warning("consumer waiting for the broker", extra={"error": repr(error)})
                    await asyncio.sleep(1.0)
            channel = await connection.channel()
            await channel.set_qos(prefetch_count=self.prefetch)
            queue = await broker.declare_consumer_queues(
                channel, self.service, self.handlers, self.retry_delays_ms
            )

            pending: asyncio.Queue[tuple[AbstractIncomingMessage, Event, Handler]]
            pending = asyncio.Queue()

            async def on_message(message: AbstractIncomingMessage) -> None:
                parsed = await self._parse(channel, message)
                if parsed is not None:
                    await pending.put((message, *parsed))

            batches = asyncio.create_task(self._batches(channel, pending))
            await queue.consume(on_message)
            self.ready.set()
            await batches  # until cancelled (or a crash, which the test hook simulates)
        finally:
            if connection is not None:
                await broker.close(connection)

    async def _parse(
        self, channel: AbstractChannel, message: AbstractIncomingMessage
    ) -> tuple[Event, Handler] | None:
        """The event and its handler; a message that can never succeed is dead-lettered."""
        try:
            event = Event.from_json(message.body)
        except InvalidEvent as error:
            await self._dead_letter(channel, message, f"invalid event: {error}")
            return None
        handler = self.handlers.get(event.type)
        if handler is None:
            await self._dead_letter(channel, message, f"no handler for {event.type}")
            return None
        published = _trace_context(message)
        if published:  # the relay's publish span: the handler's span is its child
            event = dataclasses.replace(event, trace=published)
        return event, handler

    async def _batches(
        self,
        channel: AbstractChannel,
        pending: asyncio.Queue[tuple[AbstractIncomingMessage, Event, Handler]],
    ) -> None:
        """Apply deliveries in small batches, one transaction each: what arrives together
        commits together. A batch that fails is applied again one event at a time, so a
        poison event only retries itself."""
        while True:
            batch = [await pending.get()]
            deadline = asyncio.get_running_loop().time() + BATCH_WINDOW_SECONDS
            while len(batch) < MAX_BATCH:
                remaining = deadline - asyncio.get_running_loop().time()
                if remaining <= 0:
                    break
                try:
                    batch.append(await asyncio.wait_for(pending.get(), remaining))
                except TimeoutError:
                    break
            try:
                applied = await self._apply_all([(event, handler) for _, event, handler in batch])
            except Exception:
                stop_if_cancelled()
                for message, event, handler in batch:
                    await self._one(channel, message, event, handler)
                continue
            for (message, event, _), new in zip(batch, applied, strict=True):
                if new and self.after_commit is not None:
                    await self.after_commit(event)  # may raise: a crash before the ack
                await message.ack()

    async def _one(
        self,
        channel: AbstractChannel,
        message: AbstractIncomingMessage,
        event: Event,
        handler: Handler,
    ) -> None:
        try:
            [new] = await self._apply_all([(event, handler)])
        except Exception as error:
            stop_if_cancelled()
            await self._retry(channel, message, event, error)
            return
        if new and self.after_commit is not None:
            await self.after_commit(event)
        await message.ack()

    async def _apply_all(self, items: list[tuple[Event, Handler]]) -> list[bool]:
        """In one transaction: record each event in the inbox and, for those not seen
        before, apply its handler. Returns which ones were new."""
        async with self.sessions.begin() as session:
            committed = session.info.setdefault(AFTER_COMMIT, [])
            inserted = await session.execute(
                insert(self.inbox)
                .values(
                    [
                        {"event_id": event.id, "consumer": self.service, "event_type": event.type}
                        for event, _ in items
                    ]
                )
                .on_conflict_do_nothing()
                .returning(self.inbox.c.event_id)
            )
            new = {row.event_id for row in inserted}
            seen: set[uuid.UUID] = set()
            flags = []
            for event, handler in items:
                first = event.id in new and event.id not in seen  # a batch may repeat one
                seen.add(event.id)
                flags.append(first)
                if first:
                    # The handler's span continues the producer's trace.
                    with TRACER.start_as_current_span(
                        f"handle {event.type}",
                        context=propagate.extract(event.trace),
                        kind=SpanKind.CONSUMER,
                        attributes={
                            "messaging.system": "rabbitmq",
                            "messaging.message.id": str(event.id),
                            "messaging.consumer.group.name": self.service,
                        },
                    ):
                        await handler(session, event)
        for callback in committed:
            try:
                await callback()
            except Exception:  # the effect is committed; a lost push is only logged
                log.exception("after-commit callback failed", extra={"event_id": str(event.id)})
        now = asyncio.get_running_loop().time()
        for event, flag in zip((event for event, _ in items), flags, strict=True):
            if flag:
                self.stats.applied += 1
                self.stats.applied_at[str(event.id)] = now
            else:
                self.stats.duplicates += 1
        return flags

    def _attempts(self, message: AbstractIncomingMessage) -> int:
        value: Any = (message.headers or {}).get(broker.ATTEMPTS_HEADER, 0)
        return int(value) if isinstance(value, int | str) and str(value).isdigit() else 0

    async def _retry(
        self,
        channel: AbstractChannel,
        message: AbstractIncomingMessage,
        event: Event,
        error: Exception,
    ) -> None:
        attempt = self._attempts(message)
        reason = f"{type(error).__name__}: {error}"[:1000]
        if attempt >= len(self.retry_delays_ms):
            await self._dead_letter(channel, message, reason)
            return
        log.warning(
            "event handler failed; will retry",
            extra={"service": self.service, "event_id": str(event.id), "attempt": attempt + 1},
        )
        delay = self.retry_delays_ms[attempt]
        await self._republish(
            channel, message, broker.retry_queue(self.service, delay), attempt + 1, reason
        )
        self.stats.retried += 1
        CONSUMER_RETRIES.labels(self.service, broker.events_queue(self.service)).inc()
        await message.ack()

    async def _dead_letter(
        self, channel: AbstractChannel, message: AbstractIncomingMessage, reason: str
    ) -> None:
        log.error(
            "event dead-lettered",
            extra={"service": self.service, "message_id": message.message_id, "reason": reason},
        )
        await self._republish(
            channel,
            message,
            broker.dead_letter_queue(self.service),
            self._attempts(message),
            reason,
        )
        self.stats.dead_lettered += 1
        await message.ack()

    async def _republish(
        self,
        channel: AbstractChannel,
        message: AbstractIncomingMessage,
        queue: str,
        attempts: int,
        reason: str,
    ) -> None:
        headers = {
            **(message.headers or {}),
            broker.ATTEMPTS_HEADER: attempts,
            broker.ERROR_HEADER: reason,
        }
        await channel.default_exchange.publish(
            aio_pika.Message(
                message.body,
                content_type=message.content_type,
                message_id=message.message_id,
                type=message.type,
                headers=headers,
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            ),
            routing_key=queue,
        )


def _trace_context(message: AbstractIncomingMessage) -> dict[str, str]:
    """The W3C trace context in the message's headers (the relay's publish span), if any."""
    headers = message.headers or {}
    return {
        name: value
        for name in ("traceparent", "tracestate")
        if isinstance(value := headers.get(name), str)
    }
