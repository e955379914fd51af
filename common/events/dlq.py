"""Looking into a service's dead-letter queue, and sending its messages back for another try."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aio_pika

from common.events import broker

MAX_MESSAGES = 10_000  # bounds a listing or a replay


@dataclass(frozen=True, slots=True)
class DeadLetter:
    message_id: str | None
    event_type: str | None
    attempts: int
    error: str
    body: bytes


async def list_dead_letters(amqp_url: str, service: str, limit: int = 100) -> list[DeadLetter]:
    """The oldest `limit` dead letters; they stay in the queue."""
    connection = await aio_pika.connect(amqp_url)
    try:
        channel = await connection.channel()
        queue = await channel.declare_queue(broker.dead_letter_queue(service), durable=True)
        held: list[Any] = []
        letters = []
        for _ in range(min(limit, MAX_MESSAGES)):
            message = await queue.get(fail=False, no_ack=False)
            if message is None:
                break
            held.append(message)
            headers = message.headers or {}
            letters.append(
                DeadLetter(
                    message.message_id,
                    message.type,
                    int(str(headers.get(broker.ATTEMPTS_HEADER, 0))),
                    str(headers.get(broker.ERROR_HEADER, "")),
                    message.body,
                )
            )
        for message in held:
            await message.nack(requeue=True)
        return letters
    finally:
        await connection.close()


async def replay_dead_letters(amqp_url: str, service: str) -> int:
    """Move every dead letter back to the service's queue with its attempts reset."""
    connection = await aio_pika.connect(amqp_url)
    replayed = 0
    try:
        channel = await connection.channel(publisher_confirms=True)
        queue = await channel.declare_queue(broker.dead_letter_queue(service), durable=True)
        for _ in range(MAX_MESSAGES):
            message = await queue.get(fail=False, no_ack=False)
            if message is None:
                break
            headers = {
                k: v
                for k, v in (message.headers or {}).items()
                if k not in (broker.ATTEMPTS_HEADER, broker.ERROR_HEADER)
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
                routing_key=broker.events_queue(service),
            )
            await message.ack()
            replayed += 1
        return replayed
    finally:
        await connection.close()
