"""Cache-Control on the subgraphs' own answers (what the router reads to cache them): the
public catalogue is public for a few minutes; anything per user, a draft, an error or a
mutation is not kept."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.accounts import Account
from tests.integration.courses.conftest import create_course, published_course
from tests.support import GraphQLClient

CATALOGUE = """
{ courses(first: 50) { edges { node { id title instructor { id } coInstructors { id }
  category { name } modules { title lessons { title durationMinutes } } } }
  pageInfo { hasNextPage } totalCount } }
"""
COURSE = "query($id: ID!) { course(id: $id) { id title status } }"
ENTITIES = """
query($representations: [_Any!]!) {
  _entities(representations: $representations) { ... on Course { id title } ... on User { id } }
}
"""


async def cache_control(
    http: httpx.AsyncClient,
    url: str,
    query: str,
    variables: dict[str, Any] | None = None,
    token: str | None = None,
) -> str:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await http.post(
        f"{url}/graphql", json={"query": query, "variables": variables or {}}, headers=headers
    )
    assert response.status_code == 200, response.text
    return response.headers["cache-control"]


@pytest.fixture
def courses_url(subgraph_urls: dict[str, str]) -> str:
    return subgraph_urls["courses"]


async def test_the_public_catalogue_is_public_for_minutes(
    graph: GraphQLClient,
    http: httpx.AsyncClient,
    courses_url: str,
    instructor: Account,
    admin: Account,
) -> None:
    course = await published_course(graph, instructor, admin, "Cached Catalogue")
    assert await cache_control(http, courses_url, CATALOGUE) == "max-age=300, public"
    assert (
        await cache_control(http, courses_url, COURSE, {"id": course["id"]})
        == "max-age=300, public"
    )
    search = '{ searchCourses(query: "cached") { edges { node { id title } } } }'
    assert await cache_control(http, courses_url, search) == "max-age=60, public"
    categories = "{ categories { name children { name } } }"
    assert await cache_control(http, courses_url, categories) == "max-age=300, public"
    representations = [{"__typename": "Course", "id": course["id"]}]
    assert (
        await cache_control(http, courses_url, ENTITIES, {"representations": representations})
        == "max-age=300, public"
    )
    # as a GET (APQ, CDNs): the same answer, the same policy
    response = await http.get(
        f"{courses_url}/graphql",
        params={"query": COURSE, "variables": f'{{"id": "{course["id"]}"}}'},
    )
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "max-age=300, public"


async def test_what_depends_on_the_caller_is_private_or_not_kept(
    graph: GraphQLClient,
    http: httpx.AsyncClient,
    courses_url: str,
    instructor: Account,
    admin: Account,
    student: Account,
) -> None:
    course = await published_course(graph, instructor, admin, "Private Parts")
    mine = "query($id: ID!) { course(id: $id) { id title viewerCanEdit } }"
    assert (
        await cache_control(http, courses_url, mine, {"id": course["id"]}, instructor.access_token)
        == "max-age=300, private"
    )
    content = "query($id: ID!) { lesson(id: $id) { title body } }"
    lesson = {"id": course["lessons"][0]["id"]}
    owner = instructor.access_token
    assert await cache_control(http, courses_url, content, lesson, owner) == "no-store"
    assert await cache_control(http, courses_url, content, lesson, student.access_token) == (
        "no-store"  # FORBIDDEN: not enrolled
    )
    # a signed-in caller's list is their own (it would hold the drafts they teach or
    # co-teach), even with none in it: never shared with, nor answered from, anyone else's
    learner = student.access_token
    assert await cache_control(http, courses_url, CATALOGUE, token=learner) == (
        "max-age=300, private"
    )
    search = '{ searchCourses(query: "private") { edges { node { id } } } }'
    assert await cache_control(http, courses_url, search, token=learner) == "max-age=60, private"
    reviews = "query($id: ID!) { course(id: $id) { reviews { action } } }"
    assert await cache_control(http, courses_url, reviews, {"id": course["id"]}, owner) == (
        "no-store"
    )


async def test_a_draft_is_never_kept(
    graph: GraphQLClient, http: httpx.AsyncClient, courses_url: str, instructor: Account
) -> None:
    draft = await create_course(graph, instructor, "Secret Draft")
    owner = instructor.access_token
    assert await cache_control(http, courses_url, COURSE, {"id": draft["id"]}, owner) == "no-store"
    # the instructor's catalogue lists their draft: not kept either
    assert await cache_control(http, courses_url, CATALOGUE, token=owner) == "no-store"
    # nor is the draft's absence from a stranger's answer: NOT_FOUND, or a null entity
    assert await cache_control(http, courses_url, COURSE, {"id": draft["id"]}) == "no-store"
    representations = [{"__typename": "Course", "id": draft["id"]}]
    variables = {"representations": representations}
    assert await cache_control(http, courses_url, ENTITIES, variables) == "no-store"
    assert await cache_control(http, courses_url, ENTITIES, variables, owner) == "no-store"


async def test_mutations_and_malformed_requests_are_not_kept(
    http: httpx.AsyncClient, courses_url: str, instructor: Account
) -> None:
    create = 'mutation { createCourse(input: {title: "Made Now"}) { course { id } } }'
    assert await cache_control(http, courses_url, create, token=instructor.access_token) == (
        "no-store"
    )
    assert await cache_control(http, courses_url, "{ courses {") == "no-store"
    response = await http.post(
        f"{courses_url}/graphql", content=b"{", headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.headers["cache-control"] == "no-store"


async def test_user_profiles_are_public_and_their_private_fields_are_not_kept(
    http: httpx.AsyncClient, users_url: str, student: Account
) -> None:
    representations = [{"__typename": "User", "id": student.id}]
    profile = "query($r: [_Any!]!) { _entities(representations: $r) { ... on User { id name } } }"
    assert await cache_control(http, users_url, profile, {"r": representations}) == (
        "max-age=300, public"
    )
    user = "query($id: ID!) { user(id: $id) { id name avatarUrl } }"
    token = student.access_token
    assert await cache_control(http, users_url, user, {"id": student.id}, token) == (
        "max-age=300, private"
    )
    assert await cache_control(http, users_url, "{ me { id email } }", token=token) == "no-store"
    assert await cache_control(http, users_url, "{ me { id name } }", token=token) == "no-store"
