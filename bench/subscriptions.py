"""Live notifications to 1,000 concurrent WebSocket subscribers: delivery latency from the
notification's commit to the client's receipt, and memory per subscription, through the
router against a baseline measured in the same run (the same subscribers connected
directly to the notifications subgraph).

Starts PostgreSQL (with `track_commit_timestamp`) and Redis from the local binaries in a
temporary folder, migrates the users and notifications subgraphs, inserts the learners and
an administrator with parameterised SQL (registering through the API would hash 1,000
passwords) and mints their access tokens with the platform key, as the users subgraph
would. The users subgraph (JWKS, recipients' names), the notifications subgraph and the
router each run as their own process (`python -m lms serve …`; `python -m router serve`
with the JWKS flags, as `lms dev` starts it); the subscription touches no other subgraph,
so no other runs. The subscribers live in separate client processes
(`--client-processes`), one WebSocket each (graphql-transport-ws, `connection_init`
payload {"Authorization": "Bearer <token>"}, permessage-deflate offered as browsers do),
each subscribed to `notificationAdded(category: $category) { id category title body
createdAt read }`. The driver sends the mutations straight to the notifications subgraph on
both paths, so that the producer's load is the same, and sends nothing before every user's
channel is subscribed at Redis.

Three paths, each with a freshly started notifications subgraph (and router):
  direct: subscribers connected to the subgraph's /graphql (it authenticates a WebSocket by
          the upgrade request's Authorization header, so these clients send it there too);
  router: subscribers connected to the router, which verifies the token on
          `connection_init` and opens one WebSocket per client to the subgraph;
  shared: the same through a router whose router.yaml says
          `subscription.mode.passthrough.subgraphs.notifications.multiplex: true`: one
          WebSocket to the subgraph carries every client's operation, each with its token.
Two scenarios on each path:
  bursts: one `sendNotification` to every subscriber (a fan-out of N events, committed by
          the subgraph in transactions of 500), `--bursts` times, `--pause` seconds apart;
  steady: `sendNotification` to one random subscriber, `--rate` per second (open loop),
          for `--seconds`. The default rate is one the subgraph sustains on 2 cores: each
          single-recipient sendNotification costs it 15-25 ms of CPU, so at 100/s it
          saturates and the run measures its queue (the commits/s column says so).

Latency runs from the commit of the notification's row, read back from PostgreSQL
(`pg_xact_commit_timestamp(xmin)`), to the moment the client's WebSocket read returned the
message (the wall clock of one machine). The row's `createdAt` is not used: the service
stamps it before it renders and inserts the batch, some 200 ms before the commit in a burst
(the gap is printed). Every event must arrive exactly once, on its user's connection: lost,
duplicated and misrouted events are counted per scenario, and any is a failure (exit 1).
The mutation's own latency is printed too, but is not part of the delivery latency.

CPU: utime + stime (/proc/<pid>/stat) of each process per scenario, divided by the events
delivered; idle: with every subscriber connected and nothing sent. Memory: VmRSS
(/proc/<pid>/status) of the notifications subgraph and of the router after a warm-up
subscription and before the subscribers connect, with all of them subscribed (after
`--settle` seconds), and after the scenarios, minus the first, divided by the subscribers.

Usage: .venv/bin/python bench/subscriptions.py [--subscribers 1000] [--bursts 5] [--rate 20]
       [--seconds 10] [--category ANNOUNCEMENT] [--client-processes 2] [--no-compression]
       [--router-deflate] [--paths direct,router,shared]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, NamedTuple

import asyncpg
import httpx
from redis.asyncio import Redis
from sqlalchemy import insert
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from common.auth import Role, TokenIssuer
from common.auth.keys import platform_signing_key
from common.db import create_engine, service_dsn, session_factory
from common.db.engine import admin_dsn
from common.infra import start_all
from common.infra.ports import free_port
from common.infra.postgres import PostgresServer
from common.infra.redis import RedisServer
from common.settings import SERVICES, Settings
from subgraphs.notifications.live import user_channel
from subgraphs.users.models import UserRow

ROOT = Path(__file__).resolve().parents[1]
PROTOCOL = Subprotocol("graphql-transport-ws")
SUBSCRIPTION = (
    "subscription($category: NotificationCategory) { notificationAdded(category: $category) "
    "{ id category title body createdAt read } }"
)
SEND = (
    "mutation($input: SendNotificationInput!) "
    "{ sendNotification(input: $input) { batchId recipientCount } }"
)
SHARED_CONFIG = {
    "subscription": {"mode": {"passthrough": {"subgraphs": {"notifications": {"multiplex": True}}}}}
}
TOKEN_TTL = 3600
CONNECTS_AT_ONCE = 50  # per client process


def _raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 1 << 20 if hard == resource.RLIM_INFINITY else hard
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


# Subscribers (in the client processes; one connection in the driver for the warm-up)


@dataclass(frozen=True)
class ClientOptions:
    url: str  # ws://…/graphql
    header_auth: bool  # also send the token on the upgrade request (the subgraph reads it there)
    compression: bool  # offer permessage-deflate
    category: str  # subscribed to, and sent


@dataclass
class _Inbox:
    received: list[tuple[int, str, float]] = field(default_factory=list)  # user, id, time
    problems: list[str] = field(default_factory=list)
    closing: bool = False


async def _open(options: ClientOptions, token: str) -> ClientConnection:
    """A subscribed graphql-transport-ws connection (acknowledged, subscribe sent)."""
    authorization = f"Bearer {token}"
    connection = await connect(
        options.url,
        subprotocols=[PROTOCOL],
        additional_headers={"Authorization": authorization} if options.header_auth else {},
        compression="deflate" if options.compression else None,
        ping_interval=None,
        open_timeout=60,
    )
    init = {"type": "connection_init", "payload": {"Authorization": authorization}}
    await connection.send(json.dumps(init))
    while True:
        message = json.loads(await asyncio.wait_for(connection.recv(), 60))
        if message.get("type") == "connection_ack":
            break
        if message.get("type") == "ping":
            await connection.send('{"type":"pong"}')
            continue
        raise RuntimeError(f"unexpected answer to connection_init: {message}")
    payload = {"query": SUBSCRIPTION, "variables": {"category": options.category}}
    subscribe = {"id": "1", "type": "subscribe", "payload": payload}
    await connection.send(json.dumps(subscribe))
    return connection


async def _read(connection: ClientConnection, user: int, inbox: _Inbox) -> None:
    try:
        async for raw in connection:
            now = time.time()
            message = json.loads(raw)
            kind = message.get("type")
            if kind == "next":
                payload = message.get("payload") or {}
                added = (payload.get("data") or {}).get("notificationAdded")
                if added is not None:
                    inbox.received.append((user, str(added["id"]), now))
                if payload.get("errors"):
                    inbox.problems.append(f"user {user}: errors {payload['errors']}"[:300])
            elif kind == "ping":
                await connection.send('{"type":"pong"}')
            elif kind != "pong":
                inbox.problems.append(f"user {user}: {message}"[:300])
    except ConnectionClosed:
        pass
    if not inbox.closing:
        closed = f"{connection.close_code} {connection.close_reason!r}"
        inbox.problems.append(f"user {user}: the server closed the connection: {closed}")


async def _clients(pipe: Connection, options: ClientOptions, tokens: list[str], first: int) -> None:
    loop = asyncio.get_running_loop()
    inbox = _Inbox()
    connections: list[ClientConnection] = []
    readers: list[asyncio.Task[None]] = []
    while True:
        command = await loop.run_in_executor(None, pipe.recv)
        if command == "connect":
            gate = asyncio.Semaphore(CONNECTS_AT_ONCE)
            failures: list[str] = []

            async def one(
                user: int, token: str, gate: asyncio.Semaphore, failed: list[str]
            ) -> None:
                async with gate:
                    try:
                        connection = await _open(options, token)
                    except Exception as failure:
                        failed.append(f"user {user}: {failure!r}"[:300])
                        return
                connections.append(connection)
                readers.append(asyncio.create_task(_read(connection, user, inbox)))

            await asyncio.gather(
                *(one(first + i, token, gate, failures) for i, token in enumerate(tokens))
            )
            pipe.send((len(connections), failures))
        elif command == "count":
            pipe.send(len(inbox.received))
        elif command == "report":
            pipe.send((inbox.received, inbox.problems))
        elif command == "close":
            inbox.closing = True
            await asyncio.gather(
                *(connection.close() for connection in connections), return_exceptions=True
            )
            await asyncio.gather(*readers, return_exceptions=True)
            pipe.send("closed")
            return


def _client_process(
    pipe: Connection, options: ClientOptions, tokens: list[str], first: int
) -> None:
    """Holds a share of the subscribers; answers the driver's commands on `pipe`."""
    _raise_fd_limit()
    import uvloop

    uvloop.run(_clients(pipe, options, tokens, first))


