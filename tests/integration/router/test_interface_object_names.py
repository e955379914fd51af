"""An @interfaceObject subgraph asked the same response name with other arguments under
different concrete types: each type gets its own value."""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from graphql import GraphQLError

from router.composition import SubgraphInput, compose
from router.server import create_app
from router.transport import HttpTransport
from tests.integration.router.subgraphs import Subgraph, subgraphs_client
from tests.unit.router.supergraphs import local_graphs

HEADER = (
    'extend schema @link(url: "https://specs.apollo.dev/federation/v2.3",'
    ' import: ["@key", "@interfaceObject"])\n'
)
SDLS = {
    "accounts": HEADER + "type Query { accounts: [Account!]! }"
    ' interface Account @key(fields: "id") { id: ID! name: String }'
    ' type Admin implements Account @key(fields: "id") { id: ID! name: String level: Int }'
    ' type User implements Account @key(fields: "id") { id: ID! name: String }'
    ' type Guest implements Account @key(fields: "id") { id: ID! name: String }',
    "profiles": HEADER + 'type Account @key(fields: "id") @interfaceObject'
    " { id: ID! label(style: Int!): String score: Int settings: [Settings!]! }"
    " type Settings { value(key: String!): String }",
}
ACCOUNTS: list[dict[str, Any]] = [
    {"__typename": "Admin", "id": "a1", "name": "Ada", "level": 3},
    {"__typename": "User", "id": "u1", "name": "Ulla"},
    {"__typename": "Guest", "id": "g1", "name": "Gus"},
    {"__typename": "User", "id": "u2", "name": "Uwe"},
]


def _label(account_id: str) -> Any:
    def label(style: int) -> str:
        if style == 0:
            raise GraphQLError("style 0 is retired")
        return f"{account_id}/style{style}"

    return label


def _setting(account_id: str, index: int) -> Any:
    def value(key: str) -> str:
        if key == "bad":
            raise GraphQLError("no such setting")
        return f"{account_id}/{index}/{key}"

    return value


def make_subgraphs() -> dict[str, Subgraph]:
    accounts = Subgraph(
        "type Query { accounts: [Account!]! }"
        " interface Account { id: ID! name: String }"
        " type Admin implements Account { id: ID! name: String level: Int }"
        " type User implements Account { id: ID! name: String }"
        " type Guest implements Account { id: ID! name: String }",
        root={"accounts": lambda: [dict(a) for a in ACCOUNTS]},
    )
    profiles = Subgraph(
        "type Query { unused: Int }"
        " type Account { id: ID! label(style: Int!): String score: Int settings: [Settings!]! }"
        " type Settings { value(key: String!): String }",
        references={
            "Account": lambda rep: {
                "id": rep["id"],
                "label": _label(rep["id"]),
                "score": len(rep["id"]),
                "settings": [{"value": _setting(rep["id"], n)} for n in (1, 2)],
            }
        },
    )
    return {"accounts": accounts, "profiles": profiles}


def supergraph_sdl() -> str:
    urls = local_graphs(*SDLS)
    result = compose([SubgraphInput(name, urls[name], sdl) for name, sdl in SDLS.items()])
    assert result.errors == []
    assert result.supergraph_sdl is not None
    return result.supergraph_sdl


@pytest.fixture
async def router() -> AsyncIterator[httpx.AsyncClient]:
    subgraphs = make_subgraphs()
    transport = HttpTransport(local_graphs(*subgraphs), client=subgraphs_client(subgraphs))
    app = create_app(supergraph_sdl(), transport=transport)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://r") as c:
        yield c
    await transport.aclose()


async def query(router: httpx.AsyncClient, text: str, variables: Any = None) -> Any:
    response = await router.post("/graphql", json={"query": text, "variables": variables})
    assert response.status_code == 200
    return response.json()


async def test_same_name_other_arguments_per_type(router: httpx.AsyncClient) -> None:
    body = await query(
        router,
        "{ accounts { ... on Admin { x: label(style: 1) } ... on User { x: label(style: 2) }"
        " ... on Guest { x: label(style: 3) } } }",
    )
    assert body == {
        "data": {
            "accounts": [
                {"x": "a1/style1"},
                {"x": "u1/style2"},
                {"x": "g1/style3"},
                {"x": "u2/style2"},
            ]
        }
    }


