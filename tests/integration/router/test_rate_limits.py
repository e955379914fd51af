"""Rate limits at the router, in process (tests/integration/router/test_rate_limits_redis.py
shares them through Redis): the router and its subgraphs on real ports, tokens verified
against a JWKS on loopback. A request over a limit is answered 429 with `Retry-After` and
`RATE_LIMITED` before anything is planned or sent; a subgraph over its limit fails its own
fetch (`SUBGRAPH_RATE_LIMITED`) and the rest of the answer comes back."""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from common.auth.keys import KEY_PARAMETERS
from common.infra.ports import free_port
from router.config import RouterConfig
from router.metrics import REGISTRY
from router.policies.authentication import JwtConfig
from router.server import create_app
from tests.integration.router.conftest import SUPERGRAPH, make_subgraphs
from tests.integration.router.subgraphs import Subgraph, subgraphs_app
from tests.integration.router.test_authorization import AUDIENCE, ISSUER, jwks_server
from tests.support import error_codes, eventually, serve
from tests.ws import graphql_socket

HOUR = {"interval": "1h"}  # nothing refills while a test runs
Sign = Callable[[], str]


@pytest.fixture(scope="module")
def key() -> RSAKey:
    generated = RSAKey.generate_key(2048, parameters=KEY_PARAMETERS)
    generated.ensure_kid()
    return generated


@pytest.fixture(scope="module")
async def jwks_url(key: RSAKey) -> AsyncIterator[str]:
    async with jwks_server([key]) as url:
        yield url


@pytest.fixture(scope="module")
def sign(key: RSAKey) -> Sign:
    """A token of a new subject each call."""

    def token() -> str:
        now = int(time.time())
        claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": str(uuid.uuid4()), "iat": now}
        return jwt.encode({"alg": "RS256", "kid": key.kid}, {**claims, "exp": now + 300}, key)

    return token


@dataclass
class Router:
    http: httpx.AsyncClient
    subgraphs: dict[str, Subgraph]

    async def post(
        self,
        query: str = "{ topProduct { name } }",
        *,
        operation: str | None = None,
        token: str | None = None,
        forwarded_for: str | bytes | list[str] | None = None,
    ) -> httpx.Response:
        headers: list[tuple[bytes, bytes]] = []
        if token is not None:
            headers.append((b"authorization", f"Bearer {token}".encode()))
        if forwarded_for is not None:  # each entry of a list its own header line
            chain = forwarded_for if isinstance(forwarded_for, list) else [forwarded_for]
            for entry in chain:
                value = entry if isinstance(entry, bytes) else entry.encode()
                headers.append((b"x-forwarded-for", value))
        payload: dict[str, Any] = {"query": query}
        if operation is not None:
            payload["operationName"] = operation
        return await self.http.post("/graphql", json=payload, headers=headers)


@contextlib.asynccontextmanager
async def running_router(
    config: dict[str, Any], authentication: JwtConfig | None = None
) -> AsyncIterator[Router]:
    """The router on `config` (router.yaml's shape) in front of the test subgraphs."""
    subgraphs = make_subgraphs()
    async with serve(subgraphs_app(subgraphs), free_port()) as subgraphs_url:
        urls = {name: f"{subgraphs_url}/{name}/graphql" for name in subgraphs}
        app = create_app(
            SUPERGRAPH,
            urls,
            config=RouterConfig.model_validate(config),
            authentication=authentication,
        )
        async with (
            serve(app, free_port()) as url,
            httpx.AsyncClient(base_url=url) as http,
        ):
            yield Router(http, subgraphs)


def assert_rate_limited(response: httpx.Response, scope: str) -> int:
    """The announced wait, checked to be the same in the header and the body."""
    assert response.status_code == 429, response.text
    retry_after = int(response.headers["retry-after"])
    assert retry_after >= 1
    (refusal,) = response.json()["errors"]
    assert refusal["extensions"] == {"code": "RATE_LIMITED", "retryAfter": retry_after}
    assert f"({scope} rate limit)" in refusal["message"]
    assert f"try again in {retry_after} seconds" in refusal["message"]
    return retry_after


def _refused(scope: str) -> float:
    return REGISTRY.get_sample_value("router_rate_limited_total", {"scope": scope}) or 0.0


