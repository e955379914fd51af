"""The access log of a router process (`python -m router serve`, its stderr captured): one
JSON line per request with the request id, method, path, status, duration, operation, client
(token subject, `api-key:<id>`, or address), user agent, subgraph calls and error codes; and
nowhere a token, an API key, a variable's value or the query text."""

import json
import logging
import re
import tempfile
from collections.abc import AsyncIterator, Iterator
from typing import IO, Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from common.infra.ports import free_port
from router.config import RouterConfig
from tests.integration.router.served import served_router
from tests.integration.router.test_authorization import (
    AUDIENCE,
    ISSUER,
    Sign,
    jwks_url,
    key,
    sign,
)
from tests.router_process import router_process
from tests.support import eventually, serve

__all__ = ["jwks_url", "key", "sign"]  # the authorization tests' signing key and JWKS

SECRET = "s3cret-variable-value-4711"
API_KEY = "lms_live_0123456789abcdefghij"
API_KEY_ID = "7b1e4c2a-0d55-4a8e-9f3e-5c2d1a0b9e77"
OWNER = "owner-of-the-key"
SUBJECT = "user-with-a-token"
QUERY = (
    "query Catalogue($secret: ID!) "
    "{ product(id: $secret) { name } topProduct { name reviews { body author { name } } } }"
)


@pytest.fixture(scope="module")
async def exchange_url(sign: Sign) -> AsyncIterator[str]:
    """Where the router trades an API key for a token (as the users subgraph does)."""

    async def exchange(request: Request) -> JSONResponse:
        if request.headers.get("authorization") != f"ApiKey {API_KEY}":
            return JSONResponse({"error_description": "The API key is not valid."}, 401)
        token = sign(sub=OWNER, api_key=API_KEY_ID)
        return JSONResponse({"access_token": token, "expires_in": 300})

    app = Starlette(routes=[Route("/auth/api-key-token", exchange, methods=["POST"])])
    async with serve(app, free_port()) as url:
        yield f"{url}/auth/api-key-token"


@pytest.fixture
def log() -> Iterator[IO[bytes]]:
    with tempfile.TemporaryFile() as file:
        yield file


@pytest.fixture
async def router(jwks_url: str, exchange_url: str, log: IO[bytes]) -> AsyncIterator[str]:
    arguments = [
        f"--jwks-url={jwks_url}",
        f"--jwt-issuer={ISSUER}",
        f"--jwt-audience={AUDIENCE}",
        f"--api-key-url={exchange_url}",
    ]
    async with router_process(arguments=arguments, stderr=log) as url:
        yield url


def _text(log: IO[bytes]) -> str:
    log.seek(0)
    return log.read().decode()


def _access_lines(log: IO[bytes]) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in _text(log).splitlines() if line.startswith("{")]
    return [line for line in lines if line["logger"] == "router.access"]


async def _line_of(log: IO[bytes], request_id: str) -> dict[str, Any]:
    def found() -> dict[str, Any] | None:
        return next((x for x in _access_lines(log) if x["request_id"] == request_id), None)

    line: dict[str, Any] = await eventually(found)
    return line


async def test_a_request_with_a_token_is_logged_by_subject_without_secrets(
    router: str, log: IO[bytes], sign: Sign
) -> None:
    token = sign(sub=SUBJECT)
    headers = {
        "authorization": f"Bearer {token}",
        "x-request-id": "req-0001",
        "user-agent": "access-test/1.0",
    }
    body = {"query": QUERY, "variables": {"secret": SECRET}, "operationName": "Catalogue"}
    async with httpx.AsyncClient() as client:
        response = await client.post(f"{router}/graphql", json=body, headers=headers)
    assert response.json()["data"]["topProduct"]["name"] == "Chair"
    assert response.headers["x-request-id"] == "req-0001"
    line = await _line_of(log, "req-0001")
    assert line["duration_ms"] >= 0
    assert {k: v for k, v in line.items() if k not in ("ts", "duration_ms")} == {
        "level": "INFO",
        "service": "router",
        "logger": "router.access",
        "message": "POST /graphql 200",
        "event": "access",
        "trace_id": None,
        "request_id": "req-0001",
        "method": "POST",
        "path": "/graphql",
        "status": 200,
        "operation_name": "Catalogue",
        "operation_kind": "query",
        "client": SUBJECT,
        "user_agent": "access-test/1.0",
        "subgraph_calls": 3,
        "subgraphs": {"products": 1, "reviews": 1, "users": 1},
        "errors": {},
    }
    text = _text(log)
    for secret in (token, token.split(".")[2], SECRET, "reviews { body"):
        assert secret not in text


