"""CORS at the router, over HTTP, as Apollo Router answers it: policies of exact origins and
whole-origin regular expressions, each overriding the section's credentials, headers, methods
and max-age; preflights answered by the router; WebSocket upgrades from foreign pages
refused. (tests/browser/test_cors.py shows what a browser makes of these answers.)"""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from websockets.exceptions import InvalidStatus

from router.config import RouterConfig
from router.config.cors import DEV_ORIGINS
from tests.integration.router.served import served_router
from tests.support import error_codes
from tests.ws import graphql_socket

QUERY = {"query": "{ topProduct { name } }"}
APP = "https://app.example.org"
PARTNER = "https://partner.example.net"
FOREIGN = "https://evil.example.com"


def _config(**cors: Any) -> RouterConfig:
    return RouterConfig.model_validate({"cors": cors})


@pytest.fixture
async def router() -> AsyncIterator[str]:
    """A router with two policies: the app (credentials, its own headers and max-age) and
    partners matched by pattern (the section's values)."""
    config = _config(
        allow_headers=["content-type"],
        methods=["GET", "POST"],
        max_age="1m",
        expose_headers=["x-section"],
        policies=[
            {
                "origins": [APP],
                "allow_credentials": True,
                "allow_headers": ["content-type", "authorization"],
                "expose_headers": ["x-request-id"],
                "methods": ["POST"],
                "max_age": "10m",
            },
            {"match_origins": [r"https://[a-z]+\.example\.net"]},
        ],
    )
    async with served_router(config) as url:
        yield url


def _cors_headers(response: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.startswith("access-control-")}


async def _preflight(url: str, origin: str, **headers: str) -> httpx.Response:
    async with httpx.AsyncClient() as client:
        return await client.options(
            f"{url}/graphql",
            headers={"origin": origin, "access-control-request-method": "POST", **headers},
        )


async def _post(url: str, origin: str | None) -> httpx.Response:
    async with httpx.AsyncClient() as client:
        headers = {"origin": origin} if origin else {}
        return await client.post(f"{url}/graphql", json=QUERY, headers=headers)


async def test_a_preflight_from_an_allowed_origin_is_answered_by_the_router(router: str) -> None:
    response = await _preflight(router, APP, **{"access-control-request-headers": "authorization"})
    assert response.status_code == 204
    assert _cors_headers(response) == {
        "access-control-allow-origin": APP,
        "access-control-allow-credentials": "true",
        "access-control-allow-headers": "content-type, authorization",
        "access-control-allow-methods": "POST",
        "access-control-max-age": "600",
    }
    assert response.headers["vary"] == "Origin"


async def test_a_policy_without_overrides_takes_the_sections_values(router: str) -> None:
    response = await _preflight(router, PARTNER)
    assert response.status_code == 204
    assert _cors_headers(response) == {
        "access-control-allow-origin": PARTNER,
        "access-control-allow-headers": "content-type",
        "access-control-allow-methods": "GET, POST",
        "access-control-max-age": "60",
    }


@pytest.mark.parametrize(
    "origin",
    [
        FOREIGN,
        "https://app.example.org.evil.example.com",  # an exact origin is exact
        "http://app.example.org",  # another scheme is another origin
        "https://partner.example.net.evil.example.com",  # a pattern matches the whole origin
        "https://x.partner.example.net",
        "null",
    ],
)
async def test_a_preflight_from_a_foreign_origin_gets_no_cors_header(
    router: str, origin: str
) -> None:
    response = await _preflight(router, origin)
    assert response.status_code == 403
    assert _cors_headers(response) == {}
    assert response.headers["vary"] == "Origin"
    assert error_codes(response.json()) == ["CORS_ORIGIN_NOT_ALLOWED"]


