"""@requires on a concrete type reached through an @interfaceObject, through the router: the
inputs are fetched for the concrete type once the interface's subgraph has told it, and sent
with it to the field's subgraph."""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from router.composition import SubgraphInput, compose
from router.server import create_app
from router.transport import HttpTransport
from tests.integration.router.subgraphs import Subgraph, subgraphs_client
from tests.unit.router.planning.test_interface_object_requires import SDLS
from tests.unit.router.supergraphs import local_graphs

TITLES = {"Book-1": ("Book", "Dune"), "Movie-2": ("Movie", "Alien")}
PRICES = {"Book-1": 9.5}
SCORES = {"Book-1": 4.5, "Movie-2": 3.0}


def _media(representation: dict[str, Any]) -> dict[str, Any]:
    typename, title = TITLES[representation["id"]]
    return {"__typename": typename, "id": representation["id"], "title": title}


def _book(representation: dict[str, Any]) -> dict[str, Any]:
    book = _media(representation)
    if "price" in representation:  # label exists only with its @requires input
        book["label"] = f"{book['title']} at {representation['price']}"
    return book


class _Catalog(Subgraph):
    """Resolves `Media` representations (the interface) to the concrete type it holds."""

    def entities(self, representations: list[dict[str, Any]]) -> list[Any]:
        return [_book(r) if r["__typename"] == "Book" else _media(r) for r in representations]


def make_subgraphs() -> dict[str, Subgraph]:
    catalog = _Catalog(
        "type Query { media: [Media!]! }"
        " interface Media { id: ID! title: String }"
        " type Book implements Media { id: ID! title: String price: Float label: String }"
        " type Movie implements Media { id: ID! title: String }",
        references={"Book": _book, "Movie": _media},
    )
    ratings = Subgraph(
        "type Query { topRated: [Media] } type Media { id: ID! score: Float }",
        root={"topRated": lambda: [{"id": i, "score": s} for i, s in SCORES.items()]},
        references={"Media": lambda rep: {"id": rep["id"], "score": SCORES[rep["id"]]}},
    )
    shop = Subgraph(
        "type Query { _unused: Int } type Book { id: ID! price: Float }",
        references={"Book": lambda rep: {"id": rep["id"], "price": PRICES[rep["id"]]}},
    )
    return {"catalog": catalog, "ratings": ratings, "shop": shop}


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


async def test_requires_field_of_a_concrete_type_gets_its_inputs(
    router: httpx.AsyncClient, subgraphs: dict[str, Subgraph]
) -> None:
    body = await query(router, "{ topRated { score ... on Book { label } } }")
    assert body == {"data": {"topRated": [{"score": 4.5, "label": "Dune at 9.5"}, {"score": 3.0}]}}
    # only the Book is sent to the shop, with the key catalog's Book has
    [shop_request] = subgraphs["shop"].requests
    assert shop_request["variables"]["representations"] == [{"__typename": "Book", "id": "Book-1"}]


async def test_requires_input_subgraph_down(
    router: httpx.AsyncClient, subgraphs: dict[str, Subgraph]
) -> None:
    subgraphs["shop"].down = True
    body = await query(router, "{ topRated { score ... on Book { title label } } }")
    assert body["data"] == {
        "topRated": [{"score": 4.5, "title": "Dune", "label": None}, {"score": 3.0}]
    }
    assert [(e["extensions"]["code"], e["extensions"]["serviceName"]) for e in body["errors"]] == [
        ("SUBREQUEST_HTTP_ERROR", "shop")
    ]
    # the Book without its @requires input is not sent to catalog for label
    sent = [r for q in subgraphs["catalog"].requests for r in q["variables"]["representations"]]
    assert sent == [
        {"__typename": "Media", "id": "Book-1"},
        {"__typename": "Media", "id": "Movie-2"},
    ]


async def test_conditional_fragment_excluded_asks_only_the_interface_object(
    router: httpx.AsyncClient, subgraphs: dict[str, Subgraph]
) -> None:
    text = "query($b: Boolean!) { topRated { score ... on Book @include(if: $b) { label } } }"
    body = await query(router, text, {"b": False})
    assert body == {"data": {"topRated": [{"score": 4.5}, {"score": 3.0}]}}
    assert subgraphs["catalog"].requests == []
    assert subgraphs["shop"].requests == []
    body = await query(router, text, {"b": True})
    assert body == {"data": {"topRated": [{"score": 4.5, "label": "Dune at 9.5"}, {"score": 3.0}]}}
    response = await router.post("/graphql", json={"query": text, "variables": {"b": "yes"}})
    assert response.status_code == 400
    assert [e["extensions"]["code"] for e in response.json()["errors"]] == ["BAD_USER_INPUT"]
