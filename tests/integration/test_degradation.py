"""Graceful degradation: with one subgraph down, a page still shows what the others answer.

Each case serves the checked-in supergraph through a router of its own whose URL for one
subgraph leads to a separate instance of it, started for the case and stopped halfway: the
same query through the same router is complete while the instance runs, and once it is
stopped only the fields that subgraph resolves are null, with an error naming it (the
session's shared subgraphs keep running for every other test).
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from common.infra.ports import free_port
from common.settings import Settings
from tests.accounts import Account
from tests.conftest import serve_router, subgraph_app
from tests.integration.assessments.conftest import CHOICE, ENROLL, assessment, question
from tests.integration.courses.conftest import (
    admin,
    graph,
    instructor,
    published_course,
    student,
)
from tests.support import GraphQLClient, eventually, serve

__all__ = ["admin", "graph", "instructor", "student"]

Path = list[str | int]

COURSE_PAGE = """
query CoursePage($id: ID!) {
  course(id: $id) {
    id title status
    modules { title lessons { id title position } }
    instructor { id name }
    enrollmentCount
    enrollments { totalCount edges { node { progress user { name } } } }
    assessments { title published }
  }
}
"""
DASHBOARD = """
query Dashboard {
  me { id name enrollments { edges { node { status course { title } } } } }
  notifications(first: 5) { totalCount edges { node { title read } } }
  unreadNotificationCount
}
"""
# Where a subgraph's answer sits in each page, as paths into `data` ("*": every list item).
COURSE_PAGE_FIELDS: dict[str, list[tuple[str, ...]]] = {
    "enrollments": [("course", "enrollmentCount"), ("course", "enrollments")],
    "assessments": [("course", "assessments")],
    "users": [("course", "instructor"), ("course", "enrollments", "edges", "*", "node", "user")],
}
DASHBOARD_FIELDS: dict[str, list[tuple[str, ...]]] = {
    "notifications": [("notifications",), ("unreadNotificationCount",)],
    "users": [("me",)],
    "courses": [("me", "enrollments", "edges", "*", "node", "course")],
}


@dataclass
class Pages:
    course_id: str
    instructor: Account
    student: Account


@pytest.fixture
async def pages(
    graph: GraphQLClient, instructor: Account, admin: Account, student: Account
) -> Pages:
    """A published course with a module of two lessons and a published quiz, one learner
    enrolled, and that learner's enrollment confirmation delivered in-app."""
    course = await published_course(graph, instructor, admin, title="Resilient Systems")
    choice = await question(graph, instructor, course["id"], CHOICE)
    await assessment(
        graph, instructor, course["id"], [{"questionId": choice["id"]}], title="Checkpoint"
    )
    await graph.data(ENROLL, {"c": course["id"]}, token=student.access_token)

    async def confirmed() -> bool:
        data = await graph.data(DASHBOARD, token=student.access_token)
        titles = [edge["node"]["title"] for edge in data["notifications"]["edges"]]
        return "You are enrolled in Resilient Systems" in titles

    await eventually(confirmed)
    return Pages(course["id"], instructor, student)


def concrete_paths(data: dict[str, Any], patterns: list[tuple[str, ...]]) -> list[Path]:
    """The response paths these patterns name in `data`."""
    found: list[Path] = []

    def walk(node: Any, pattern: tuple[str, ...], path: Path) -> None:
        if not pattern:
            found.append(path)
        elif pattern[0] == "*":
            for index, item in enumerate(node):
                walk(item, pattern[1:], [*path, index])
        else:
            walk(node[pattern[0]], pattern[1:], [*path, pattern[0]])

    for pattern in patterns:
        walk(data, pattern, [])
    return found


def nulled(data: dict[str, Any], paths: list[Path]) -> dict[str, Any]:
    """`data` with the value at each path replaced by null."""
    result = copy.deepcopy(data)
    for path in paths:
        parent: Any = result
        for part in path[:-1]:
            parent = parent[part]
        parent[path[-1]] = None
    return result


def assert_loses_only(
    complete: dict[str, Any], degraded: dict[str, Any], down: str, fields: list[tuple[str, ...]]
) -> None:
    """The degraded answer is the complete one with `down`'s fields null; every error names
    `down` with a transport code and a path at (or inside) one of those fields, never one the
    other subgraphs answered, and each of those fields has its error."""
    lost = concrete_paths(complete, fields)
    assert degraded["data"] == nulled(complete, lost)
    assert degraded.get("errors"), degraded
    paths = []
    for error in degraded["errors"]:
        assert error["extensions"]["serviceName"] == down, error
        assert error["extensions"]["code"] == "SUBREQUEST_HTTP_ERROR", error
        path = error["path"]
        assert any(path[: len(field)] == field for field in lost), error
        paths.append(path)
    assert all(any(path[: len(field)] == field for path in paths) for field in lost), paths


Answers = tuple[dict[str, Any], dict[str, Any]]
OneDown = Callable[[str, str, dict[str, Any], str], Awaitable[Answers]]


@pytest.fixture
def one_down(http: httpx.AsyncClient, migrated: Settings, subgraph_urls: dict[str, str]) -> OneDown:
    """Runs a query through a router of its own: its data while every subgraph runs, then
    its whole answer once the named subgraph's separate instance has stopped."""

    async def answers(down: str, query: str, variables: dict[str, Any], token: str) -> Answers:
        async with contextlib.AsyncExitStack() as instance:
            app = subgraph_app(down, migrated)
            url = await instance.enter_async_context(serve(app, free_port()))
            async with serve_router({**subgraph_urls, down: url}, migrated) as router_url:
                router = GraphQLClient(http, f"{router_url}/graphql")
                complete = await router.data(query, variables, token=token)
                await instance.aclose()
                return complete, await router.execute(query, variables, token=token)

    return answers


@pytest.mark.parametrize("down", sorted(COURSE_PAGE_FIELDS))
async def test_a_course_page_loses_only_what_the_stopped_subgraph_answers(
    one_down: OneDown, pages: Pages, down: str
) -> None:
    variables = {"id": pages.course_id}
    complete, degraded = await one_down(down, COURSE_PAGE, variables, pages.instructor.access_token)
    course = complete["course"]
    assert course["title"] == "Resilient Systems"
    assert [lesson["title"] for lesson in course["modules"][0]["lessons"]] == [
        "Lesson 1",
        "Lesson 2",
    ]
    assert course["instructor"] == {"id": pages.instructor.id, "name": "Ines Instructor"}
    assert course["enrollmentCount"] == 1
    assert course["enrollments"]["edges"][0]["node"]["user"] == {"name": "Stu Student"}
    assert course["assessments"] == [{"title": "Checkpoint", "published": True}]
    assert_loses_only(complete, degraded, down, COURSE_PAGE_FIELDS[down])


@pytest.mark.parametrize("down", sorted(DASHBOARD_FIELDS))
async def test_a_dashboard_loses_only_what_the_stopped_subgraph_answers(
    one_down: OneDown, pages: Pages, down: str
) -> None:
    complete, degraded = await one_down(down, DASHBOARD, {}, pages.student.access_token)
    assert complete["me"]["name"] == "Stu Student"
    assert complete["me"]["enrollments"]["edges"] == [
        {"node": {"status": "ACTIVE", "course": {"title": "Resilient Systems"}}}
    ]
    assert complete["notifications"]["totalCount"] >= 1
    assert complete["unreadNotificationCount"] >= 1
    assert_loses_only(complete, degraded, down, DASHBOARD_FIELDS[down])
