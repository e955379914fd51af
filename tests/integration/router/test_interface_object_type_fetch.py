"""@interfaceObject through the router: the interface's subgraph is asked for the concrete
type only when the client's selection needs it, and an object whose type could not be
learned is null (its null propagates), never typed with the interface's name."""

import json
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
    "catalog": HEADER + "type Query { media: [Media!]! }"
    ' interface Media @key(fields: "id") { id: ID! title: String }'
    ' type Book implements Media @key(fields: "id") { id: ID! title: String pages: Int }'
    ' type Movie implements Media @key(fields: "id") { id: ID! title: String }',
    "ratings": HEADER + "type Query { topRated: [Media] featured: Media! }"
    ' type Media @key(fields: "id") @interfaceObject'
    " { id: ID! score: Float similar: [Media!] }",
}
CATALOG: dict[str, dict[str, Any]] = {
    "Book-1": {"__typename": "Book", "id": "Book-1", "title": "Dune", "pages": 412},
    "Movie-2": {"__typename": "Movie", "id": "Movie-2", "title": "Alien"},
}
MOVIE = {"id": "Movie-2", "score": 3.0, "similar": []}
BOOK = {"id": "Book-1", "score": 4.5, "similar": [MOVIE]}
# ratings has it, catalog does not; its similar fails
UNKNOWN = {"id": "Gone-9", "score": 1.0, "similar": GraphQLError("no similar for Gone-9")}


def _by_id(representation: dict[str, Any]) -> Any:
    return CATALOG.get(representation["id"])


RATINGS = {media["id"]: media for media in (BOOK, MOVIE, UNKNOWN)}


class _Catalog(Subgraph):
    """Resolves `Media` representations (the interface) to the concrete type it holds."""

    def entities(self, representations: list[dict[str, Any]]) -> list[Any]:
        return [_by_id(r) for r in representations]


def make_subgraphs() -> dict[str, Subgraph]:
    catalog = _Catalog(
        "type Query { media: [Media!]! }"
        " interface Media { id: ID! title: String }"
        " type Book implements Media { id: ID! title: String pages: Int }"
        " type Movie implements Media { id: ID! title: String }",
        root={"media": lambda: list(CATALOG.values())},
        references={"Book": _by_id, "Movie": _by_id},
    )
    ratings = Subgraph(
        "type Query { topRated: [Media] featured: Media! }"
        " type Media { id: ID! score: Float similar: [Media!] }",
        root={"topRated": lambda: [BOOK, MOVIE], "featured": lambda: UNKNOWN},
        references={"Media": lambda rep: RATINGS[rep["id"]]},
    )
    return {"catalog": catalog, "ratings": ratings}


@pytest.fixture
def subgraphs() -> dict[str, Subgraph]:
    return make_subgraphs()


@pytest.fixture
async def router(subgraphs: dict[str, Subgraph]) -> AsyncIterator[httpx.AsyncClient]:
    urls = local_graphs(*SDLS)
    result = compose([SubgraphInput(name, urls[name], sdl) for name, sdl in SDLS.items()])
    assert result.errors == []
    assert result.supergraph_sdl is not None
    transport = HttpTransport(urls, client=subgraphs_client(subgraphs))
    app = create_app(result.supergraph_sdl, transport=transport)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://r") as c:
        yield c
    await transport.aclose()


async def query(router: httpx.AsyncClient, text: str, variables: Any = None) -> Any:
    response = await router.post("/graphql", json={"query": text, "variables": variables})
    assert response.status_code == 200
    return response.json()


def _codes(body: Any) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors", [])]


async def test_fields_of_the_interface_object_need_only_its_subgraph(
    router: httpx.AsyncClient, subgraphs: dict[str, Subgraph]
) -> None:
    body = await query(router, "{ topRated { score similar { score } } }")
    assert body == {
        "data": {
            "topRated": [{"score": 4.5, "similar": [{"score": 3.0}]}, {"score": 3.0, "similar": []}]
        }
    }
    assert subgraphs["catalog"].requests == []


async def test_fields_of_the_interface_object_answer_with_the_interface_subgraph_down(
    router: httpx.AsyncClient, subgraphs: dict[str, Subgraph]
) -> None:
    subgraphs["catalog"].down = True
    body = await query(router, "{ topRated { score ... on Media { similar { score } } } }")
    assert body == {
        "data": {
            "topRated": [{"score": 4.5, "similar": [{"score": 3.0}]}, {"score": 3.0, "similar": []}]
        }
    }


async def test_typename_is_the_concrete_type(router: httpx.AsyncClient) -> None:
    body = await query(router, "{ topRated { __typename score similar { t: __typename } } }")
    assert body == {
        "data": {
            "topRated": [
                {"__typename": "Book", "score": 4.5, "similar": [{"t": "Movie"}]},
                {"__typename": "Movie", "score": 3.0, "similar": []},
            ]
        }
    }


