"""Progressive @override(label:) through the router: which subgraph answers a field.

Two subgraphs answer the overridden fields differently ("old" and "new"), so the answer
shows who resolved it: `percent(N)` labels are drawn per request, other labels are on only
when the router is configured with them.
"""

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from router.composition import SubgraphInput, compose
from router.server import create_app
from router.transport import HttpTransport
from tests.integration.router.subgraphs import Subgraph, subgraphs_client
from tests.unit.router.supergraphs import local_graphs

HEADER = (
    'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7",'
    ' import: ["@key", "@override"])\n'
)


def labelled_supergraph(label: str) -> str:
    old = HEADER + (
        "type Query { product(id: ID!): Product }"
        ' type Product @key(fields: "id") { id: ID! name: String price: String }'
    )
    new = HEADER + (
        'type Product @key(fields: "id") { id: ID!'
        f' price: String @override(from: "old", label: "{label}") }}'
    )
    result = compose(
        [
            SubgraphInput(name, url, sdl)
            for (name, url), sdl in zip(local_graphs("old", "new").items(), (old, new), strict=True)
        ]
    )
    assert result.errors == []
    assert result.supergraph_sdl is not None
    return result.supergraph_sdl


def make_subgraphs() -> dict[str, Subgraph]:
    product = {"id": "p1", "name": "Chair", "price": "old price"}
    old = Subgraph(
        "type Query { product(id: ID!): Product } type Product { id: ID! name: String price: String }",
        root={"product": lambda id: dict(product) if id == "p1" else None},
        references={"Product": lambda rep: dict(product)},
    )
    new = Subgraph(
        "type Query { unused: Int } type Product { id: ID! price: String }",
        references={"Product": lambda rep: {"id": rep["id"], "price": "new price"}},
    )
    return {"old": old, "new": new}


Router = tuple[httpx.AsyncClient, dict[str, Subgraph]]


@pytest.fixture
async def router_for() -> AsyncIterator[Callable[..., Router]]:
    transports: list[HttpTransport] = []

    def build(label: str, enabled: tuple[str, ...] = ()) -> Router:
        subgraphs = make_subgraphs()
        transport = HttpTransport(local_graphs(*subgraphs), client=subgraphs_client(subgraphs))
        transports.append(transport)
        app = create_app(labelled_supergraph(label), transport=transport, override_labels=enabled)
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://r")
        return client, subgraphs

    yield build
    for transport in transports:
        await transport.aclose()


QUERY = "query($id: ID!) { product(id: $id) { name price } }"


async def ask(client: httpx.AsyncClient, variables: Any = None) -> dict[str, Any]:
    response = await client.post(
        "/graphql", json={"query": QUERY, "variables": variables or {"id": "p1"}}
    )
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.parametrize(
    ("label", "enabled", "price"),
    [
        ("percent(0)", (), "old price"),
        ("percent(100)", (), "new price"),
        ("beta", (), "old price"),
        ("beta", ("beta",), "new price"),
        ("beta", ("gamma",), "old price"),
        ("percent(0)", ("percent(0)",), "new price"),
    ],
)
async def test_the_label_decides_who_answers(
    router_for: Callable[..., Router], label: str, enabled: tuple[str, ...], price: str
) -> None:
    client, subgraphs = router_for(label, enabled)
    async with client:
        for _ in range(5):
            body = await ask(client)
            assert body == {"data": {"product": {"name": "Chair", "price": price}}}
    asked_new = bool(subgraphs["new"].requests)
    assert asked_new == (price == "new price")


async def test_percent_50_splits_requests(router_for: Callable[..., Router]) -> None:
    client, subgraphs = router_for("percent(50)")
    prices: list[str] = []
    async with client:
        for _ in range(400):
            body = await ask(client)
            assert body["data"]["product"]["name"] == "Chair"
            prices.append(body["data"]["product"]["price"])
    new = prices.count("new price")
    assert prices.count("old price") + new == 400
    # binomial(400, 0.5): 5 standard deviations either side is 150..250
    assert 150 <= new <= 250
    assert len(subgraphs["new"].requests) == new


async def test_bad_variables_are_refused_whatever_the_labels(
    router_for: Callable[..., Router],
) -> None:
    client, _ = router_for("beta", ("beta",))
    async with client:
        response = await client.post(
            "/graphql", json={"query": QUERY, "variables": {"id": {"not": "an id"}}}
        )
        missing = await client.post("/graphql", json={"query": QUERY})
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert missing.status_code == 400
    assert missing.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_overriding_subgraph_down_nulls_only_its_field(
    router_for: Callable[..., Router],
) -> None:
    client, subgraphs = router_for("beta", ("beta",))
    subgraphs["new"].down = True
    async with client:
        body = await ask(client)
    assert body["data"] == {"product": {"name": "Chair", "price": None}}
    assert [e["extensions"]["code"] for e in body["errors"]] == ["SUBREQUEST_HTTP_ERROR"]
    assert body["errors"][0]["extensions"]["serviceName"] == "new"