async def test_a_token_over_its_limit_is_refused_and_other_callers_are_not(
    jwks_url: str, sign: Sign
) -> None:
    authentication = JwtConfig((jwks_url,), ISSUER, AUDIENCE)
    config = {"rate_limit": {"per_client": {"capacity": 2, **HOUR}}}
    refused_before = _refused("client")
    async with running_router(config, authentication) as router:
        first, second = sign(), sign()
        for _ in range(2):
            assert (await router.post(token=first)).status_code == 200
        arrived = router.subgraphs["products"].arrived
        retry_after = assert_rate_limited(await router.post(token=first), "client")
        assert 1700 <= retry_after <= 1800  # half an hour: the emission interval (1 h / 2)
        assert router.subgraphs["products"].arrived == arrived  # refused before execution
        assert (await router.post(token=second)).status_code == 200
        assert (await router.post()).status_code == 200  # anonymous: counted by address
        metrics = await router.http.get("/metrics")
    assert _refused("client") == refused_before + 1
    assert 'router_rate_limited_total{scope="client"}' in metrics.text


async def test_anonymous_clients_are_counted_by_address_and_cannot_forge_another() -> None:
    config = {"rate_limit": {"per_client": {"capacity": 2, **HOUR}}}  # no trusted_proxies
    async with running_router(config) as router:
        assert (await router.post()).status_code == 200
        assert (await router.post(forwarded_for="198.51.100.1")).status_code == 200
        forged = await router.post(forwarded_for="198.51.100.2")  # all from 127.0.0.1
        assert_rate_limited(forged, "client")
        assert_rate_limited(await router.post(), "client")


async def test_behind_a_trusted_proxy_the_client_is_the_address_the_proxy_appended() -> None:
    config = {
        "rate_limit": {"per_client": {"capacity": 2, **HOUR}, "trusted_proxies": ["127.0.0.1"]}
    }
    async with running_router(config) as router:
        for _ in range(2):
            assert (await router.post(forwarded_for="203.0.113.1")).status_code == 200
        # the client wrote the first entry itself; the proxy appended the address it saw
        forged = await router.post(forwarded_for="198.51.100.7, 203.0.113.1")
        assert_rate_limited(forged, "client")
        forged_as_header = await router.post(forwarded_for=["198.51.100.7", "203.0.113.1"])
        assert_rate_limited(forged_as_header, "client")
        assert (await router.post(forwarded_for="203.0.113.2")).status_code == 200
        # without the header the request did not come through the proxy: its peer is counted
        assert (await router.post()).status_code == 200


async def test_hostile_forwarded_for_headers_count_as_the_peer_never_a_failure() -> None:
    config = {
        "rate_limit": {"per_client": {"capacity": 2, **HOUR}, "trusted_proxies": ["127.0.0.1"]}
    }
    async with running_router(config) as router:
        statuses = [
            (await router.post(forwarded_for=chain)).status_code
            for chain in (
                ",,, ,",
                "x" * 4000,
                "\u00e9t\u00e9".encode("latin-1"),
                b"\xff\xfe",
                "1.2.3.4,",
            )
        ]
        # what is not an IP address is never a client: those count as the peer, whose two
        # requests are spent by the third; 1.2.3.4 is a client of its own
        assert statuses == [200, 200, 429, 429, 200]
        assert_rate_limited(await router.post(forwarded_for="forged, " + "x" * 4000), "client")
        assert (await router.post(forwarded_for="forged, 1.2.3.5")).status_code == 200


async def test_each_operation_of_a_client_has_its_own_limit_and_anonymous_ones_share_one() -> None:
    config = {
        "rate_limit": {"per_operation": {"capacity": 1, **HOUR}, "trusted_proxies": ["127.0.0.1"]}
    }
    named = "query A { topProduct { name } } query B { products { name } }"
    async with running_router(config) as router:
        alice, bob = "203.0.113.1", "203.0.113.2"
        assert (await router.post(named, operation="A", forwarded_for=alice)).status_code == 200
        again = await router.post(named, operation="A", forwarded_for=alice)
        assert_rate_limited(again, "operation")
        assert (await router.post(named, operation="B", forwarded_for=alice)).status_code == 200
        assert (await router.post(named, operation="A", forwarded_for=bob)).status_code == 200
        assert (await router.post("{ topProduct { name } }", forwarded_for=alice)).is_success
        other_anonymous = await router.post("{ products { id } }", forwarded_for=alice)
        assert_rate_limited(other_anonymous, "operation")
        long_name = "X" * 10_000  # never a key as long as what a client sends
        refused_by_gateway = await router.post(named, operation=long_name, forwarded_for=bob)
        assert refused_by_gateway.status_code != 500


