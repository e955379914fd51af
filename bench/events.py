"""Events per second from outbox to consumer, and commit-to-effect latency, against a
baseline measured in the same run: the same messages published and consumed directly over
RabbitMQ, without the outbox, the relay or the inbox.

Starts PostgreSQL and RabbitMQ from the local binaries in a temporary folder and migrates
the users subgraph (for its outbox and inbox). Producers commit events one per transaction
(as a mutation does) into the outbox; the relay publishes them with publisher confirms; a
consumer applies each in a transaction with its inbox row and acks; relay and consumer run
in their own process, as `lms worker` runs them. Latency is measured from each event's
creation (just before its commit) to the commit of its effect.

Two runs: the pipeline's throughput, draining an outbox that already holds the events (the
rate at which a backlog clears, e.g. after a broker outage), and the latency at a steady
production rate (`--rate`, one event per transaction, as mutations commit them).

Usage: .venv/bin/python bench/events.py [--events 5000] [--producers 20] [--rate 400]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import aio_pika

from common.db import create_engine, migrations, service_dsn, session_factory
from common.db.provisioning import provision
from common.events.consumer import ConsumerRunner
from common.events.envelope import Event
from common.events.outbox import emit
from common.events.relay import OutboxRelay
from common.events.worker import listen_dsn
from common.infra.ports import free_port
from common.infra.postgres import PostgresServer
from common.infra.rabbitmq import RabbitMQServer
from common.settings import Settings
from subgraphs.users.models import EVENTS


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _write(path: str, text: str) -> None:
    Path(path).write_text(text)


def _worker_process(count: int, results: str, ready: str) -> None:
    """The relay and the consumer, in their own process as `lms worker` runs them."""
    settings = Settings.from_env()

    async def run() -> None:
        engine = create_engine(service_dsn(settings, "users"), pool_size=20)
        sessions = session_factory(engine)
        latencies: list[float] = []
        finished = asyncio.Event()

        async def applied(event: Event) -> None:
            latencies.append(time.time() - event.occurred_at.timestamp())
            if len(latencies) >= count:
                finished.set()

        async def nothing(session: object, event: Event) -> None:
            return None

        relay = OutboxRelay(
            "users", sessions, EVENTS.outbox, settings.amqp_url, listen_dsn(settings, "users")
        )
        consumer = ConsumerRunner(
            "bench",
            sessions,
            EVENTS.inbox,
            {"user.registered": nothing},
            settings.amqp_url,
            prefetch=200,
            after_commit=applied,
        )
        tasks = [asyncio.create_task(relay.run()), asyncio.create_task(consumer.run())]
        await asyncio.wait_for(consumer.ready.wait(), 60)
        started = time.time()
        _write(ready, "")
        await asyncio.wait_for(finished.wait(), 600)
        outcome = {"latencies": latencies, "started": started, "finished": time.time()}
        _write(results, json.dumps(outcome))
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await engine.dispose()

    asyncio.run(run())


def _event() -> Event:
    return Event(
        "user.registered", {"user_id": str(uuid.uuid4()), "name": "Bench", "locale": "en"}, "users"
    )


def through_outbox(
    settings: Settings, count: int, producers: int, rate: float, folder: Path, backlog: bool
) -> dict[str, float]:
    """backlog: the outbox holds `count` events before the worker starts (throughput of the
    pipeline); otherwise producers commit one event per transaction at `rate` events/s
    while it runs (latency from commit to effect)."""
    results, ready = folder / f"results-{backlog}.json", folder / f"ready-{backlog}"
    engine_url = service_dsn(settings, "users")

    async def fill() -> None:
        engine = create_engine(engine_url, pool_size=2)
        sessions = session_factory(engine)
        for start in range(0, count, 500):
            async with sessions.begin() as session:
                await emit(
                    session, EVENTS.outbox, *(_event() for _ in range(min(500, count - start)))
                )
        await engine.dispose()

    if backlog:
        asyncio.run(fill())
    worker = multiprocessing.get_context("spawn").Process(
        target=_worker_process, args=(count, str(results), str(ready))
    )
    worker.start()
    for _ in range(600):
        if ready.exists():
            break
        time.sleep(0.1)

    async def produce_paced() -> None:
        engine = create_engine(engine_url, pool_size=producers)
        sessions = session_factory(engine)
        interval = producers / rate

        async def produce(share: int) -> None:
            for _ in range(share):
                began = time.perf_counter()
                async with sessions.begin() as session:
                    await emit(session, EVENTS.outbox, _event())
                await asyncio.sleep(max(0.0, interval - (time.perf_counter() - began)))

        await asyncio.gather(*(produce(count // producers) for _ in range(producers)))
        await engine.dispose()

    if not backlog:
        asyncio.run(produce_paced())
    worker.join(600)
    outcome = json.loads(results.read_text())
    latencies: list[float] = outcome["latencies"]
    return {
        "events_per_second": count / (outcome["finished"] - outcome["started"]),
        "p50_ms": _percentile(latencies, 0.5) * 1000,
        "p99_ms": _percentile(latencies, 0.99) * 1000,
    }


async def direct(settings: Settings, count: int, producers: int) -> dict[str, float]:
    """The baseline: publish with confirms and consume with acks, nothing else."""
    connection = await aio_pika.connect(settings.amqp_url)
    latencies: list[float] = []
    finished = asyncio.Event()
    async with connection:
        consuming = await connection.channel()
        await consuming.set_qos(prefetch_count=200)
        queue = await consuming.declare_queue("bench.direct", durable=True)

        async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            sent = float(message.headers["sent"])  # type: ignore[arg-type]
            latencies.append(time.perf_counter() - sent)
            await message.ack()
            if len(latencies) >= count:
                finished.set()

        await queue.consume(on_message)
        publishing = await connection.channel(publisher_confirms=True)

        async def produce(share: int) -> None:
            for _ in range(share):
                body = Event(
                    "user.registered",
                    {"user_id": str(uuid.uuid4()), "name": "Bench", "locale": "en"},
                    "users",
                ).to_json()
                await publishing.default_exchange.publish(
                    aio_pika.Message(
                        body,
                        headers={"sent": str(time.perf_counter())},
                        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                    ),
                    routing_key="bench.direct",
                )

        started = time.perf_counter()
        await asyncio.gather(*(produce(count // producers) for _ in range(producers)))
        await asyncio.wait_for(finished.wait(), 300)
        elapsed = time.perf_counter() - started
    return {
        "events_per_second": count / elapsed,
        "p50_ms": _percentile(latencies, 0.5) * 1000,
        "p99_ms": _percentile(latencies, 0.99) * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--producers", type=int, default=20)
    parser.add_argument("--rate", type=float, default=400.0, help="events/s in the latency run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lms-bench-events-") as folder:
        state = Path(folder)
        postgres = PostgresServer(state / "pg", free_port(), password="bench-admin")
        rabbit = RabbitMQServer(state / "rabbitmq", free_port())
        with postgres, rabbit:
            os.environ.update(
                {
                    "LMS_ENV": "test",
                    "LMS_STATE_DIR": str(state),
                    "LMS_PG_PORT": str(postgres.port),
                    "LMS_PG_ADMIN_PASSWORD": "bench-admin",
                    "LMS_PG_SERVICE_PASSWORD": "bench-service",
                    "LMS_AMQP_URL": rabbit.url,
                    "LMS_LOG_LEVEL": "ERROR",
                }
            )
            settings = Settings.from_env()
            asyncio.run(provision(settings, ["users"]))
            migrations.upgrade(settings, "users")
            count = args.events - args.events % args.producers
            baseline = asyncio.run(direct(settings, count, args.producers))
            drained = through_outbox(settings, count, args.producers, args.rate, state, True)
            steady = through_outbox(settings, count // 2, args.producers, args.rate, state, False)
    when = datetime.now(UTC).strftime("%Y-%m-%d")
    print(f"events: {count}, producers: {args.producers}, measured {when}")
    print(f"{'path':44} {'events/s':>9} {'p50 ms':>8} {'p99 ms':>8}")
    rows = (
        ("direct publish/consume (baseline)", baseline),
        ("outbox backlog -> relay -> inbox consumer", drained),
        (f"steady {args.rate:.0f}/s: commit -> effect", steady),
    )
    for name, row in rows:
        print(
            f"{name:44} {row['events_per_second']:>9.0f} {row['p50_ms']:>8.1f} "
            f"{row['p99_ms']:>8.1f}"
        )
    ratio = drained["events_per_second"] / baseline["events_per_second"]
    print(f"outbox pipeline throughput = {ratio:.2f} x the direct baseline")


if __name__ == "__main__":
    main()