def test_override_labels_must_be_a_collection_of_names() -> None:
    with pytest.raises(TypeError):
        create_app(labelled_supergraph("beta"), override_labels="beta")


JUMP_HEADER = (
    'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7",'
    ' import: ["@key", "@override", "@provides", "@external", "@shareable"])\n'
)


def jump_supergraph(label: str) -> str:
    """Account.tier moved from profiles to activity under `label`; accounts come from billing,
    which @provides their handle."""
    sdls = {
        "activity": JUMP_HEADER
        + 'type Account @key(fields: "id") { id: ID! handle: String! @shareable'
        f' tier: Int @override(from: "profiles", label: "{label}") }}',
        "billing": JUMP_HEADER + "type Query { invoices: [Invoice] }"
        ' type Invoice @key(fields: "id") { id: ID! account: Account! @provides(fields: "handle") }'
        ' type Account @key(fields: "id") { id: ID! handle: String! @external }',
        "profiles": JUMP_HEADER + "type Query { accounts: [Account!]! }"
        ' type Account @key(fields: "id") { id: ID! handle: String! @shareable tier: Int }',
    }
    result = compose(
        [SubgraphInput(name, url, sdls[name]) for name, url in local_graphs(*sdls).items()]
    )
    assert result.errors == []
    assert result.supergraph_sdl is not None
    return result.supergraph_sdl


def jump_subgraphs() -> dict[str, Subgraph]:
    """a1 is held by both profiles and activity, a2 (new) only by activity."""
    activity_tiers = {"a1": 1, "a2": 2}
    return {
        "activity": Subgraph(
            "type Query { unused: Int } type Account { id: ID! handle: String! tier: Int }",
            references={
                "Account": lambda rep: {"id": rep["id"], "tier": activity_tiers[rep["id"]]}
            },
        ),
        "billing": Subgraph(
            "type Query { invoices: [Invoice] } type Invoice { id: ID! account: Account! }"
            " type Account { id: ID! handle: String! }",
            root={
                "invoices": [
                    {"id": "i1", "account": {"id": "a1", "handle": "ann"}},
                    {"id": "i2", "account": {"id": "a2", "handle": "bob"}},
                ]
            },
        ),
        "profiles": Subgraph(
            "type Query { accounts: [Account!]! } type Account { id: ID! handle: String! tier: Int }",
            references={
                "Account": lambda rep: {"id": "a1", "tier": 10} if rep["id"] == "a1" else None
            },
        ),
    }


@pytest.fixture
async def jump_router() -> AsyncIterator[Callable[[str], Router]]:
    transports: list[HttpTransport] = []

    def build(label: str) -> Router:
        subgraphs = jump_subgraphs()
        transport = HttpTransport(local_graphs(*subgraphs), client=subgraphs_client(subgraphs))
        transports.append(transport)
        app = create_app(jump_supergraph(label), transport=transport)
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://r")
        return client, subgraphs

    yield build
    for transport in transports:
        await transport.aclose()


JUMP_QUERY = "{ invoices { id account { handle tier } } }"


@pytest.mark.parametrize(
    ("label", "tiers", "asked"),
    [("percent(100)", (1, 2), "activity"), ("percent(0)", (10, None), "profiles")],
)
async def test_percent_label_decides_who_answers_behind_a_key_jump(
    jump_router: Callable[[str], Router], label: str, tiers: tuple[int | None, ...], asked: str
) -> None:
    client, subgraphs = jump_router(label)
    expected = {
        "invoices": [
            {"id": "i1", "account": {"handle": "ann", "tier": tiers[0]}},
            {"id": "i2", "account": {"handle": "bob", "tier": tiers[1]}},
        ]
    }
    async with client:
        for _ in range(5):
            response = await client.post("/graphql", json={"query": JUMP_QUERY})
            assert response.status_code == 200
            assert response.json() == {"data": expected}
    not_asked = ({"activity", "profiles"} - {asked}).pop()
    assert len(subgraphs[asked].requests) == 5
    assert subgraphs[not_asked].requests == []


async def test_percent_100_never_falls_back_to_the_old_subgraph(
    jump_router: Callable[[str], Router],
) -> None:
    client, subgraphs = jump_router("percent(100)")
    subgraphs["activity"].down = True
    async with client:
        response = await client.post("/graphql", json={"query": JUMP_QUERY})
        wrong = await client.post("/graphql", json={"query": "{ invoices { account { tire } } }"})
    body = response.json()
    assert body["data"] == {
        "invoices": [
            {"id": "i1", "account": {"handle": "ann", "tier": None}},
            {"id": "i2", "account": {"handle": "bob", "tier": None}},
        ]
    }
    assert {e["extensions"]["serviceName"] for e in body["errors"]} == {"activity"}
    assert {e["extensions"]["code"] for e in body["errors"]} == {"SUBREQUEST_HTTP_ERROR"}
    assert subgraphs["profiles"].requests == []
    assert wrong.status_code == 400
    assert wrong.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
