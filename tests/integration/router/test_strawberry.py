"""The router in front of real Strawberry federation subgraphs (their own `_entities`)."""

from collections.abc import AsyncIterator

import httpx
import pytest
import strawberry
from strawberry.asgi import GraphQL
from strawberry.federation import Schema

from router.server import create_app
from router.transport import HttpTransport
from tests.integration.router.subgraphs import local_client, mounted
from tests.unit.router.supergraphs import local_graphs, supergraph

NAMES = {"u1": "Ada", "u2": "Alan"}


@strawberry.federation.type(keys=["id"])
class User:
    id: strawberry.ID
    name: str

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> "User":
        if id not in NAMES:
            raise ValueError(f"no user {id}")
        return User(id=id, name=NAMES[id])


@strawberry.type
class UsersQuery:
    @strawberry.field
    def me(self) -> User:
        return User(id=strawberry.ID("u1"), name="Ada")


@strawberry.type
class Review:
    body: str
    author_id: strawberry.Private[str]

    @strawberry.field
    def author(self) -> "UserReviews":
        return UserReviews(id=strawberry.ID(self.author_id))


@strawberry.federation.type(keys=["id"], name="User")
class UserReviews:
    id: strawberry.ID

    @strawberry.field
    def reviews(self) -> list[Review]:
        return [Review(body=f"by {self.id}", author_id=self.id)]

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> "UserReviews":
        return UserReviews(id=id)


@strawberry.type
class ReviewsQuery:
    @strawberry.field
    def latest_reviews(self) -> list[Review]:
        return [Review(body="great", author_id="u2"), Review(body="odd", author_id="u9")]


# Composed by @apollo/composition from the two schemas above (Strawberry, federation 2.9).
TYPES = """
type Query
  @join__type(graph: REVIEWS)
  @join__type(graph: USERS)
{
  latestReviews: [Review!]! @join__field(graph: REVIEWS)
  me: User! @join__field(graph: USERS)
}

type Review
  @join__type(graph: REVIEWS)
{
  body: String!
  author: User!
}

type User
  @join__type(graph: REVIEWS, key: "id")
  @join__type(graph: USERS, key: "id")
{
  id: ID!
  reviews: [Review!]! @join__field(graph: REVIEWS)
  name: String! @join__field(graph: USERS)
}
"""


@pytest.fixture
async def router() -> AsyncIterator[httpx.AsyncClient]:
    apps = {
        "users": GraphQL(Schema(query=UsersQuery, types=[User], federation_version="2.9")),
        "reviews": GraphQL(
            Schema(query=ReviewsQuery, types=[UserReviews], federation_version="2.9")
        ),
    }
    urls = local_graphs("users", "reviews")
    transport = HttpTransport(urls, client=local_client(mounted(apps)))
    app = create_app(supergraph(urls, TYPES), transport=transport)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://router"
    ) as client:
        yield client
    await transport.aclose()


async def test_entities_across_strawberry_subgraphs(router: httpx.AsyncClient) -> None:
    body = (
        await router.post("/graphql", json={"query": "{ me { name reviews { body } } }"})
    ).json()
    assert body == {"data": {"me": {"name": "Ada", "reviews": [{"body": "by u1"}]}}}


async def test_failing_reference_is_an_error_at_the_client_path(router: httpx.AsyncClient) -> None:
    query = "{ latestReviews { body author { name } } }"
    body = (await router.post("/graphql", json={"query": query})).json()
    assert body["data"] is None
    first = body["errors"][0]
    assert first["message"] == "no user u9"
    assert first["path"] == ["latestReviews", 1, "author"]
    assert first["extensions"] == {"code": "SUBGRAPH_ERROR", "serviceName": "users"}