class Subscribers:
    """The subscribers, spread over client processes, driven over pipes."""

    def __init__(self, options: ClientOptions, tokens: list[str], processes: int) -> None:
        context = multiprocessing.get_context("spawn")
        share = -(-len(tokens) // processes)
        self.pipes: list[Connection] = []
        self.processes: list[Any] = []
        self.pids: list[int] = []
        for first in range(0, len(tokens), share):
            mine, theirs = context.Pipe()
            process = context.Process(
                target=_client_process,
                args=(theirs, options, tokens[first : first + share], first),
            )
            process.start()
            assert process.pid is not None
            self.pipes.append(mine)
            self.processes.append(process)
            self.pids.append(process.pid)

    def _ask(self, command: str) -> list[Any]:
        for pipe in self.pipes:
            pipe.send(command)
        return [pipe.recv() for pipe in self.pipes]

    def connect(self) -> tuple[int, list[str]]:
        answers = self._ask("connect")
        return sum(opened for opened, _ in answers), [f for _, fs in answers for f in fs]

    def count(self) -> int:
        return sum(self._ask("count"))

    def report(self) -> tuple[list[tuple[int, str, float]], list[str]]:
        answers = self._ask("report")
        return [r for got, _ in answers for r in got], [p for _, ps in answers for p in ps]

    def close(self) -> None:
        with contextlib.suppress(OSError, EOFError):
            self._ask("close")
        for process in self.processes:
            process.join(30)
            if process.is_alive():
                process.kill()

    def wait_for(self, target: int, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        while (count := self.count()) < target and time.monotonic() < deadline:
            time.sleep(0.05)
        return count


# The platform's processes and data


@contextlib.contextmanager
def _process(
    args: list[str], env: dict[str, str], health: str, profile: Path | None = None
) -> Iterator[int]:
    """One platform process, under cProfile (its stats written to `profile` as it stops)
    when asked."""
    profiler = ["-m", "cProfile", "-o", str(profile)] if profile is not None else []
    process = subprocess.Popen(
        [sys.executable, *profiler, "-m", *args], env=env, stdout=subprocess.DEVNULL, cwd=ROOT
    )
    try:
        for _ in range(300):
            if process.poll() is not None:
                raise SystemExit(f"{args} exited with {process.returncode}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(health, timeout=1).status_code == 200:
                    break
            time.sleep(0.1)
        else:
            raise SystemExit(f"{health} did not answer")
        yield process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _enable_commit_timestamps(settings: Settings, postgres: PostgresServer) -> None:
    async def alter() -> None:
        connection = await asyncpg.connect(admin_dsn(settings, database="postgres"))
        try:
            await connection.execute("ALTER SYSTEM SET track_commit_timestamp = on")
        finally:
            await connection.close()

    asyncio.run(alter())
    postgres.stop()
    postgres.start()


async def _insert_users(settings: Settings, count: int) -> tuple[uuid.UUID, list[uuid.UUID]]:
    """An administrator and `count` learners, straight into the users subgraph's table."""
    admin = uuid.uuid4()
    learners = [uuid.uuid4() for _ in range(count)]
    rows: list[dict[str, Any]] = [
        {
            "id": admin,
            "email": "bench-admin@example.org",
            "password_hash": "!",  # no password: these accounts only use minted tokens
            "name": "Bench Admin",
            "roles": [Role.STUDENT.value, Role.ADMIN.value],
        }
    ]
    rows += [
        {
            "id": user,
            "email": f"learner-{i}@example.org",
            "password_hash": "!",
            "name": f"Learner {i}",
            "roles": [Role.STUDENT.value],
        }
        for i, user in enumerate(learners)
    ]
    engine = create_engine(service_dsn(settings, "users"), pool_size=1)
    try:
        async with session_factory(engine).begin() as session:
            await session.execute(insert(UserRow), rows)
    finally:
        await engine.dispose()
    return admin, learners


async def _wait_subscribed(settings: Settings, users: list[uuid.UUID], within: float) -> None:
    """Until the notifications subgraph has subscribed every user's channel at Redis."""
    channels = [user_channel(user) for user in users]
    redis = Redis.from_url(settings.redis_url)
    try:
        deadline = time.monotonic() + within
        while True:
            counts = dict(await redis.pubsub_numsub(*channels))
            missing = [c for c in channels if counts.get(c.encode(), 0) < 1]
            if not missing:
                return
            if time.monotonic() > deadline:
                raise SystemExit(f"{len(missing)} channels were never subscribed at Redis")
            await asyncio.sleep(0.1)
    finally:
        await redis.aclose()


async def _send(
    http: httpx.AsyncClient, url: str, admin_token: str, users: list[uuid.UUID], category: str
) -> tuple[str, float]:
    """One sendNotification; its batch id and how long the mutation took (ms)."""
    started = time.perf_counter()
    variables = {
        "input": {
            "category": category,
            "userIds": [str(user) for user in users],
            "data": {"title": "Room change", "message": "The lecture moves to room 4."},
        }
    }
    response = await http.post(
        url,
        json={"query": SEND, "variables": variables},
        headers={"authorization": f"Bearer {admin_token}"},
    )
    body = response.json()
    if response.status_code != 200 or body.get("errors"):
        raise RuntimeError(f"sendNotification failed: {response.text[:300]}")
    return str(body["data"]["sendNotification"]["batchId"]), (time.perf_counter() - started) * 1e3


@dataclass
class Sent:
    batches: list[str] = field(default_factory=list)
    mutation_ms: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # mutations that failed (not events)
    cpu_seconds: dict[str, float] = field(default_factory=dict)  # per process, in the scenario


async def _warm_up(
    options: ClientOptions, http_url: str, token: str, admin_token: str, user: uuid.UUID
) -> None:
    """One subscription and one event on the path before memory is measured, so that lazy
    imports and first-use caches are not counted per subscription."""
    settings = Settings.from_env()
    connection = await _open(replace(options, header_auth=True), token)
    inbox = _Inbox()
    reader = asyncio.create_task(_read(connection, 0, inbox))
    await _wait_subscribed(settings, [user], 30)
    async with httpx.AsyncClient(timeout=60) as http:
        await _send(http, http_url, admin_token, [user], options.category)
    for _ in range(200):
        if inbox.received:
            break
        await asyncio.sleep(0.05)
    inbox.closing = True
    await connection.close()
    await reader
    if not inbox.received:
        raise SystemExit(f"warm-up: nothing arrived at {options.url}: {inbox.problems}")


def _bursts(
    subscribers: Subscribers,
    http_url: str,
    admin_token: str,
    users: list[uuid.UUID],
    args: argparse.Namespace,
) -> Sent:
    sent = Sent()

    async def burst() -> None:
        async with httpx.AsyncClient(timeout=120) as http:
            batch, took = await _send(http, http_url, admin_token, users, args.category)
        sent.batches.append(batch)
        sent.mutation_ms.append(took)

    for i in range(args.bursts):
        asyncio.run(burst())
        subscribers.wait_for(len(users) * (i + 1), 30)
        time.sleep(args.pause)
    return sent


def _steady(
    subscribers: Subscribers,
    http_url: str,
    admin_token: str,
    users: list[uuid.UUID],
    args: argparse.Namespace,
    already: int,
) -> Sent:
    sent = Sent()
    count = round(args.rate * args.seconds)
    chosen = random.Random(2026).choices(users, k=count)

    async def one(user: uuid.UUID, http: httpx.AsyncClient) -> None:
        try:
            batch, took = await _send(http, http_url, admin_token, [user], args.category)
        except (RuntimeError, httpx.HTTPError) as failure:
            sent.failures.append(repr(failure)[:300])
            return
        sent.batches.append(batch)
        sent.mutation_ms.append(took)

    async def run() -> None:
        limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
        async with httpx.AsyncClient(timeout=60, limits=limits) as http:
            tasks = []
            began = time.perf_counter()
            for i, user in enumerate(chosen):
                delay = began + i / args.rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(asyncio.create_task(one(user, http)))
            await asyncio.gather(*tasks)

    asyncio.run(run())
    subscribers.wait_for(already + len(sent.batches), 30)
    time.sleep(1)
    return sent


@dataclass
class Outcome:
    expected: int
    lost: int
    duplicates: int
    misrouted: int
    latencies_ms: list[float]
    batch_max_ms: list[float]  # the last delivery of each mutation (each burst)
    created_gap_ms: list[float]  # commit - createdAt
    committed_per_second: float
    sent: Sent


class Committed(NamedTuple):
    user: str
    batch: str
    at: float  # commit time (epoch s)
    created: float  # createdAt (epoch s)


async def _commits(settings: Settings, batches: list[str]) -> dict[str, Committed]:
    """Each notification of the batches, by id."""
    connection = await asyncpg.connect(admin_dsn(settings))
    try:
        rows = await connection.fetch(
            "SELECT id, user_id, batch_id, pg_xact_commit_timestamp(xmin) AS committed, "
            "created_at FROM notifications.notifications WHERE batch_id = ANY($1::uuid[])",
            [uuid.UUID(batch) for batch in batches],
        )
    finally:
        await connection.close()
    return {
        str(row["id"]): Committed(
            str(row["user_id"]),
            str(row["batch_id"]),
            row["committed"].timestamp(),
            row["created_at"].timestamp(),
        )
        for row in rows
    }


def _outcome(
    commits: dict[str, Committed],
    received: list[tuple[int, str, float]],
    users: list[uuid.UUID],
    sent: Sent,
) -> Outcome:
    times: dict[str, list[float]] = {}
    misrouted = 0
    for user, notification, at in received:
        if notification in commits:
            times.setdefault(notification, []).append(at)
            misrouted += commits[notification].user != str(users[user])
    by_batch: dict[str, list[float]] = {batch: [] for batch in sent.batches}
    for notification, row in commits.items():
        if notification in times:
            by_batch[row.batch].append((min(times[notification]) - row.at) * 1e3)
    committed = [row.at for row in commits.values()]
    span = max(committed, default=0) - min(committed, default=0)
    return Outcome(
        expected=len(commits),
        lost=sum(1 for n in commits if n not in times),
        duplicates=sum(len(t) - 1 for t in times.values()),
        misrouted=misrouted,
        latencies_ms=[latency for batch in by_batch.values() for latency in batch],
        batch_max_ms=[max(batch, default=float("nan")) for batch in by_batch.values()],
        created_gap_ms=[(row.at - row.created) * 1e3 for row in commits.values()],
        committed_per_second=(len(committed) - 1) / span if span > 0 else 0.0,
        sent=sent,
    )


@dataclass
class PathResult:
    connect_seconds: float
    rss_before_kib: dict[str, int]
    rss_after_kib: dict[str, int]
    rss_used_kib: dict[str, int]  # after the scenarios, subscribers still connected
    idle_cpu_percent: dict[str, float]  # with every subscriber connected, nothing sent
    bursts: Outcome
    steady: Outcome
    stray: int  # received, but of no batch sent in a scenario
    problems: list[str]


def _run_path(
    path: str,
    settings: Settings,
    env: dict[str, str],
    admin_token: str,
    tokens: list[str],
    users: list[uuid.UUID],
    args: argparse.Namespace,
) -> PathResult:
    port = settings.service_port("notifications")
    subgraph_url = settings.service_url("notifications")
    router_port = settings.router_port
    router_args = [
        "router",
        "serve",
        "--supergraph=schema/supergraph.graphql",
        f"--port={router_port}",
        *(f"--subgraph-url={name}={settings.service_url(name)}" for name in SERVICES),
        f"--jwks-url={settings.jwks_url}",
        f"--jwt-issuer={settings.jwt_issuer}",
        f"--jwt-audience={settings.jwt_audience}",
        f"--jwt-leeway={settings.clock_skew}",
        "--no-watch",
        "--log-level=WARNING",
    ]

    def profile(process: str) -> Path | None:
        return None if args.profile is None else args.profile / f"{path}-{process}.prof"

    with contextlib.ExitStack() as stack:
        pids = {
            "notifications": stack.enter_context(
                _process(
                    ["lms", "serve", "notifications"],
                    env,
                    f"http://127.0.0.1:{port}/health",
                    profile("notifications"),
                )
            )
        }
        url = f"ws://127.0.0.1:{port}/graphql"
        if path in ("router", "shared"):
            sections: dict[str, Any] = json.loads(
                json.dumps(SHARED_CONFIG if path == "shared" else {})
            )
            if args.router_deflate:
                sections.setdefault("subscription", {})["permessage_deflate"] = True
            if sections:
                config = Path(env["LMS_STATE_DIR"]) / f"router-{path}.yaml"
                config.write_text(json.dumps(sections))  # (JSON is YAML)
                router_args = [*router_args, f"--config={config}"]
            pids["router"] = stack.enter_context(
                _process(
                    router_args, env, f"http://127.0.0.1:{router_port}/health", profile("router")
                )
            )
            url = f"ws://127.0.0.1:{router_port}/graphql"
        options = ClientOptions(url, path == "direct", args.compression, args.category)
        asyncio.run(_warm_up(options, subgraph_url, tokens[0], admin_token, users[0]))
        time.sleep(args.settle)
        before = {name: _rss_kib(pid) for name, pid in pids.items()}
        subscribers = Subscribers(options, tokens, args.client_processes)
        try:
            began = time.perf_counter()
            opened, failures = subscribers.connect()
            if failures:
                raise SystemExit(
                    f"{path}: {len(failures)} subscribers could not connect, e.g. {failures[:3]}"
                )
            asyncio.run(_wait_subscribed(settings, users, 120))
            connect_seconds = time.perf_counter() - began
            print(f"{path}: {opened} subscribed in {connect_seconds:.1f} s", flush=True)

            def cpu() -> dict[str, float]:
                used = {name: _cpu_seconds(pid) for name, pid in pids.items()}
                return used | {"clients": sum(_cpu_seconds(pid) for pid in subscribers.pids)}

            idle = cpu()
            time.sleep(args.settle)
            after = {name: _rss_kib(pid) for name, pid in pids.items()}
            start = cpu()
            idle_percent = {k: (start[k] - idle[k]) * 100 / args.settle for k in start}
            burst_sent = _bursts(subscribers, subgraph_url, admin_token, users, args)
            middle = cpu()
            steady_sent = _steady(
                subscribers, subgraph_url, admin_token, users, args, len(users) * args.bursts
            )
            end = cpu()
            burst_sent.cpu_seconds = {name: middle[name] - start[name] for name in start}
            steady_sent.cpu_seconds = {name: end[name] - middle[name] for name in start}
            received, problems = subscribers.report()
            used = {name: _rss_kib(pid) for name, pid in pids.items()}
        finally:
            subscribers.close()
    burst_commits = asyncio.run(_commits(settings, burst_sent.batches))
    steady_commits = asyncio.run(_commits(settings, steady_sent.batches))
    known = burst_commits.keys() | steady_commits.keys()
    return PathResult(
        connect_seconds=connect_seconds,
        rss_before_kib=before,
        rss_after_kib=after,
        rss_used_kib=used,
        idle_cpu_percent=idle_percent,
        bursts=_outcome(burst_commits, received, users, burst_sent),
        steady=_outcome(steady_commits, received, users, steady_sent),
        stray=sum(1 for _, n, _ in received if n not in known),
        problems=problems,
    )


# The report


def _scenarios(result: PathResult, args: argparse.Namespace) -> list[tuple[str, Outcome]]:
    named = [(f"burst x{args.bursts}", result.bursts), (f"steady {args.rate:g}/s", result.steady)]
    return [(name, outcome) for name, outcome in named if outcome.sent.batches]


def _print(results: dict[str, PathResult], args: argparse.Namespace, load: float) -> bool:
    """The tables; False when an event was lost, duplicated or misrouted, or a subscriber
    saw an error or was disconnected."""
    when = datetime.now(UTC).strftime("%Y-%m-%d")
    compression = "deflate offered" if args.compression else "no compression"
    if args.router_deflate:
        compression += ", the router accepts it"
    print(
        f"\n{args.subscribers} subscribers in {args.client_processes} client processes "
        f"({compression}); bursts: {args.bursts} x {args.subscribers} events; steady: "
        f"{args.rate:g}/s for {args.seconds:g} s; category {args.category}; measured {when}"
    )
    print(f"load average before the run (other processes on the machine): {load:.2f}")
    print("latency: commit of the row -> the client's receipt")
    print(
        f"{'path':7} {'scenario':13} {'events':>6} {'lost':>5} {'dup':>4} {'misr':>4} "
        f"{'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} {'commits/s':>9} {'mutation p50 ms':>15}"
    )
    clean = True
    for path, result in results.items():
        for name, outcome in _scenarios(result, args):
            lat = outcome.latencies_ms
            clean &= not (outcome.lost or outcome.duplicates or outcome.misrouted)
            rate = f"{outcome.committed_per_second:.0f}" if outcome is result.steady else "-"
            print(
                f"{path:7} {name:13} {outcome.expected:>6} {outcome.lost:>5} "
                f"{outcome.duplicates:>4} {outcome.misrouted:>4} {_percentile(lat, 0.5):>7.1f} "
                f"{_percentile(lat, 0.99):>7.1f} {max(lat, default=float('nan')):>7.1f} "
                f"{rate:>9} {_percentile(outcome.sent.mutation_ms, 0.5):>15.1f}"
            )
    pairs = [("router", "direct"), ("shared", "direct"), ("shared", "router")]
    for path, baseline in ((p, b) for p, b in pairs if {p, b} <= set(results)):
        for name in ("bursts", "steady"):
            d = getattr(results[baseline], name).latencies_ms
            r = getattr(results[path], name).latencies_ms
            if d and r:
                d50, d99, r50, r99 = (_percentile(v, q) for v in (d, r) for q in (0.5, 0.99))
                print(
                    f"{path} / {baseline}, {name}: p50 x{r50 / d50:.2f} ({r50 - d50:+.1f} ms), "
                    f"p99 x{r99 / d99:.2f} ({r99 - d99:+.1f} ms)"
                )
    for path, result in results.items():
        if result.bursts.batch_max_ms:
            last = ", ".join(f"{value:.0f}" for value in result.bursts.batch_max_ms)
            print(f"{path}: the last subscriber of each burst had it after (ms): {last}")

    print("\nCPU ms per delivered event (the subgraph's includes serving the mutations);")
    print("idle: CPU % with every subscriber connected and nothing sent")
    print(f"{'path':7} {'scenario':13} {'notifications':>13} {'router':>7} {'clients':>7}")
    for path, result in results.items():
        idle = {k: f"{v:.1f}%" for k, v in result.idle_cpu_percent.items()}
        print(
            f"{path:7} {'idle':13} {idle.get('notifications', '-'):>13} "
            f"{idle.get('router', '-'):>7} {idle.get('clients', '-'):>7}"
        )
        for name, outcome in _scenarios(result, args):
            delivered = max(1, len(outcome.latencies_ms))
            cpu = {k: f"{v * 1e3 / delivered:.2f}" for k, v in outcome.sent.cpu_seconds.items()}
            print(
                f"{path:7} {name:13} {cpu.get('notifications', '-'):>13} "
                f"{cpu.get('router', '-'):>7} {cpu.get('clients', '-'):>7}"
            )

    print(
        f"\n{'memory (VmRSS, MB)':30} {'before':>7} {'subscribed':>10} {'after use':>9} "
        f"{'KiB/subscription':>16} {'after use':>9}"
    )
    for path, result in results.items():
        for process, before in result.rss_before_kib.items():
            after, used = result.rss_after_kib[process], result.rss_used_kib[process]
            label = f"{process} ({path} path)"
            print(
                f"{label:30} {before / 1024:>7.1f} {after / 1024:>10.1f} {used / 1024:>9.1f} "
                f"{(after - before) / args.subscribers:>16.1f} "
                f"{(used - before) / args.subscribers:>9.1f}"
            )

    print()
    for path, result in results.items():
        gap = result.bursts.created_gap_ms
        line = (
            f"{path}: {args.subscribers} connected and subscribed in {result.connect_seconds:.1f} s"
        )
        if gap:
            line += (
                f"; in bursts createdAt precedes the commit by p50 {_percentile(gap, 0.5):.0f}"
                f" ms, max {max(gap):.0f} ms"
            )
        print(line)
        if result.stray:
            print(f"{path}: {result.stray} events received that belong to no scenario")
        if result.problems:
            clean = False
            print(f"{path}: {len(result.problems)} SUBSCRIBER PROBLEMS, e.g.:")
            for problem in result.problems[:5]:
                print(f"  {problem}")
        failures = result.bursts.sent.failures + result.steady.sent.failures
        if failures:
            print(f"{path}: {len(failures)} mutations failed (no events expected), e.g.:")
            for failure in failures[:3]:
                print(f"  {failure}")
    if not clean:
        print("FAILED: events were lost, duplicated or misrouted, or subscribers saw errors")
    for path in ("router", "shared"):
        if path not in results:
            continue
        verdicts = []
        for name, outcome in _scenarios(results[path], args):
            p99 = _percentile(outcome.latencies_ms, 0.99)
            verdicts.append(f"{name} {'met' if p99 < 100 else 'NOT met'} (p99 {p99:.1f} ms)")
        print(
            f"target p99 < 100 ms at {args.subscribers} subscribers ({path} path): "
            + "; ".join(verdicts)
        )
    return clean


def main() -> int:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--subscribers", type=int, default=1000)
    options.add_argument("--bursts", type=int, default=5)
    options.add_argument("--pause", type=float, default=2.0, help="seconds between bursts")
    options.add_argument("--rate", type=float, default=20.0, help="steady notifications/s")
    options.add_argument("--seconds", type=float, default=10.0, help="steady run length")
    options.add_argument("--client-processes", type=int, default=2)
    options.add_argument("--settle", type=float, default=3.0, help="seconds before RSS")
    options.add_argument(
        "--no-compression",
        dest="compression",
        action="store_false",
        help="do not offer permessage-deflate (browsers do)",
    )
    options.add_argument(
        "--router-deflate",
        action="store_true",
        help="the router accepts permessage-deflate (`subscription.permessage_deflate: true`; "
        "off by default, as Apollo Router)",
    )
    options.add_argument(
        "--paths",
        default="direct,router,shared",
        help="any of direct, router (a socket per client to the subgraph), shared (one socket)",
    )
    options.add_argument(
        "--category",
        default="ANNOUNCEMENT",
        help="ANNOUNCEMENT: email too, at once (SKIPPED: no SMTP server); COURSE_UPDATE: "
        "email in the daily digest, so no delivery work beside the fan-out",
    )
    options.add_argument(
        "--profile",
        type=Path,
        help="a folder: run the subgraph and the router under cProfile, one .prof file each",
    )
    args = options.parse_args()
    if args.profile is not None:
        args.profile.mkdir(parents=True, exist_ok=True)
    load = os.getloadavg()[0]
    _raise_fd_limit()
    with tempfile.TemporaryDirectory(prefix="lms-bench-subscriptions-") as folder:
        state = Path(folder)
        pg_port, redis_port = free_port(), free_port()
        env = {
            **os.environ,
            "LMS_ENV": "test",
            "LMS_STATE_DIR": folder,
            "LMS_PG_PORT": str(pg_port),
            "LMS_PG_ADMIN_PASSWORD": "bench-admin",
            "LMS_PG_SERVICE_PASSWORD": "bench-service",
            "LMS_REDIS_PORT": str(redis_port),
            "LMS_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
            "LMS_ROUTER_PORT": str(free_port()),
            "LMS_SMTP_HOST": "",  # email deliveries are SKIPPED (no provider)
            "LMS_LOG_LEVEL": "WARNING",
            **{f"LMS_{name.upper()}_PORT": str(free_port()) for name in SERVICES},
        }
        env.pop("LMS_JWKS_URL", None)
        env.pop("LMS_JWT_PRIVATE_KEY_FILE", None)
        for name in SERVICES:
            env.pop(f"LMS_{name.upper()}_URL", None)
        os.environ.clear()
        os.environ.update(env)
        settings = Settings.from_env()
        postgres = PostgresServer(state / "postgres", pg_port, password="bench-admin", fast=True)
        redis = RedisServer(state / "redis", redis_port, fast=True)
        start_all([postgres, redis])
        try:
            _enable_commit_timestamps(settings, postgres)
            subprocess.run(
                [sys.executable, "-m", "lms", "migrate", "users", "notifications"],
                env=env,
                check=True,
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
            )
            admin, users = asyncio.run(_insert_users(settings, args.subscribers))
            issuer = TokenIssuer(
                platform_signing_key(settings),
                issuer=settings.jwt_issuer,
                audience=settings.jwt_audience,
                ttl_seconds=TOKEN_TTL,
            )
            admin_token = issuer.issue(admin, frozenset({Role.STUDENT, Role.ADMIN}))
            tokens = [issuer.issue(user, frozenset({Role.STUDENT})) for user in users]
            results: dict[str, PathResult] = {}
            users_health = f"http://127.0.0.1:{settings.service_port('users')}/health"
            with _process(["lms", "serve", "users"], env, users_health):
                for path in args.paths.split(","):
                    results[path] = _run_path(path, settings, env, admin_token, tokens, users, args)
        finally:
            redis.stop()
            postgres.stop()
    return 0 if _print(results, args, load) else 1


if __name__ == "__main__":
    raise SystemExit(main())
