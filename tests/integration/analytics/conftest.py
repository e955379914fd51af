"""The analytics tests reuse the courses tests' accounts and course builders."""

from __future__ import annotations

from typing import Any

from tests.accounts import Account
from tests.integration.courses.conftest import (
    admin,
    graph,
    instructor,
    other_instructor,
    published_course,
    student,
)
from tests.support import GraphQLClient

__all__ = ["admin", "graph", "instructor", "other_instructor", "student"]

ENROLL = "mutation($c: ID!) { enroll(input: {courseId: $c}) { enrollment { id } } }"
RECORD = """
mutation($input: RecordActivityInput!) {
  recordActivity(input: $input) {
    duplicate
    statement { id verb objectType duration progress timestamp xapi }
  }
}
"""


async def course_with_learners(
    graph: GraphQLClient, teacher: Account, admin: Account, learners: list[Account], title: str
) -> dict[str, Any]:
    """A published course of two lessons, each learner enrolled."""
    course = await published_course(graph, teacher, admin, title, lessons=2)
    for learner in learners:
        await graph.data(ENROLL, {"c": course["id"]}, token=learner.access_token)
    return course


async def record(graph: GraphQLClient, learner: Account, **fields: Any) -> dict[str, Any]:
    """recordActivity's whole answer (data and errors)."""
    return await graph.execute(RECORD, {"input": fields}, token=learner.access_token)
