"""The GraphiQL page and its files over plain HTTP, at the router and at a subgraph: security
headers, versioned files cached for good, nothing else served, and a plain line when the
files were never installed."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Route

from common.infra.ports import free_port
from common.settings import Settings
from graphiql_assets import GraphiQL
from tests.conftest import subgraph_app
from tests.support import raw_connection, serve

BROWSER = {"Accept": "text/html,application/xhtml+xml"}
ENDPOINTS = pytest.mark.parametrize("service", ["router", "users"])


@pytest.fixture
def base_url(service: str, router_url: str, subgraph_urls: dict[str, str]) -> str:
    return router_url if service == "router" else subgraph_urls[service]


def _directives(policy: str) -> dict[str, str]:
    parts = (directive.strip().split(" ", 1) for directive in policy.split(";"))
    return {part[0]: part[1] if len(part) > 1 else "" for part in parts}


@ENDPOINTS
async def test_the_page_loads_only_this_origins_scripts_and_is_never_framed(
    base_url: str, http: httpx.AsyncClient
) -> None:
    page = await http.get(f"{base_url}/graphql", headers=BROWSER)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    policy = _directives(page.headers["content-security-policy"])
    host = urlsplit(base_url).netloc
    assert policy["default-src"] == "'none'"
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["connect-src"] == f"'self' ws://{host} wss://{host}"
    assert policy["frame-ancestors"] == "'none'"
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["cache-control"] == "no-cache"
    assert "<script>" not in page.text  # every script is a file (CSP: no inline script)
    assert "unpkg" not in page.text


@ENDPOINTS
async def test_every_file_the_page_names_is_served_versioned_and_cached_for_good(
    base_url: str, http: httpx.AsyncClient
) -> None:
    page = await http.get(f"{base_url}/graphql", headers=BROWSER)
    files = re.findall(r'(?:src|href)="(graphiql/[^"]+)"', page.text)
    names = [file.removeprefix("graphiql/") for file in files]
    assert any(re.fullmatch(r"graphiql-\d+\.\d+\.\d+-graphiql\.min\.js", n) for n in names)
    assert any(
        re.fullmatch(r"react-dom-18\.\d+\.\d+-react-dom\.production\.min\.js", n) for n in names
    )
    for file in files:
        response = await http.get(f"{base_url}/{file}")
        assert response.status_code == 200, file
        kind = "text/css" if file.endswith(".css") else "text/javascript"
        assert response.headers["content-type"].startswith(kind), file
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.content


async def _raw_status(base_url: str, target: str) -> int:
    """The status of a GET for ``target`` sent exactly as written (no client normalising
    the dot segments away)."""
    address = urlsplit(base_url)
    assert address.hostname
    assert address.port
    async with raw_connection(address.hostname, address.port) as (reader, writer):
        writer.write(
            f"GET {target} HTTP/1.1\r\nHost: {address.netloc}\r\nConnection: close\r\n\r\n".encode()
        )
        await writer.drain()
        status_line = await reader.readline()
    return int(status_line.split()[1])


@ENDPOINTS
@pytest.mark.parametrize(
    "target",
    [
        "/graphiql/../../etc/passwd",
        "/graphiql/..%2F..%2Fetc%2Fpasswd",
        "/graphiql/%2e%2e",
        "/graphiql/package.json",
        "/graphiql/graphiql.min.js",  # a real file, but not under its versioned name
        "/graphiql/start.js",
    ],
)
async def test_nothing_but_the_pages_files_is_served(base_url: str, target: str) -> None:
    assert await _raw_status(base_url, target) == 404


async def test_without_its_files_the_page_says_what_to_run(tmp_path: Path) -> None:
    missing = GraphiQL(tmp_path / "node_modules")
    app = Starlette(routes=[Route("/graphql", missing.page), missing.route])
    async with serve(app, free_port()) as url, httpx.AsyncClient() as http:
        page = await http.get(f"{url}/graphql", headers=BROWSER)
        assert page.status_code == 503
        assert "not installed" in page.text
        assert "bash scripts/setup.sh" in page.text
        assert "<script" not in page.text
        assert page.headers["x-frame-options"] == "DENY"
        assert (await http.get(f"{url}/graphiql/graphiql-3.9.0-graphiql.min.js")).status_code == 404


async def test_a_production_subgraph_serves_no_graphiql(
    migrated: Settings, http: httpx.AsyncClient
) -> None:
    """In production people use the router's GraphiQL; a subgraph answers GraphQL only."""
    production = dataclasses.replace(migrated, env="production")
    async with serve(subgraph_app("courses", production), free_port()) as url:
        page = await http.get(f"{url}/graphql", headers=BROWSER)
        assert page.status_code == 404
        assert "graphiql" not in page.text.lower()
        answer = await http.post(f"{url}/graphql", json={"query": "{ __typename }"})
        assert answer.json() == {"data": {"__typename": "Query"}}