async def test_an_allowed_origin_may_read_the_answer_a_foreign_one_may_not(router: str) -> None:
    allowed = await _post(router, APP)
    assert allowed.json() == {"data": {"topProduct": {"name": "Chair"}}}
    assert _cors_headers(allowed) == {
        "access-control-allow-origin": APP,
        "access-control-allow-credentials": "true",
        "access-control-expose-headers": "x-request-id",
    }
    partner = await _post(router, PARTNER)
    assert _cors_headers(partner) == {
        "access-control-allow-origin": PARTNER,
        "access-control-expose-headers": "x-section",
    }
    # answered (a client that is no browser can claim any origin), but a browser keeps the
    # answer from the page: no Access-Control-Allow-Origin
    foreign = await _post(router, FOREIGN)
    assert foreign.status_code == 200
    assert _cors_headers(foreign) == {}
    assert "Origin" in foreign.headers["vary"]
    without_origin = await _post(router, None)
    assert _cors_headers(without_origin) == {}
    assert "Origin" in without_origin.headers["vary"]


async def test_the_first_policy_admitting_an_origin_decides() -> None:
    config = _config(
        policies=[
            {"match_origins": [r"https://.*\.example\.org"], "methods": ["GET"]},
            {"origins": [APP], "methods": ["POST"]},
        ]
    )
    async with served_router(config) as url:
        response = await _preflight(url, APP)
    assert response.headers["access-control-allow-methods"] == "GET"


async def test_by_default_only_the_dev_origins_are_allowed_with_credentials() -> None:
    async with served_router(RouterConfig()) as url:
        for origin in DEV_ORIGINS:
            response = await _preflight(url, origin, **{"access-control-request-headers": "x-a"})
            assert response.status_code == 204
            assert _cors_headers(response) == {
                "access-control-allow-origin": origin,
                "access-control-allow-credentials": "true",
                "access-control-allow-headers": "x-a",  # mirrored: none configured
                "access-control-allow-methods": "GET, POST, OPTIONS",
            }
            assert response.headers["vary"] == "Origin, Access-Control-Request-Headers"
        assert (await _preflight(url, FOREIGN)).status_code == 403
        assert (await _preflight(url, "http://localhost:3001")).status_code == 403


async def test_any_origin_is_allowed_without_credentials() -> None:
    async with served_router(_config(allow_any_origin=True)) as url:
        for origin in (FOREIGN, DEV_ORIGINS[0], "null"):
            response = await _preflight(url, origin)
            assert response.status_code == 204
            assert response.headers["access-control-allow-origin"] == "*"
            assert "access-control-allow-credentials" not in response.headers
            answer = await _post(url, origin)
            assert answer.headers["access-control-allow-origin"] == "*"


@pytest.mark.parametrize(
    ("cors", "problem"),
    [
        ({"allow_any_origin": True, "allow_credentials": True}, "allow_any_origin"),
        (
            {"allow_any_origin": True, "policies": [{"origins": [APP], "allow_credentials": True}]},
            "allow_any_origin",
        ),
        ({"policies": [{"origins": ["*"]}]}, "allow_any_origin"),
        ({"policies": [{"origins": [f"{APP}/"]}]}, "without a path"),
        ({"policies": [{"origins": ["null"]}]}, "'null'"),
        ({"policies": [{"match_origins": ["(unclosed"]}]}, "not a regular expression"),
        ({"allow_credentials": True, "allow_headers": ["*"]}, "cannot go with credentials"),
        ({"policies": [{"origins": [APP], "methods": ["GE T"]}]}, "not a valid method"),
        ({"allow_headers": ["content type"]}, "not a valid header name"),
    ],
)
def test_unusable_cors_configurations_are_refused(cors: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        _config(**cors)


async def test_a_websocket_from_a_foreign_page_is_refused(router: str) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with graphql_socket(router, headers={"Origin": FOREIGN}):
            pass
    assert refused.value.response.status_code == 403


@pytest.mark.parametrize("origin", [APP, PARTNER, "same", None])
async def test_a_websocket_from_an_allowed_page_itself_or_no_browser_opens(
    router: str, origin: str | None
) -> None:
    if origin == "same":  # GraphiQL, served by the router itself
        origin = router
    headers = {"Origin": origin} if origin else {}
    async with graphql_socket(router, headers=headers) as socket:
        assert (await socket.init())["type"] == "connection_ack"
