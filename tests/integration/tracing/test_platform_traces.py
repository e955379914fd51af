"""One trace per client request through the whole platform as `lms dev --zipkin-url` runs it
(every subgraph, worker and the router in its own process), every span exported to a
Zipkin collector that checks it against Zipkin's API; and logs that tie a request to its
trace without ever holding a password, a token or a variable's value."""

from __future__ import annotations

import json
import os
import secrets
import signal
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from subgraphs.notifications.live import user_channel
from tests.accounts import LOGIN, PASSWORD, REGISTER
from tests.cli.test_dev import STARTUP_DEADLINE, STOP_DEADLINE, DevRun, dev_environment
from tests.support import eventually
from tests.ws import TRANSPORT_WS, graphql_socket
from tests.zipkin import ZipkinCollector, ancestry, collector, service

COURSES = "query Catalogue { courses(first: 3) { edges { node { id instructor { name } } } } }"
ENROLL = "mutation Enroll($c: ID!) { enroll(input: {courseId: $c}) { enrollment { id } } }"
ADDED = "subscription { notificationAdded(category: ENROLLMENT) { id category title } }"
EXPORTED_WITHIN = 60.0  # seconds for every process's batch of spans to reach the collector

zipkin = pytest.fixture(scope="module")(collector)


@pytest.fixture(scope="module")
def platform(
    tmp_path_factory: pytest.TempPathFactory, zipkin: ZipkinCollector
) -> Iterator[tuple[DevRun, dict[str, str]]]:
    env = dev_environment(
        tmp_path_factory.mktemp("dev") / "state",
        LMS_LOG_LEVEL="INFO",
        OTEL_BSP_SCHEDULE_DELAY="200",  # each process exports its finished spans within 0.2 s
    )
    run = DevRun(env, "--zipkin-url", zipkin.url)
    try:
        run.wait_for_line("Ctrl-C stops everything.", time.monotonic() + STARTUP_DEADLINE)
        yield run, env
    finally:
        if run.process.poll() is None:  # Ctrl-C: lms dev stops everything it started
            os.kill(run.process.pid, signal.SIGINT)
            run.wait_exit(STOP_DEADLINE)
        run.end()


@pytest.fixture(scope="module")
def router(platform: tuple[DevRun, dict[str, str]]) -> str:
    return f"http://127.0.0.1:{platform[1]['LMS_ROUTER_PORT']}"


def traceparent() -> tuple[str, str]:
    """A new sampled trace context of the client's: (trace id, `traceparent`)."""
    trace_id = secrets.token_hex(16)
    return trace_id, f"00-{trace_id}-{secrets.token_hex(8)}-01"


async def post(
    router: str, query: str, variables: dict[str, Any], headers: dict[str, str]
) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=30) as client:
        response = await client.post(
            f"{router}/graphql", json={"query": query, "variables": variables}, headers=headers
        )
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    return body


def named(spans: list[dict[str, Any]], name: str, of: str | None = None) -> dict[str, Any]:
    found = [s for s in spans if s["name"] == name and (of is None or service(s) == of)]
    assert found, f"no span {name!r} ({of}) among {sorted({s['name'] for s in spans})}"
    return found[0]


async def test_a_query_over_two_subgraphs_is_one_trace_down_to_their_sql(
    router: str, zipkin: ZipkinCollector
) -> None:
    trace_id, parent = traceparent()
    body = await post(router, COURSES, {}, {"traceparent": parent})
    assert body["data"]["courses"]["edges"]

    expected = {
        ("router", "POST /graphql"),
        ("router", "fetch courses"),
        ("router", "fetch users"),
        ("courses", "POST /graphql"),
        ("users", "POST /graphql"),
        ("courses", "SELECT courses"),
        ("users", "SELECT users"),
    }

    spans: list[dict[str, Any]] = await eventually(
        lambda: zipkin.complete(trace_id, expected), EXPORTED_WITHIN
    )
    assert zipkin.invalid == []
    root = named(spans, "POST /graphql", "router")
    for subgraph in ("courses", "users"):
        fetch = named(spans, f"fetch {subgraph}", "router")
        server = next(s for s in spans if s.get("parentId") == fetch["id"])
        assert (service(server), server["kind"]) == (subgraph, "SERVER")
        sql = next(
            s
            for s in spans
            if service(s) == subgraph and s.get("tags", {}).get("db.system.name") == "postgresql"
        )
        chain = ancestry(spans, sql)
        assert server in chain
        assert fetch in chain
        assert chain[-1] == root


