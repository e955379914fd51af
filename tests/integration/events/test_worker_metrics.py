"""A worker (`lms worker NAME`, here in this process) serves /metrics on
`LMS_WORKER_METRICS_PORT`: its outbox backlog and the age of its oldest unpublished row, the
messages waiting in its queue and its dead-letter queue, its retries, the relay's publishes."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import AsyncIterator
from functools import partial

import httpx
import orjson
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from common.db import create_engine, service_dsn
from common.events import broker
from common.events.envelope import Event
from common.events.worker import run_worker
from common.infra.ports import free_port
from common.settings import Settings
from lms import services
from tests.accounts import register
from tests.integration.events.test_reliability import publish
from tests.support import GraphQLClient, eventually, metric, samples

SERVICE = "notifications"
QUEUE = broker.events_queue(SERVICE)
DLQ = broker.dead_letter_queue(SERVICE)
HELD_FOR = 600  # seconds: the age the held outbox row was written with


@pytest.fixture
async def worker_metrics(migrated: Settings) -> AsyncIterator[str]:
    """The URL of the /metrics of a notifications worker measuring every 100 ms."""
    port = free_port()
    settings = dataclasses.replace(
        migrated, worker_metrics_port=port, worker_metrics_interval_ms=100
    )
    worker = asyncio.create_task(run_worker(services.spec(SERVICE), settings))
    url = f"http://{settings.host}:{port}/metrics"
    try:
        await eventually(partial(_measured, url))
        yield url
    finally:
        worker.cancel()
        await asyncio.gather(worker, return_exceptions=True)


async def _measured(url: str) -> bool:
    """Whether the worker serves its queues' gauges (measured once at least)."""
    async with httpx.AsyncClient() as http:
        try:
            return bool(await samples(http, url, "lms_dlq_depth", service=SERVICE, queue=DLQ))
        except httpx.TransportError:  # not serving yet
            return False


async def _sample(url: str, name: str, **labels: str) -> float:
    async with httpx.AsyncClient() as http:
        return await metric(http, url, name, **labels)


async def _hold_an_old_row(connection: AsyncConnection) -> uuid.UUID:
    """An unpublished outbox row written HELD_FOR seconds ago, committed, then locked by
    this connection's open transaction: relays skip a locked row, so it stays unpublished.
    (Should a relay claim it between commit and lock, another is written.)"""
    while True:
        probe = uuid.uuid4()  # a type no queue is bound to, should a relay publish it
        await connection.execute(
            text(
                "INSERT INTO notifications.outbox (id, type, envelope, created_at)"
                " VALUES (:id, 'metrics.probe', CAST(:envelope AS jsonb),"
                " now() - make_interval(secs => :age))"
            ),
            {"id": probe, "envelope": orjson.dumps({"id": str(probe)}).decode(), "age": HELD_FOR},
        )
        await connection.commit()
        held = await connection.execute(
            text(
                "SELECT id FROM notifications.outbox WHERE id = :id AND published_at IS NULL"
                " FOR UPDATE SKIP LOCKED"
            ),
            {"id": probe},
        )
        if held.first() is not None:
            return probe
        await connection.rollback()


async def test_a_waiting_outbox_row_shows_in_the_backlog_and_its_age(
    worker_metrics: str, migrated: Settings
) -> None:
    engine = create_engine(service_dsn(migrated, SERVICE), pool_size=1)
    try:
        async with engine.connect() as connection:
            held = await _hold_an_old_row(connection)

            async def waiting() -> bool:
                backlog = await _sample(worker_metrics, "lms_outbox_backlog", service=SERVICE)
                age = await _sample(
                    worker_metrics, "lms_outbox_oldest_age_seconds", service=SERVICE
                )
                return backlog >= 1 and age >= HELD_FOR

            await eventually(waiting)
            await connection.execute(
                text("DELETE FROM notifications.outbox WHERE id = :id"), {"id": held}
            )
            await connection.commit()

        async def gone() -> bool:
            age = await _sample(worker_metrics, "lms_outbox_oldest_age_seconds", service=SERVICE)
            return age < HELD_FOR

        await eventually(gone)
    finally:
        await engine.dispose()


async def test_poison_messages_show_in_retries_and_the_dead_letter_queue(
    worker_metrics: str, migrated: Settings
) -> None:
    labels = {"service": SERVICE, "queue": DLQ}
    depth = await _sample(worker_metrics, "lms_dlq_depth", **labels)
    await publish(migrated, "course.published", b'{"type": "course.published", "oops": 1}')

    async def deeper() -> bool:
        return await _sample(worker_metrics, "lms_dlq_depth", **labels) > depth

    await eventually(deeper, within=20)

    retries = await _sample(worker_metrics, "lms_consumer_retries_total", service=SERVICE)
    # a valid event whose handler fails every time (no such course): retried, then dead
    ghost = Event("course.published", {"course_id": str(uuid.uuid4()), "title": "Ghost"}, "courses")
    await publish(migrated, "course.published", ghost.to_json())

    async def retried() -> bool:
        count = await _sample(
            worker_metrics, "lms_consumer_retries_total", service=SERVICE, queue=QUEUE
        )
        return count > retries

    await eventually(retried, within=20)


async def test_the_relay_counts_what_it_publishes(
    worker_metrics: str, graph: GraphQLClient
) -> None:
    published = await _sample(worker_metrics, "lms_relay_published_total", service="users")
    await register(graph, name="Published Pat")

    async def counted() -> bool:
        now = await _sample(worker_metrics, "lms_relay_published_total", service="users")
        return now > published

    await eventually(counted)
