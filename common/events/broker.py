"""RabbitMQ topology of domain events.

- `lms.events`: a durable topic exchange; routing key = event type.
- `<service>.events`: each consuming service's durable queue, bound to the types it handles.
- `<service>.retry.<delay>ms`: delay queues, one per retry step; a message waits there for
  its TTL, then dead-letters back into `<service>.events` (the delay is in the name, so a
  changed schedule declares new queues instead of clashing with the old ones).
- `<service>.dlq`: where a message lands after the last retry, with the reason in its
  headers, until `lms events dlq replay` sends it back.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable, Sequence
from typing import Final

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractExchange, AbstractQueue, AbstractRobustConnection

EXCHANGE: Final = "lms.events"
RETRY_DELAYS_MS: Final = (1_000, 5_000, 30_000, 120_000)  # then the dead-letter queue
ATTEMPTS_HEADER: Final = "x-lms-attempts"
ERROR_HEADER: Final = "x-lms-error"
CLOSE_TIMEOUT_SECONDS: Final = 2.0


def events_queue(service: str) -> str:
    return f"{service}.events"


def retry_queue(service: str, delay_ms: int) -> str:
    return f"{service}.retry.{delay_ms}ms"


def dead_letter_queue(service: str) -> str:
    return f"{service}.dlq"


async def connect(url: str) -> AbstractRobustConnection:
    """A connection that reconnects (and re-declares its queues and consumers) on its own."""
    return await aio_pika.connect_robust(url, reconnect_interval=1.0, fail_fast=False)


async def close(connection: AbstractRobustConnection) -> None:
    """Close without waiting on a broker that does not answer (a stop must be prompt)."""
    with contextlib.suppress(Exception):
        await asyncio.wait_for(asyncio.shield(connection.close()), CLOSE_TIMEOUT_SECONDS)


async def declare_exchange(channel: AbstractChannel) -> AbstractExchange:
    return await channel.declare_exchange(EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True)


async def declare_consumer_queues(
    channel: AbstractChannel,
    service: str,
    event_types: Iterable[str],
    delays_ms: Sequence[int] = RETRY_DELAYS_MS,
) -> AbstractQueue:
    exchange = await declare_exchange(channel)
    queue = await channel.declare_queue(events_queue(service), durable=True)
    for event_type in event_types:
        await queue.bind(exchange, routing_key=event_type)
    for delay in delays_ms:
        await channel.declare_queue(
            retry_queue(service, delay),
            durable=True,
            arguments={
                "x-message-ttl": delay,
                "x-dead-letter-exchange": "",
                "x-dead-letter-routing-key": events_queue(service),
            },
        )
    await channel.declare_queue(dead_letter_queue(service), durable=True)
    return queue
