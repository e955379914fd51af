"""Reliability of event delivery: the broker going away, a consumer dying between its effect
and its ack, a poison message. Each checks what users see (notifications through the
router) or what operators see (the dead-letter queue)."""

from __future__ import annotations

import asyncio
import uuid
from functools import partial
from typing import Any

import aio_pika
import pytest
from sqlalchemy import text

from common.db import create_engine, service_dsn
from common.events import broker
from common.events.consumer import ConsumerRunner
from common.events.dlq import list_dead_letters, replay_dead_letters
from common.events.envelope import Event
from common.graphql.app import service_runtime
from common.infra.rabbitmq import RabbitMQServer
from common.settings import Settings
from lms import services
from subgraphs.notifications.categories import Category
from subgraphs.notifications.models import EVENTS
from tests.accounts import Account, register
from tests.integration.events.test_flows import titles
from tests.support import GraphQLClient, eventually


async def welcomes(graph: GraphQLClient, account: Account) -> list[str]:
    return await titles(graph, account, "ACCOUNT")


async def unpublished_registrations(settings: Settings, accounts: list[Account]) -> int:
    """How many of these accounts' user.registered events wait in the users outbox."""
    engine = create_engine(service_dsn(settings, "users"), pool_size=1)
    try:
        async with engine.connect() as connection:
            waiting = await connection.execute(
                text(
                    "SELECT count(*) FROM users.outbox WHERE published_at IS NULL"
                    " AND type = 'user.registered' AND envelope->'data'->>'user_id' = ANY(:ids)"
                ),
                {"ids": [account.id for account in accounts]},
            )
            return int(waiting.scalar_one())
    finally:
        await engine.dispose()


async def test_broker_restart_loses_nothing_and_repeats_nothing(
    graph: GraphQLClient, rabbitmq: RabbitMQServer, migrated: Settings
) -> None:
    first = await register(graph, name="Before Outage")
    await eventually(partial(welcomes, graph, first))
    await asyncio.to_thread(rabbitmq.stop)
    try:
        # Committed while the broker is down: the events wait in the users outbox.
        during = [await register(graph, name=f"During Outage {i}") for i in range(3)]
        assert await unpublished_registrations(migrated, during) == len(during)
        for account in during:
            assert await welcomes(graph, account) == []
    finally:
        await asyncio.to_thread(rabbitmq.start)
    after = await register(graph, name="After Outage")
    for account in [*during, after]:
        welcome: Any = await eventually(partial(welcomes, graph, account), within=60)
        assert welcome == ["Welcome to LMS Platform"]
    # A duplicate would come from the relay publishing a row twice around the restart. Once
    # the outbox holds nothing unpublished, nothing more of these is sent; a later event,
    # published after them on the same queue and seen applied, marks that they were consumed.
    everyone = [first, *during, after]
    await eventually(partial(_all_published, migrated, everyone), within=30)
    sentinel = await register(graph, name="After Everyone")
    await eventually(partial(welcomes, graph, sentinel), within=30)
    for account in everyone:
        assert await welcomes(graph, account) == ["Welcome to LMS Platform"]


async def _all_published(settings: Settings, accounts: list[Account]) -> bool:
    return await unpublished_registrations(settings, accounts) == 0


class Crash(Exception):
    """Stands for the process dying between the commit and the ack."""


async def test_a_consumer_dying_before_its_ack_applies_the_event_once(
    graph: GraphQLClient, migrated: Settings
) -> None:
    """A second consumer group ("crashtest") turns user.registered into a REMINDER. Its
    first incarnation commits and dies before acking; the redelivery reaches its
    successor, whose inbox recognises the event: one reminder, not two."""
    spec = services.spec("notifications")
    name = f"crashtest-{uuid.uuid4().hex[:6]}"
    applied: list[Event] = []

    async with service_runtime(spec, migrated, role=name) as runtime:
        service = spec.service(runtime).notifications

        async def remind(session: Any, event: Event) -> None:
            await service.notify(
                [uuid.UUID(event.data["user_id"])],
                Category.REMINDER,
                {"title": "Crash test", "message": str(event.id)},
                session=session,
                skip_missing=True,
            )

        async def die(event: Event) -> None:
            applied.append(event)
            raise Crash

        def runner(after_commit: Any = None) -> ConsumerRunner:
            return ConsumerRunner(
                name,
                runtime.sessions,
                EVENTS.inbox,
                {"user.registered": remind},
                migrated.amqp_url,
                after_commit=after_commit,
            )

        doomed = runner(die)
        first = asyncio.create_task(doomed.run())
        await asyncio.wait_for(doomed.ready.wait(), 30)
        learner = await register(graph, name="Crash Carl")
        await eventually(lambda: applied)
        first.cancel()  # the connection closes with the message unacknowledged
        await asyncio.gather(first, return_exceptions=True)
        successor = runner()
        second = asyncio.create_task(successor.run())
        try:
            await eventually(lambda: successor.stats.duplicates >= 1)
            assert successor.stats.applied == 0
            assert await titles(graph, learner, "REMINDER") == ["Crash test"]
        finally:
            second.cancel()
            await asyncio.gather(second, return_exceptions=True)
            await _delete_queues(migrated, name)


async def _delete_queues(settings: Settings, service: str) -> None:
    connection = await aio_pika.connect(settings.amqp_url)
    async with connection:
        channel = await connection.channel()
        for queue in (
            broker.events_queue(service),
            broker.dead_letter_queue(service),
            *(broker.retry_queue(service, d) for d in broker.RETRY_DELAYS_MS),
        ):
            await channel.queue_delete(queue)


async def publish(settings: Settings, routing_key: str, body: bytes) -> None:
    connection = await aio_pika.connect(settings.amqp_url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await broker.declare_exchange(channel)
        await exchange.publish(
            aio_pika.Message(body, message_id=str(uuid.uuid4())), routing_key=routing_key
        )


@pytest.mark.parametrize("kind", ["malformed", "failing handler"])
async def test_a_poison_message_goes_to_the_dead_letter_queue_without_blocking_others(
    graph: GraphQLClient, migrated: Settings, kind: str
) -> None:
    before = len(await list_dead_letters(migrated.amqp_url, "notifications", limit=1000))
    if kind == "malformed":
        await publish(migrated, "course.published", b'{"type": "course.published", "oops": 1}')
    else:
        # A valid event whose handler fails every time: the course does not exist, so its
        # roster cannot be read. Retried 3 times (100, 200, 400 ms), then dead-lettered.
        ghost = Event(
            "course.published", {"course_id": str(uuid.uuid4()), "title": "Ghost"}, "courses"
        )
        await publish(migrated, "course.published", ghost.to_json())
    # The queue keeps flowing meanwhile.
    learner = await register(graph, name=f"Unblocked {kind}")
    await eventually(lambda: welcomes(graph, learner))

    async def dead_lettered() -> bool:
        letters = await list_dead_letters(migrated.amqp_url, "notifications", limit=1000)
        return len(letters) > before

    await eventually(dead_lettered, within=20)
    letters = await list_dead_letters(migrated.amqp_url, "notifications", limit=1000)
    newest = letters[-1]
    if kind == "malformed":
        assert "invalid event" in newest.error
    else:
        assert newest.attempts == 3
        assert "PeerUnavailable" in newest.error
        # Replaying sends it back; it fails the same way and returns to the queue.
        assert await replay_dead_letters(migrated.amqp_url, "notifications") >= 1
        await eventually(dead_lettered, within=20)