async def test_the_router_wide_limit_counts_every_client_together() -> None:
    config = {
        "traffic_shaping": {"router": {"global_rate_limit": {"capacity": 2, **HOUR}}},
        "rate_limit": {"per_client": {"capacity": 100, **HOUR}, "trusted_proxies": ["127.0.0.1"]},
    }
    async with running_router(config) as router:
        assert (await router.post(forwarded_for="203.0.113.1")).status_code == 200
        assert (await router.post(forwarded_for="203.0.113.2")).status_code == 200
        assert_rate_limited(await router.post(forwarded_for="203.0.113.3"), "router")


async def test_a_subgraph_over_its_limit_fails_its_fetches_and_the_rest_comes_back() -> None:
    config = {
        "traffic_shaping": {
            "all": {"global_rate_limit": {"capacity": 100, **HOUR}},
            "subgraphs": {"users": {"global_rate_limit": {"capacity": 1, **HOUR}}},
        }
    }
    query = "{ products { name reviews { body author { email } } } }"
    async with running_router(config) as router:
        full = (await router.post(query)).json()
        assert "errors" not in full, full
        assert full["data"]["products"][0]["reviews"][0]["author"]["email"] == "ada@example.com"
        response = await router.post(query)
        assert response.status_code == 200
        body = response.json()
        assert error_codes(body) == 3 * ["SUBGRAPH_RATE_LIMITED"]
        assert all(e["extensions"]["serviceName"] == "users" for e in body["errors"])
        assert [e["path"] for e in body["errors"]] == [
            ["products", 0, "reviews", 0, "author", "email"],
            ["products", 1, "reviews", 0, "author", "email"],
            ["products", 0, "reviews", 1, "author", "email"],
        ]
        products = body["data"]["products"]
        assert [p["name"] for p in products] == ["Chair", "Table"]
        assert [r["body"] for r in products[0]["reviews"]] == ["Comfy", "Wobbly"]
        assert products[0]["reviews"][0]["author"] == {"email": None}
        assert router.subgraphs["users"].arrived == 1
        assert (await router.post("{ products { name } }")).status_code == 200


async def test_a_client_is_let_through_again_once_its_limit_refills() -> None:
    config = {"rate_limit": {"per_client": {"capacity": 1, "interval": "200ms"}}}
    async with running_router(config) as router:
        assert (await router.post()).status_code == 200
        assert_rate_limited(await router.post(), "client")

        async def let_through() -> bool:
            return (await router.post()).status_code == 200

        await eventually(let_through)


async def test_without_any_limit_configured_nothing_is_refused() -> None:
    async with running_router({"rate_limit": {"per_client": None}}) as router:
        statuses = {(await router.post()).status_code for _ in range(20)}
    assert statuses == {200}


async def test_enabled_false_turns_the_client_limits_off() -> None:
    config = {"rate_limit": {"enabled": False, "per_client": {"capacity": 1, **HOUR}}}
    async with running_router(config) as router:
        statuses = {(await router.post()).status_code for _ in range(5)}
    assert statuses == {200}


async def test_a_websocket_operation_counts_against_its_client_as_a_request_does() -> None:
    config = {"rate_limit": {"per_client": {"capacity": 2, **HOUR}}}
    async with running_router(config) as router:
        url = str(router.http.base_url).rstrip("/")
        async with graphql_socket(url) as socket:
            assert (await socket.init())["type"] == "connection_ack"
            first = await socket.subscribe("{ topProduct { name } }")
            assert await socket.next_payload(first) == {"data": {"topProduct": {"name": "Chair"}}}
            assert (await socket.receive()) == {"id": first, "type": "complete"}
            assert (await router.post()).status_code == 200
            refused = await socket.subscribe("{ topProduct { name } }")
            message = await socket.receive()
            assert message["id"] == refused
            assert message["type"] == "error"
            (error,) = message["payload"]
            assert error["extensions"]["code"] == "RATE_LIMITED"
            assert error["extensions"]["retryAfter"] >= 1
        assert_rate_limited(await router.post(), "client")
