"""The outbox relay: publishes a service's committed events to RabbitMQ, oldest first, with
publisher confirms, and marks them published.

It wakes on the outbox's NOTIFY (sent at commit) and polls as a fallback. Rows are claimed
with FOR UPDATE SKIP LOCKED, so several relays of one service share the work. A row is
marked published only after the broker confirmed it; if the broker is down the rows wait
and are published when it is back. A crash between confirm and mark publishes a row twice,
which consumers' inboxes absorb: delivery is at least once, effects exactly once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

import aio_pika
import asyncpg
from aio_pika.abc import AbstractExchange, AbstractRobustConnection
from opentelemetry.trace import SpanKind
from sqlalchemy import Table, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from common import clock
from common.cancellation import stop_if_cancelled
from common.events import broker
from common.events.outbox import NOTIFY_CHANNEL
from common.telemetry import tracing
from common.telemetry.metrics import RELAY_PUBLISHED

log = logging.getLogger(__name__)

BATCH = 500


class OutboxRelay:
    def __init__(
        self,
        service: str,
        sessions: async_sessionmaker[AsyncSession],
        outbox: Table,
        amqp_url: str,
        listen_dsn: str,
        *,
        poll_seconds: float = 1.0,
    ) -> None:
        self.service = service
        self.sessions = sessions
        self.outbox = outbox
        self.amqp_url = amqp_url
        self.listen_dsn = listen_dsn
        self.poll_seconds = poll_seconds
        self.published = 0
        self._wake = asyncio.Event()

    async def run(self) -> None:
        """Publish until cancelled, surviving broker and database outages."""
        listener = asyncio.create_task(self._listen(), name=f"{self.service}:outbox-listen")
        connection: AbstractRobustConnection | None = None
        try:
            while True:
                try:
                    if connection is None:
                        connection = await broker.connect(self.amqp_url)
                    channel = await connection.channel(publisher_confirms=True)
                    exchange = await broker.declare_exchange(channel)
                    while True:
                        while await self.publish_batch(exchange):
                            pass
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
                        self._wake.clear()
                except asyncio.CancelledError:
                    raise
                except Exception as error:  # broker or database away: wait and try again
                    stop_if_cancelled()
                    log.warning(
                        "outbox relay paused", extra={"service": self.service, "error": repr(error)}
                    )
                    await asyncio.sleep(1.0)
        finally:
            listener.cancel()
            await asyncio.gather(listener, return_exceptions=True)
            if connection is not None:
                await broker.close(connection)

    async def publish_batch(self, exchange: AbstractExchange) -> int:
        """Publish the oldest unpublished events; returns how many went out."""
        async with self.sessions.begin() as session:
            rows = (
                await session.execute(
                    select(self.outbox.c.id, self.outbox.c.type, self.outbox.c.envelope)
                    .where(self.outbox.c.published_at.is_(None))
                    .order_by(self.outbox.c.created_at)
                    .limit(BATCH)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if not rows:
                return 0
            await asyncio.gather(*(self._publish(exchange, row.type, row.envelope) for row in rows))
            await session.execute(
                update(self.outbox)
                .where(self.outbox.c.id.in_([row.id for row in rows]))
                .values(published_at=clock.now())
            )
        self.published += len(rows)
        RELAY_PUBLISHED.labels(self.service).inc(len(rows))
        return len(rows)

    async def _publish(self, exchange: AbstractExchange, event_type: str, envelope: Any) -> None:
        """One event; tracing on, in a span continuing the trace the envelope carries, whose
        context the message's headers carry to the consumer."""
        with tracing.span(
            f"publish {event_type}",
            {
                "messaging.system": "rabbitmq",
                "messaging.destination.name": event_type,
                "messaging.message.id": str(envelope["id"]),
            },
            kind=SpanKind.PRODUCER,
            parent=envelope.get("trace"),
        ):
            message = aio_pika.Message(
                json.dumps(envelope, separators=(",", ":")).encode(),
                content_type="application/json",
                message_id=str(envelope["id"]),
                type=event_type,
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                headers={"producer": self.service, **tracing.carrier()},
            )
            await exchange.publish(message, routing_key=event_type, mandatory=False)

    async def _listen(self) -> None:
        """Wake the relay on each NOTIFY; reconnect when the database goes away."""
        while True:
            connection = None
            try:
                connection = await asyncpg.connect(self.listen_dsn)
                lost = asyncio.Event()
                connection.add_termination_listener(lambda _, lost=lost: lost.set())
                await connection.add_listener(
                    NOTIFY_CHANNEL,
                    lambda *args: self._wake.set() if args[3] == self.outbox.schema else None,
                )
                self._wake.set()  # anything committed while we were not listening
                await lost.wait()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning("outbox listener reconnecting", extra={"error": repr(error)})
                await asyncio.sleep(1.0)
            finally:
                if connection is not None:
                    with contextlib.suppress(Exception):
                        await connection.close()
