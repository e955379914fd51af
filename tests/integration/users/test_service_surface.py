"""What every subgraph serves besides its own fields: federation, health, limits, metrics.

Hostile requests are sent both to the subgraph directly (it protects itself) and through the
router (which refuses them before any subgraph sees them).
"""

from __future__ import annotations

import dataclasses

import httpx
import pytest

from common.infra.ports import free_port
from common.settings import Settings
from tests.accounts import Account
from tests.support import GraphQLClient, error_codes, metric, samples, serve


async def test_federation_sdl_declares_the_user_entity(users_subgraph: GraphQLClient) -> None:
    sdl = (await users_subgraph.data("{ _service { sdl } }"))["_service"]["sdl"]
    assert 'type User @cacheControl(maxAge: 300) @key(fields: "id")' in sdl
    assert "federation/v2" in sdl
    assert "directive @cacheControl(maxAge: Int, scope: CacheControlScope" in sdl


async def test_entities_resolve_users_by_reference(
    users_subgraph: GraphQLClient, learner: Account
) -> None:
    query = """
    query($r: [_Any!]!) { _entities(representations: $r) { ... on User { id name } } }
    """
    representations = [
        {"__typename": "User", "id": learner.id},
        {"__typename": "User", "id": "00000000-0000-0000-0000-000000000000"},
    ]
    data = await users_subgraph.data(query, {"r": representations})
    assert data["_entities"] == [{"id": learner.id, "name": "Test Learner"}, None]


async def test_health_ready_and_metrics(users_url: str, http: httpx.AsyncClient) -> None:
    assert (await http.get(f"{users_url}/health")).json() == {"status": "ok"}
    ready = await http.get(f"{users_url}/ready")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "database": "up", "redis": "up"}
    metrics = await http.get(f"{users_url}/metrics")
    assert 'lms_http_requests_total{method="GET",path="/health"' in metrics.text


async def test_graphql_operations_are_counted_by_name_and_outcome(
    users_url: str, http: httpx.AsyncClient, users_subgraph: GraphQLClient
) -> None:
    url = f"{users_url}/metrics"
    ok = {"service": "users", "operation": "SurfaceProbe", "outcome": "ok"}
    failed = {"service": "users", "operation": "SurfaceProbe", "outcome": "error"}
    timed = {"service": "users", "operation": "SurfaceProbe"}
    before = [
        await metric(http, url, "lms_graphql_requests_total", **ok),
        await metric(http, url, "lms_graphql_requests_total", **failed),
        await metric(http, url, "lms_graphql_request_duration_seconds_count", **timed),
    ]
    await users_subgraph.data("query SurfaceProbe { _service { sdl } }")
    refused = await users_subgraph.execute("query SurfaceProbe { nope }")
    assert refused["errors"]
    assert [
        await metric(http, url, "lms_graphql_requests_total", **ok),
        await metric(http, url, "lms_graphql_requests_total", **failed),
        await metric(http, url, "lms_graphql_request_duration_seconds_count", **timed),
    ] == [before[0] + 1, before[1] + 1, before[2] + 2]


async def test_the_database_pool_is_reported(users_url: str, http: httpx.AsyncClient) -> None:
    url = f"{users_url}/metrics"
    assert await samples(http, url, "lms_db_pool_in_use", service="users") != []
    assert await samples(http, url, "lms_db_pool_waiting", service="users") == [0.0]


@pytest.fixture(params=["router", "subgraph"])
def endpoint(
    request: pytest.FixtureRequest, users: GraphQLClient, users_subgraph: GraphQLClient
) -> GraphQLClient:
    return users if request.param == "router" else users_subgraph


async def test_oversized_body_is_refused_with_413(endpoint: GraphQLClient) -> None:
    query = "{ me { id } }" + " " * 1_100_000
    response = await endpoint.http.post(endpoint.url, json={"query": query})
    assert response.status_code == 413
    assert error_codes(response.json()) == ["PAYLOAD_TOO_LARGE"]


async def test_malformed_json_is_a_400_not_a_500(endpoint: GraphQLClient) -> None:
    response = await endpoint.http.post(
        endpoint.url, content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert error_codes(response.json()) == ["BAD_REQUEST"]


async def test_syntax_errors_carry_a_code(endpoint: GraphQLClient) -> None:
    body = await endpoint.execute("{ me { id ")
    assert error_codes(body) == ["GRAPHQL_PARSE_FAILED"]


DEEP = '{ __type(name: "User") { ' + "ofType { " * 21 + "name" + " }" * 21 + " } }"
ALIASES = "{ " + " ".join(f"a{i}: __typename" for i in range(60)) + " }"


async def test_subgraph_refuses_wide_queries(users_subgraph: GraphQLClient) -> None:
    # (its depth limit ignores introspection, and the users schema is shallow: see
    # tests/unit/common/test_service_schema.py for depth)
    assert error_codes(await users_subgraph.execute(ALIASES)) == ["MAX_ALIASES_LIMIT"]


async def test_router_refuses_deep_and_wide_queries(users: GraphQLClient) -> None:
    deep = await users.http.post(users.url, json={"query": DEEP})
    assert deep.status_code == 400
    assert error_codes(deep.json()) == ["MAX_DEPTH_LIMIT"]
    assert "23 levels deep; the limit is 20" in deep.json()["errors"][0]["message"]
    assert error_codes(await users.execute(ALIASES)) == [
        "MAX_ALIASES_LIMIT",
        "MAX_ROOT_FIELDS_LIMIT",
    ]
    nested = '{ __type(name: "User") { ' + " ".join(f"a{i}: name" for i in range(51)) + " } }"
    assert error_codes(await users.execute(nested)) == ["MAX_ALIASES_LIMIT"]
    within = '{ __type(name: "User") { ' + " ".join(f"a{i}: name" for i in range(50)) + " } }"
    assert error_codes(await users.execute(within)) == []


async def test_not_ready_when_redis_is_unreachable(
    migrated: Settings, http: httpx.AsyncClient
) -> None:
    from subgraphs.users.app import create_app

    unreachable = dataclasses.replace(migrated, redis_url=f"redis://127.0.0.1:{free_port()}/0")
    async with serve(create_app(unreachable), free_port()) as url:
        response = await http.get(f"{url}/ready")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "up", "redis": "down"}
