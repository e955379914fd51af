"""DataLoaders everywhere a list meets a reference: SQL statements do not grow with the list."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from tests.accounts import Account
from tests.integration.courses.conftest import create_course
from tests.support import GraphQLClient

CATALOGUE = """
query($f: CourseFilterInput, $first: Int) {
  courses(filter: $f, first: $first) {
    edges { node { title tags instructor { name } coInstructors { name } category { name }
                   enrollmentCount modules { lessons { title } }
                   assessments { title questionCount attemptsRemaining } } }
  }
}
"""
CREATE_ASSESSMENT = """
mutation($input: AssessmentInput!) { createAssessment(input: $input) { assessment { id } } }
"""
STATEMENTS = re.compile(r'^lms_db_statements_total\{service="(\w+)"\} ([0-9.e+]+)$', re.M)


async def statements(http: httpx.AsyncClient, url: str) -> dict[str, float]:
    text = (await http.get(f"{url}/metrics")).text
    return {service: float(value) for service, value in STATEMENTS.findall(text)}


async def fewest_statements(
    http: httpx.AsyncClient, url: str, ask: Callable[[], Awaitable[object]]
) -> dict[str, float]:
    """The statements each service sent to answer `ask`.

    The counters are the process's, and the outbox relays, event consumers and job loops
    running beside the subgraphs send statements of their own at moments of their choosing.
    They can only add to a count, so the fewest seen in three askings is the query's own; an
    N+1 shows in every asking."""
    counts: list[dict[str, float]] = []
    for _ in range(3):
        before = await statements(http, url)
        await ask()
        after = await statements(http, url)
        counts.append({service: after[service] - before.get(service, 0.0) for service in after})
    return {service: min(count[service] for count in counts) for service in counts[0]}


async def count_for(
    graph: GraphQLClient, http: httpx.AsyncClient, url: str, owner: Account, first: int
) -> dict[str, float]:
    """The statements each service sent to answer the catalogue's first `first` courses."""

    async def ask() -> None:
        data: dict[str, Any] = await graph.data(
            CATALOGUE, {"f": {"instructorId": owner.id}, "first": first}, token=owner.access_token
        )
        assert len(data["courses"]["edges"]) == first

    return await fewest_statements(http, url, ask)


async def test_statements_stay_flat_from_10_to_100_courses(
    graph: GraphQLClient,
    http: httpx.AsyncClient,
    subgraph_urls: dict[str, str],
    instructor: Account,
    other_instructor: Account,
) -> None:
    for index in range(100):
        course = await create_course(
            graph,
            instructor,
            f"Bulk Course {index:03}",
            tags=["bulk", f"t{index % 7}"],
            coInstructorIds=[other_instructor.id],
        )
        await graph.data(
            CREATE_ASSESSMENT,
            {
                "input": {
                    "courseId": course["id"],
                    "title": f"Quiz {index}",
                    "kind": "QUIZ",
                    "attemptsAllowed": 2,
                }
            },
            token=instructor.access_token,
        )
    url = subgraph_urls["courses"]
    small = await count_for(graph, http, url, instructor, 10)
    large = await count_for(graph, http, url, instructor, 100)
    for service in ("users", "courses", "enrollments", "assessments"):
        assert large[service] == small[service], (service, small, large)
    assert small["courses"] <= 6  # count, page, modules, lessons, categories: not per course