async def test_a_mutation_is_one_trace_to_the_subscriber_its_event_reaches(
    platform: tuple[DevRun, dict[str, str]], router: str, zipkin: ZipkinCollector
) -> None:
    email = f"traced-{uuid.uuid4().hex[:10]}@example.org"
    registered = await post(
        router,
        REGISTER,
        {"input": {"email": email, "password": PASSWORD, "name": "Tracy Trace"}},
        {},
    )
    user = registered["data"]["register"]
    token = user["accessToken"]
    courses = await post(router, COURSES, {}, {})
    course = courses["data"]["courses"]["edges"][0]["node"]["id"]
    redis = Redis.from_url(f"redis://127.0.0.1:{platform[1]['LMS_REDIS_PORT']}/0")
    channel = user_channel(uuid.UUID(user["user"]["id"]))
    async with graphql_socket(router, TRANSPORT_WS) as socket:
        assert (await socket.init(token))["type"] == "connection_ack"
        operation = await socket.subscribe(ADDED)

        async def live() -> bool:
            return int(dict(await redis.pubsub_numsub(channel)).get(channel.encode(), 0)) > 0

        await eventually(live)
        await redis.aclose()
        trace_id, parent = traceparent()
        await post(
            router,
            ENROLL,
            {"c": course},
            {"authorization": f"Bearer {token}", "traceparent": parent},
        )
        delivered = await socket.next_payload(operation, seconds=30)
    assert delivered["data"]["notificationAdded"]["category"] == "ENROLLMENT"
    assert "extensions" not in delivered  # the trace context stays between subgraph and router

    hops = [
        ("router", "subscription event notifications"),
        ("notifications", "subscription event notificationAdded"),
        ("notifications-worker", "redis publish"),
        ("notifications-worker", "notification created"),
        ("notifications-worker", "handle enrollment.created"),
        ("enrollments-worker", "publish enrollment.created"),
        ("enrollments", "graphql mutation anonymous"),  # (the router names no operation)
        ("enrollments", "POST /graphql"),
        ("router", "fetch enrollments"),
        ("router", "execution"),
        ("router", "POST /graphql"),
    ]
    expected = {
        *hops,
        ("enrollments", "outbox write"),
        ("enrollments", "INSERT enrollments"),
        ("notifications-worker", "INSERT notifications"),
    }

    spans: list[dict[str, Any]] = await eventually(
        lambda: zipkin.complete(trace_id, expected), EXPORTED_WITHIN
    )
    assert zipkin.invalid == []
    delivery = named(spans, "subscription event notifications", "router")
    path = [(service(s), s["name"]) for s in ancestry(spans, delivery)]
    assert [hop for hop in path if hop in hops] == hops, path
    assert path[-1] == ("router", "POST /graphql")
    mutation = named(spans, "graphql mutation anonymous", "enrollments")
    for name in ("outbox write", "INSERT enrollments"):
        assert mutation in ancestry(spans, named(spans, name, "enrollments"))
    assert (
        ancestry(spans, named(spans, "INSERT notifications", "notifications-worker"))[-1]
        == (ancestry(spans, delivery)[-1])
    )


async def test_a_subscription_on_the_shared_socket_joins_the_clients_trace(
    platform: tuple[DevRun, dict[str, str]], router: str, zipkin: ZipkinCollector
) -> None:
    """`lms dev` runs the shipped router.yaml: notifications' subscriptions share one socket,
    whose own context is nobody's; each operation's spans join the trace its client
    started."""
    email = f"shared-{uuid.uuid4().hex[:10]}@example.org"
    registered = await post(
        router,
        REGISTER,
        {"input": {"email": email, "password": PASSWORD, "name": "Sharon Trace"}},
        {},
    )
    token = registered["data"]["register"]["accessToken"]
    trace_id, parent = traceparent()
    async with graphql_socket(router, TRANSPORT_WS, headers={"traceparent": parent}) as socket:
        assert (await socket.init(token))["type"] == "connection_ack"
        operation = await socket.subscribe("subscription { unreadCountChanged }")
        count = await socket.next_payload(operation, seconds=30)
    assert isinstance(count["data"]["unreadCountChanged"], int)

    def operation_spans() -> list[dict[str, Any]] | None:
        # the operation's spans end with it: the client left, the router completed it
        spans = zipkin.trace(trace_id)
        at_subgraph = [s for s in spans if service(s) == "notifications"]
        names = {s["name"] for s in at_subgraph}
        return spans if {"subscribe", "graphql", "SELECT notifications"} <= names else None

    spans: list[dict[str, Any]] = await eventually(operation_spans, EXPORTED_WITHIN)
    assert zipkin.invalid == []
    subscribe = named(spans, "subscribe", "notifications")
    assert subscribe["kind"] == "SERVER"
    assert subscribe["parentId"] == parent.split("-")[2]  # the client's span, as forwarded
    # the operation's span, and the count's SQL under it
    count_query = named(spans, "SELECT notifications", "notifications")
    assert [(service(s), s["name"]) for s in ancestry(spans, count_query)] == [
        ("notifications", "SELECT notifications"),
        ("notifications", "graphql"),
        ("notifications", "subscribe"),
    ]


async def test_logs_tie_a_request_to_its_trace_and_hold_no_secret(
    platform: tuple[DevRun, dict[str, str]], router: str
) -> None:
    run = platform[0]
    email = f"secretive-{uuid.uuid4().hex[:10]}@example.org"
    name = f"Sam {uuid.uuid4().hex[:8]}"
    await post(
        router, REGISTER, {"input": {"email": email, "password": PASSWORD, "name": name}}, {}
    )
    trace_id, parent = traceparent()
    signed_in = await post(
        router,
        LOGIN,
        {"input": {"email": email, "password": PASSWORD}},
        {"traceparent": parent},
    )
    tokens = signed_in["data"]["login"]

    def access_line() -> dict[str, Any] | None:
        for line in list(run.stderr):
            if line.startswith("{") and trace_id in line:
                entry: dict[str, Any] = json.loads(line)
                if entry.get("logger") == "router.access":
                    return entry
        return None

    line = await eventually(access_line, 30.0)
    assert (line["trace_id"], line["operation_kind"]) == (trace_id, "mutation")
    assert len(line["span_id"]) == 16
    text = "".join(run.stderr)
    for secret in (PASSWORD, tokens["accessToken"], tokens["refreshToken"], email, name):
        assert secret not in text
