"""The access log's line is written without `logger.info` (whose look-up of the calling file
and line no line shows): the line must stay the one `logger.info` gave, field for field and
in the same order, and a request header is read from the scope as Starlette reads it."""

import io
import json
import logging
import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from opentelemetry import trace
from starlette.datastructures import Headers

from router.access_record import AccessRecord
from router.config import RouterConfig
from router.logs import RouterLogFormat
from router.server import access_log
from router.server.headers import header
from tests.support import eventually

HEADERS = [
    (b"host", b"router"),
    (b"user-agent", b"line-test/1.0"),
    (b"x-forwarded-for", b"10.1.1.1"),
    (b"accept", b"text/html"),
    (b"accept", b"application/json"),
]


@pytest.fixture
def lines() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(RouterLogFormat())
    logging.getLogger("router.access").addHandler(handler)
    try:
        yield stream
    finally:
        logging.getLogger("router.access").removeHandler(handler)


def _scope() -> dict[str, Any]:
    state = SimpleNamespace(router=SimpleNamespace(config=RouterConfig()))
    return {
        "type": "http",
        "method": "POST",
        "path": "/graphql",
        "headers": HEADERS,
        "client": ("127.0.0.1", 5555),
        "app": SimpleNamespace(state=state),
    }


def test_the_access_line_is_the_one_logger_info_wrote(lines: io.StringIO) -> None:
    record = AccessRecord(client="someone", operation_name="Q", operation_kind="query")
    record.subgraph_calls["products"] = 2
    record.errors["BAD_USER_INPUT"] = 1
    access_log._log(_scope(), "req-1", 200, 0.0123, record)
    logging.getLogger("router.access").info(
        "%s %s %s",
        "POST",
        "/graphql",
        200,
        extra={
            "event": "access",
            "trace_id": None,
            "request_id": "req-1",
            "method": "POST",
            "path": "/graphql",
            "status": 200,
            "duration_ms": 12.3,
            "operation_name": "Q",
            "operation_kind": "query",
            "client": "someone",
            "user_agent": "line-test/1.0",
            "subgraph_calls": 2,
            "subgraphs": {"products": 2},
            "errors": {"BAD_USER_INPUT": 1},
        },
    )
    written, expected = lines.getvalue().splitlines()
    assert written.split('"ts":', 1)[1][30:] == expected.split('"ts":', 1)[1][30:]
    assert list(json.loads(written)) == [
        "ts",
        "level",
        "service",
        "logger",
        "message",
        "event",
        "trace_id",
        "request_id",
        "method",
        "path",
        "status",
        "duration_ms",
        "operation_name",
        "operation_kind",
        "client",
        "user_agent",
        "subgraph_calls",
        "subgraphs",
        "errors",
    ]


def test_a_header_is_read_as_starlette_reads_it() -> None:
    scope = _scope()
    starlette = Headers(scope=scope)
    for name in ("host", "accept", "user-agent", "origin", "x-forwarded-for"):
        assert header(scope, name.encode()) == starlette.get(name)


def _ended(request_id: str, scope: dict[str, Any] | None = None) -> Any:
    return access_log._Ended(
        scope or _scope(),
        request_id,
        200,
        0.001,
        AccessRecord(),
        trace.INVALID_SPAN_CONTEXT,
        time.time(),
    )


def _request_ids(lines: io.StringIO) -> list[str]:
    return [json.loads(line)["request_id"] for line in lines.getvalue().splitlines()]


async def test_lines_wait_for_their_batch_and_keep_their_order(lines: io.StringIO) -> None:
    batch = access_log.AccessLines()
    for n in range(3):
        batch.add(_ended(f"r-{n}"))
    assert _request_ids(lines) == []  # not on the requests' path
    started = time.monotonic()
    await eventually(lambda: len(_request_ids(lines)) == 3)
    assert time.monotonic() - started < access_log.FLUSH_AFTER + 1
    assert _request_ids(lines) == ["r-0", "r-1", "r-2"]


async def test_a_full_batch_is_written_on_the_next_turn(lines: io.StringIO) -> None:
    batch = access_log.AccessLines()
    for n in range(access_log.FLUSH_AT):
        batch.add(_ended(f"r-{n}"))
    # written well before the timer's FLUSH_AFTER would have fired
    await eventually(
        lambda: len(_request_ids(lines)) == access_log.FLUSH_AT,
        within=access_log.FLUSH_AFTER / 2,
        every=0.001,
    )


async def test_a_line_that_cannot_be_written_loses_only_itself(lines: io.StringIO) -> None:
    broken = {**_scope(), "headers": None}  # (no header list to read)
    batch = access_log.AccessLines()
    for ended in (_ended("r-0"), _ended("bad", broken), _ended("r-2")):
        batch.add(ended)
    batch.flush()
    assert _request_ids(lines) == ["r-0", "r-2"]