async def test_untyped_objects_are_null_with_the_fetch_error(
    router: httpx.AsyncClient, subgraphs: dict[str, Subgraph]
) -> None:
    subgraphs["catalog"].down = True
    body = await query(router, "{ topRated { __typename score } }")
    assert body["data"] == {"topRated": [None, None]}
    # the fetch that failed only had to give each object its type: its error is on each
    assert [(e["path"], e["extensions"]) for e in body["errors"]] == [
        (["topRated", i], {"code": "SUBREQUEST_HTTP_ERROR", "serviceName": "catalog"})
        for i in range(2)
    ]


async def test_untyped_null_propagates_through_non_null_positions(
    router: httpx.AsyncClient, subgraphs: dict[str, Subgraph]
) -> None:
    subgraphs["catalog"].down = True
    body = await query(router, "{ topRated { score similar { __typename } } }")
    # similar is [Media!]: an untyped item nulls the list, an empty list stays
    assert body["data"] == {
        "topRated": [{"score": 4.5, "similar": None}, {"score": 3.0, "similar": []}]
    }
    assert _codes(body) == ["SUBREQUEST_HTTP_ERROR"]
    body = await query(router, "{ featured { __typename score } }")
    assert body["data"] is None
    assert _codes(body) == ["SUBREQUEST_HTTP_ERROR"]
    assert '"Media"' not in json.dumps(body)


async def test_object_the_interface_subgraph_does_not_know_is_null_with_an_error(
    router: httpx.AsyncClient,
) -> None:
    body = await query(router, "{ featured { __typename score } }")
    assert body["data"] is None
    assert [e["path"] for e in body["errors"]] == [["featured"]]
    assert _codes(body) == ["SUBGRAPH_INVALID_RESPONSE"]


async def test_conditional_typename_fetches_the_type_only_when_included(
    router: httpx.AsyncClient, subgraphs: dict[str, Subgraph]
) -> None:
    subgraphs["catalog"].down = True
    text = "query($t: Boolean!) { topRated { __typename @include(if: $t) score } }"
    body = await query(router, text, {"t": False})
    assert body == {"data": {"topRated": [{"score": 4.5}, {"score": 3.0}]}}
    body = await query(router, text, {"t": True})
    assert body["data"] == {"topRated": [None, None]}
    assert [e["path"] for e in body["errors"]] == [["topRated", 0], ["topRated", 1]]
    assert _codes(body) == 2 * ["SUBREQUEST_HTTP_ERROR"]


async def test_fragment_on_a_concrete_type(
    router: httpx.AsyncClient, subgraphs: dict[str, Subgraph]
) -> None:
    text = "{ topRated { score ... on Book { pages } } }"
    body = await query(router, text)
    assert body == {"data": {"topRated": [{"score": 4.5, "pages": 412}, {"score": 3.0}]}}
    subgraphs["catalog"].down = True
    body = await query(router, text)
    assert body["data"] == {"topRated": [{"score": 4.5}, {"score": 3.0}]}
    assert [e["path"] for e in body["errors"]] == [["topRated", 0], ["topRated", 1]]
    assert _codes(body) == 2 * ["SUBREQUEST_HTTP_ERROR"]


async def test_fragment_adding_to_a_field_of_the_interface_object(
    router: httpx.AsyncClient,
) -> None:
    body = await query(router, "{ topRated { ... on Book { similar { score } } similar { id } } }")
    assert body == {
        "data": {"topRated": [{"similar": [{"id": "Movie-2", "score": 3.0}]}, {"similar": []}]}
    }


@pytest.mark.parametrize("catalog_down", [False, True])
async def test_untyped_object_is_not_extended_as_a_concrete_type(
    router: httpx.AsyncClient, subgraphs: dict[str, Subgraph], catalog_down: bool
) -> None:
    """Gone-9's type is never learned: it is no Book, so ratings is not asked its similar
    under `... on Book` (whose error the client would otherwise get)."""
    subgraphs["catalog"].down = catalog_down
    body = await query(router, "{ featured { score ... on Book { similar { score } } } }")
    assert body["data"] == {"featured": {"score": 1.0}}
    assert _codes(body) == (["SUBREQUEST_HTTP_ERROR"] if catalog_down else [])
    assert len(subgraphs["ratings"].requests) == 1


async def test_wrong_variable_type_is_refused(router: httpx.AsyncClient) -> None:
    response = await router.post(
        "/graphql",
        json={
            "query": "query($t: Boolean!) { topRated { __typename @include(if: $t) } }",
            "variables": {"t": "yes"},
        },
    )
    assert response.status_code == 400
    assert _codes(response.json()) == ["BAD_USER_INPUT"]
