"""What every subgraph serves besides its own fields: federation, health, limits, metrics."""

from __future__ import annotations

import httpx

from tests.integration.users.conftest import Account
from tests.support import GraphQLClient, error_codes


async def test_federation_sdl_declares_the_user_entity(users: GraphQLClient) -> None:
    sdl = (await users.data("{ _service { sdl } }"))["_service"]["sdl"]
    assert 'type User @key(fields: "id")' in sdl
    assert "federation/v2" in sdl


async def test_entities_resolve_users_by_reference(users: GraphQLClient, learner: Account) -> None:
    query = """
    query($r: [_Any!]!) { _entities(representations: $r) { ... on User { id name } } }
    """
    representations = [
        {"__typename": "User", "id": learner.id},
        {"__typename": "User", "id": "00000000-0000-0000-0000-000000000000"},
    ]
    data = await users.data(query, {"r": representations})
    assert data["_entities"] == [{"id": learner.id, "name": "Test Learner"}, None]


async def test_health_ready_and_metrics(users_url: str, http: httpx.AsyncClient) -> None:
    assert (await http.get(f"{users_url}/health")).json() == {"status": "ok"}
    ready = await http.get(f"{users_url}/ready")
    assert ready.status_code == 200
    assert ready.json()["database"] == "up"
    metrics = await http.get(f"{users_url}/metrics")
    assert 'lms_http_requests_total{method="GET",path="/health"' in metrics.text


async def test_oversized_body_is_refused_with_413(users: GraphQLClient) -> None:
    query = "{ me { id } }" + " " * 1_100_000
    response = await users.http.post(users.url, json={"query": query})
    assert response.status_code == 413
    assert error_codes(response.json()) == ["PAYLOAD_TOO_LARGE"]


async def test_malformed_json_is_a_400_not_a_500(users: GraphQLClient) -> None:
    response = await users.http.post(
        users.url, content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400


async def test_deep_and_wide_queries_are_refused(users: GraphQLClient) -> None:
    deep = "{ " + "me { " * 20 + "id" + " }" * 21
    assert error_codes(await users.execute(deep))[0] == "GRAPHQL_VALIDATION_FAILED"
    aliases = "{ " + " ".join(f"a{i}: __typename" for i in range(60)) + " }"
    assert error_codes(await users.execute(aliases)) == ["GRAPHQL_VALIDATION_FAILED"]


async def test_syntax_errors_carry_a_code(users: GraphQLClient) -> None:
    body = await users.execute("{ me { id ")
    assert error_codes(body) == ["GRAPHQL_PARSE_FAILED"]
