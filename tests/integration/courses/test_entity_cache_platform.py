"""The router's entity cache on the platform itself: the subgraphs' hints decide what is kept
and for whom, and a change made through the graph reaches every router's cache through the
domain events (outbox -> RabbitMQ -> the worker's invalidation publisher -> Redis)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from common.db import create_engine, service_dsn
from common.infra.redis import RedisServer
from common.settings import Settings
from tests.accounts import Account
from tests.conftest import serve_router
from tests.integration.courses.conftest import create_course, published_course
from tests.support import GraphQLClient, eventually

COURSE = "query($id: ID!) { course(id: $id) { title } }"  # its key not asked for
CATALOGUE = "{ courses(first: 100) { edges { node { id title } } } }"
UPDATE_COURSE = """
mutation($input: UpdateCourseInput!) { updateCourse(input: $input) { course { id version } } }
"""
VERSION = "query($id: ID!) { course(id: $id) { version } }"


@pytest.fixture
async def cached_router(
    subgraph_urls: dict[str, str], migrated: Settings, redis_server: RedisServer
) -> AsyncIterator[str]:
    """A router with the entity cache on, sharing the session's Redis (as router.yaml runs it)."""
    cache = {
        "enabled": True,
        "subgraph": {"all": {"redis": {"urls": [redis_server.url], "namespace": "platform"}}},
    }
    async with serve_router(
        subgraph_urls, migrated, sections={"preview_entity_cache": cache}
    ) as url:
        yield url


async def ask(
    http: httpx.AsyncClient,
    router: str,
    query: str,
    variables: dict[str, Any] | None = None,
    token: str | None = None,
) -> tuple[dict[str, Any], str]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await http.post(
        f"{router}/graphql", json={"query": query, "variables": variables or {}}, headers=headers
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    return body["data"], response.headers.get("cache-control", "")


async def rename_behind_the_graphs_back(settings: Settings, course_id: str, title: str) -> None:
    """A change no event announces: what a cached answer would not show."""
    engine = create_engine(service_dsn(settings, "courses"), pool_size=1)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                text("UPDATE courses.courses SET title = :title WHERE id = :id"),
                {"title": title, "id": course_id},
            )
    finally:
        await engine.dispose()


async def test_a_course_is_served_from_the_cache_until_a_change_invalidates_it(
    graph: GraphQLClient,
    http: httpx.AsyncClient,
    cached_router: str,
    router_url: str,
    migrated: Settings,
    instructor: Account,
    admin: Account,
) -> None:
    course = await published_course(graph, instructor, admin, "Cached Everywhere")
    variables = {"id": course["id"]}
    first, policy = await ask(http, cached_router, COURSE, variables)
    assert first["course"]["title"] == "Cached Everywhere"
    assert policy == "max-age=300, public"

    await rename_behind_the_graphs_back(migrated, course["id"], "Renamed Quietly")
    # the router without a cache sees the row; the cached one answers what it kept
    assert (await ask(http, router_url, COURSE, variables))[0]["course"]["title"] == (
        "Renamed Quietly"
    )
    assert (await ask(http, cached_router, COURSE, variables))[0] == first

    token = instructor.access_token
    version = (await graph.data(VERSION, variables, token=token))["course"]["version"]
    update = {"id": course["id"], "version": version, "title": "Renamed Through The Graph"}
    await graph.data(UPDATE_COURSE, {"input": update}, token=token)

    async def renamed() -> bool:
        data, _ = await ask(http, cached_router, COURSE, variables)
        return bool(data["course"]["title"] == "Renamed Through The Graph")

    await eventually(renamed)


async def test_a_shared_catalogue_never_hides_an_instructors_drafts(
    graph: GraphQLClient,
    http: httpx.AsyncClient,
    cached_router: str,
    instructor: Account,
    admin: Account,
    student: Account,
) -> None:
    await published_course(graph, instructor, admin, "Open To All")
    _, policy = await ask(http, cached_router, CATALOGUE)
    assert policy == "max-age=300, public"  # kept for every anonymous visitor
    draft = await create_course(graph, instructor, "Drafted After The Catalogue Was Kept")

    def titles(data: dict[str, Any]) -> set[str]:
        return {edge["node"]["title"] for edge in data["courses"]["edges"]}

    mine, policy = await ask(http, cached_router, CATALOGUE, token=instructor.access_token)
    assert draft["title"] in titles(mine)
    assert policy == "no-store"  # a list holding a draft is kept by no one
    # a learner signed in has a list of their own, never the instructor's
    theirs, policy = await ask(http, cached_router, CATALOGUE, token=student.access_token)
    assert draft["title"] not in titles(theirs)
    assert policy == "max-age=300, private"
    again, _ = await ask(http, cached_router, CATALOGUE)
    assert draft["title"] not in titles(again)