async def test_types_sharing_arguments_share_the_fetch(router: httpx.AsyncClient) -> None:
    body = await query(
        router,
        "query($s: Int!) { accounts { name ... on Admin { x: label(style: 1) score }"
        " ... on User { x: label(style: $s) y: label(style: 1) }"
        " ... on Guest { x: label(style: $s) } } }",
        {"s": 7},
    )
    assert body == {
        "data": {
            "accounts": [
                {"name": "Ada", "x": "a1/style1", "score": 2},
                {"name": "Ulla", "x": "u1/style7", "y": "u1/style1"},
                {"name": "Gus", "x": "g1/style7"},
                {"name": "Uwe", "x": "u2/style7", "y": "u2/style1"},
            ]
        }
    }


async def test_error_under_a_scoped_name_has_the_clients_path(router: httpx.AsyncClient) -> None:
    body = await query(
        router,
        "{ accounts { ... on Admin { x: label(style: 1) } ... on User { x: label(style: 0) } } }",
    )
    assert body["data"] == {"accounts": [{"x": "a1/style1"}, {"x": None}, {}, {"x": None}]}
    assert sorted(tuple(e["path"]) for e in body["errors"]) == [
        ("accounts", 1, "x"),
        ("accounts", 3, "x"),
    ]
    assert {e["message"] for e in body["errors"]} == {"style 0 is retired"}


async def test_wrong_variable_type_is_refused(router: httpx.AsyncClient) -> None:
    response = await router.post(
        "/graphql",
        json={
            "query": "query($s: Int!) { accounts { ... on User { x: label(style: $s) } } }",
            "variables": {"s": "seven"},
        },
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_key_name_taken_by_one_type_only(router: httpx.AsyncClient) -> None:
    body = await query(
        router,
        "{ accounts { ... on Admin { id: name score } ... on User { score } name } }",
    )
    assert body == {
        "data": {
            "accounts": [
                {"id": "Ada", "score": 2, "name": "Ada"},
                {"score": 2, "name": "Ulla"},
                {"name": "Gus"},
                {"score": 2, "name": "Uwe"},
            ]
        }
    }


async def test_nested_same_name_other_arguments_per_type(router: httpx.AsyncClient) -> None:
    body = await query(
        router,
        '{ accounts { ... on Admin { settings { v: value(key: "a") } }'
        ' ... on User { settings { v: value(key: "b") } } } }',
    )
    assert body == {
        "data": {
            "accounts": [
                {"settings": [{"v": "a1/1/a"}, {"v": "a1/2/a"}]},
                {"settings": [{"v": "u1/1/b"}, {"v": "u1/2/b"}]},
                {},
                {"settings": [{"v": "u2/1/b"}, {"v": "u2/2/b"}]},
            ]
        }
    }


async def test_nested_error_under_a_scoped_name(router: httpx.AsyncClient) -> None:
    body = await query(
        router,
        '{ accounts { ... on Admin { settings { v: value(key: "a") } }'
        ' ... on User { settings { v: value(key: "bad") } } } }',
    )
    assert body["data"]["accounts"][0] == {"settings": [{"v": "a1/1/a"}, {"v": "a1/2/a"}]}
    assert body["data"]["accounts"][1] == {"settings": [{"v": None}, {"v": None}]}
    paths = sorted(tuple(e["path"]) for e in body["errors"])
    assert paths == [
        ("accounts", 1, "settings", 0, "v"),
        ("accounts", 1, "settings", 1, "v"),
        ("accounts", 3, "settings", 0, "v"),
        ("accounts", 3, "settings", 1, "v"),
    ]


async def test_key_name_taken_on_the_interface(router: httpx.AsyncClient) -> None:
    body = await query(router, "{ accounts { id: name score ... on Admin { level } } }")
    assert body == {
        "data": {
            "accounts": [
                {"id": "Ada", "score": 2, "level": 3},
                {"id": "Ulla", "score": 2},
                {"id": "Gus", "score": 2},
                {"id": "Uwe", "score": 2},
            ]
        }
    }