async def test_a_request_with_an_api_key_is_logged_by_the_keys_id_never_the_key(
    router: str, log: IO[bytes]
) -> None:
    headers = {"x-api-key": API_KEY, "x-request-id": "req-0002"}
    body = {"query": 'mutation Add { createProduct(name: "Lamp") { id } }'}
    async with httpx.AsyncClient() as client:
        response = await client.post(f"{router}/graphql", json=body, headers=headers)
    assert response.json() == {"data": {"createProduct": {"id": "new1"}}}
    line = await _line_of(log, "req-0002")
    assert (line["client"], line["operation_name"], line["operation_kind"]) == (
        f"api-key:{API_KEY_ID}",
        "Add",
        "mutation",
    )
    assert line["subgraphs"] == {"products": 1}
    assert API_KEY not in _text(log)


async def test_refusals_are_logged_with_their_codes_and_the_peer_address(
    router: str, log: IO[bytes]
) -> None:
    async with httpx.AsyncClient() as client:
        bad_token = await client.post(
            f"{router}/graphql",
            json={"query": "{ topProduct { name } }"},
            headers={"authorization": "Bearer not.a-valid.token-at-all", "x-request-id": "r-3"},
        )
        invalid = await client.get(
            f"{router}/graphql",
            params={
                "query": "query Q($v: ID!) { nope(v: $v) }",
                "variables": f'{{"v": "{SECRET}"}}',
            },
            headers={"x-request-id": "r-4"},
        )
        not_json = await client.post(
            f"{router}/graphql",
            content=b"{not json",
            headers={"content-type": "application/json", "x-request-id": "bad id with spaces"},
        )
    assert (bad_token.status_code, invalid.status_code, not_json.status_code) == (401, 400, 400)
    line = await _line_of(log, "r-3")
    assert (line["status"], line["errors"], line["client"]) == (
        401,
        {"UNAUTHENTICATED": 1},
        "127.0.0.1",
    )
    line = await _line_of(log, "r-4")
    assert (line["method"], line["path"], line["errors"]) == (
        "GET",
        "/graphql",  # without the query string, which holds the query and its variables
        {"GRAPHQL_VALIDATION_FAILED": 1},
    )
    assert line["subgraph_calls"] == 0
    generated = not_json.headers["x-request-id"]  # a request id that is not sane is replaced
    assert re.fullmatch(r"[0-9a-f]{32}", generated)
    line = await _line_of(log, generated)
    assert (line["status"], line["errors"], line["operation_name"]) == (
        400,
        {"BAD_REQUEST": 1},
        None,
    )
    text = _text(log)
    for secret in ("not.a-valid.token-at-all", SECRET, "nope(v:"):
        assert secret not in text


async def test_every_http_request_is_logged_not_only_graphql(router: str, log: IO[bytes]) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.get(f"{router}/health", headers={"x-request-id": "h-1"})
    assert response.status_code == 200
    line = await _line_of(log, "h-1")
    assert (line["path"], line["status"], line["operation_kind"]) == ("/health", 200, None)


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


async def test_the_access_log_can_be_switched_off() -> None:
    lines = _Lines()
    logging.getLogger("router.access").addHandler(lines)
    config = RouterConfig.model_validate(
        {"telemetry": {"exporters": {"logging": {"access_log": {"enabled": False}}}}}
    )
    try:
        for configured, expected in ((config, 0), (RouterConfig(), 1)):
            async with served_router(configured) as url, httpx.AsyncClient() as client:
                response = await client.post(
                    f"{url}/graphql", json={"query": "{ topProduct { name } }"}
                )
            assert response.status_code == 200
            assert ("x-request-id" in response.headers) == bool(expected)
            assert len(lines.records) == expected
    finally:
        logging.getLogger("router.access").removeHandler(lines)


async def test_the_client_address_is_the_one_the_rate_limits_count() -> None:
    """Behind one trusted proxy, the address that proxy appended; a forged entry to its left
    is never logged as the client."""
    lines = _Lines()
    logging.getLogger("router.access").addHandler(lines)
    config = RouterConfig.model_validate({"rate_limit": {"trusted_proxies": ["127.0.0.1"]}})
    try:
        async with served_router(config) as url, httpx.AsyncClient() as client:
            response = await client.post(
                f"{url}/graphql",
                json={"query": "{ topProduct { name } }"},
                headers={"x-forwarded-for": "10.9.9.9, 203.0.113.7"},
            )
        assert response.status_code == 200
        (record,) = lines.records
        assert record.__dict__["client"] == "203.0.113.7"
    finally:
        logging.getLogger("router.access").removeHandler(lines)
