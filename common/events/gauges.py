"""The events' gauges a query measures, for a worker's /metrics: the outbox backlog and the
age of its oldest unpublished row (`lms_outbox_backlog`, `lms_outbox_oldest_age_seconds`),
the messages ready in the service's queue (`lms_consumer_lag`) and in its dead-letter queue
(`lms_dlq_depth`). Measured every interval on connections of their own, each round bounded
by a timeout (ROUND_TIMEOUT), so the relay and the consumers never wait on them."""

from __future__ import annotations

import asyncio
import logging

import aio_pika
from aio_pika.abc import AbstractConnection
from sqlalchemy import Table, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from common.cancellation import stop_if_cancelled
from common.events import broker
from common.telemetry.metrics import CONSUMER_LAG, DLQ_DEPTH, OUTBOX_BACKLOG, OUTBOX_OLDEST_AGE

log = logging.getLogger(__name__)

ROUND_TIMEOUT = 5.0  # seconds one round of measures may take


async def measure_outbox(
    service: str, sessions: async_sessionmaker[AsyncSession], outbox: Table
) -> None:
    waiting = outbox.c.published_at.is_(None)
    age = func.extract("epoch", func.now() - func.min(outbox.c.created_at))
    async with sessions() as session:
        count, oldest = (
            await session.execute(select(func.count(), age).select_from(outbox).where(waiting))
        ).one()
    OUTBOX_BACKLOG.labels(service).set(count)
    OUTBOX_OLDEST_AGE.labels(service).set(max(float(oldest or 0), 0.0))


async def measure_queues(service: str, connection: AbstractConnection) -> None:
    """Messages ready in the service's queue and its dead-letter queue (declared by its
    consumer: a passive declaration only looks)."""
    async with connection.channel() as channel:
        for name, gauge in (
            (broker.events_queue(service), CONSUMER_LAG),
            (broker.dead_letter_queue(service), DLQ_DEPTH),
        ):
            queue = await channel.declare_queue(name, passive=True)
            gauge.labels(service, name).set(queue.declaration_result.message_count or 0)


async def refresh_event_gauges(
    service: str,
    sessions: async_sessionmaker[AsyncSession],
    outbox: Table,
    amqp_url: str | None,
    interval: float,
) -> None:
    """Measure every ``interval`` seconds until cancelled (the queues only with an
    ``amqp_url``: a service that consumes); a round that fails or takes longer than
    ROUND_TIMEOUT is logged and the next one tries again."""
    connection: AbstractConnection | None = None
    try:
        while True:
            try:
                async with asyncio.timeout(ROUND_TIMEOUT):
                    await measure_outbox(service, sessions, outbox)
                    if amqp_url is not None:
                        if connection is None or connection.is_closed:
                            connection = await aio_pika.connect(amqp_url)
                        await measure_queues(service, connection)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                stop_if_cancelled()
                log.warning(
                    "event gauges not measured", extra={"service": service, "error": repr(error)}
                )
            await asyncio.sleep(interval)
    finally:
        if connection is not None:
            await connection.close()
