"""@fromContext end to end: Strawberry subgraphs, composed by our composer, served by the router."""

from collections.abc import AsyncIterator
from typing import Annotated

import httpx
import pytest
import strawberry
from strawberry.asgi import GraphQL
from strawberry.federation import Schema
from strawberry.federation.schema_directives import Context, FromContext

from router.composition import SubgraphInput, compose
from router.server import create_app
from router.transport import HttpTransport
from tests.integration.router.subgraphs import local_client, mounted
from tests.unit.router.supergraphs import local_graphs

LOCALES = {"c1": "en", "c2": "fr", "c3": None}
SEEN: list[str | None] = []


@strawberry.federation.type(keys=["id"])
class Module:
    id: strawberry.ID

    @strawberry.field
    def summary(
        self,
        locale: Annotated[
            str | None,
            strawberry.argument(directives=[FromContext(field="$course { locale }")]),
        ],
    ) -> str:
        SEEN.append(locale)
        return f"{self.id} [{locale or 'default'}]"

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> "Module":
        return Module(id=id)


@strawberry.federation.type(keys=["id"], directives=[Context(name="course")])
class Course:
    id: strawberry.ID
    locale: str | None

    @strawberry.field
    def modules(self) -> list[Module]:
        return [Module(id=strawberry.ID("m1")), Module(id=strawberry.ID(f"m-{self.id}"))]

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> "Course":
        return Course(id=id, locale=LOCALES[id])


@strawberry.type
class CoursesQuery:
    @strawberry.field
    def courses(self) -> list[Course]:
        return [Course(id=strawberry.ID(c), locale=locale) for c, locale in LOCALES.items()]


@strawberry.federation.type(keys=["id"], name="Course")
class CatalogCourse:
    id: strawberry.ID

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> "CatalogCourse":
        return CatalogCourse(id=id)


@strawberry.type
class CatalogQuery:
    @strawberry.field
    def featured(self) -> list[CatalogCourse]:
        return [CatalogCourse(id=strawberry.ID("c2")), CatalogCourse(id=strawberry.ID("c1"))]


SCHEMAS = {
    "courses": Schema(query=CoursesQuery, types=[Course, Module], federation_version="2.8"),
    "catalog": Schema(query=CatalogQuery, types=[CatalogCourse], federation_version="2.8"),
}


@pytest.fixture
async def router() -> AsyncIterator[httpx.AsyncClient]:
    urls = local_graphs(*SCHEMAS)
    composed = compose([SubgraphInput(n, urls[n], s.as_str()) for n, s in SCHEMAS.items()])
    assert composed.errors == []
    assert composed.supergraph_sdl is not None
    apps = {name: GraphQL(schema) for name, schema in SCHEMAS.items()}
    transport = HttpTransport(urls, client=local_client(mounted(apps)))
    app = create_app(composed.supergraph_sdl, transport=transport)
    SEEN.clear()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://router"
    ) as client:
        yield client
    await transport.aclose()


async def test_each_module_gets_the_locale_of_its_course(router: httpx.AsyncClient) -> None:
    query = "{ courses { id modules { summary } } }"
    body = (await router.post("/graphql", json={"query": query})).json()
    assert body == {
        "data": {
            "courses": [
                {"id": "c1", "modules": [{"summary": "m1 [en]"}, {"summary": "m-c1 [en]"}]},
                {"id": "c2", "modules": [{"summary": "m1 [fr]"}, {"summary": "m-c2 [fr]"}]},
                {
                    "id": "c3",
                    "modules": [{"summary": "m1 [default]"}, {"summary": "m-c3 [default]"}],
                },
            ]
        }
    }
    assert sorted(SEEN, key=str) == sorted(["en", "en", "fr", "fr", None, None], key=str)


async def test_the_context_crosses_from_another_subgraph(router: httpx.AsyncClient) -> None:
    query = "{ featured { modules { summary } } }"
    body = (await router.post("/graphql", json={"query": query})).json()
    assert body == {
        "data": {
            "featured": [
                {"modules": [{"summary": "m1 [fr]"}, {"summary": "m-c2 [fr]"}]},
                {"modules": [{"summary": "m1 [en]"}, {"summary": "m-c1 [en]"}]},
            ]
        }
    }


async def test_the_argument_stays_hidden_from_clients(router: httpx.AsyncClient) -> None:
    query = '{ courses { modules { summary(locale: "de") } } }'
    response = await router.post("/graphql", json={"query": query})
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
