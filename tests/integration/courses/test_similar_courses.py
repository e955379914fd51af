"""`similarCourses` through the router while the catalogue moves: the candidates are weighed
once and kept (subgraphs/courses/similar_index.py), yet a course edited, archived or newly
published shows in the next answer."""

from __future__ import annotations

import uuid
from typing import Any

from tests.accounts import Account
from tests.integration.courses.conftest import published_course
from tests.support import GraphQLClient, eventually

SIMILAR = """
query($ids: [ID!]!) {
  similarCourses(courseIds: $ids, first: 50) { similarity course { id title status } }
}
"""
VERSION = "query($id: ID!) { course(id: $id) { version } }"
UPDATE = """
mutation($input: UpdateCourseInput!) { updateCourse(input: $input) { course { title } } }
"""
ARCHIVE = "mutation($id: ID!) { archiveCourse(input: {id: $id}) { course { status } } }"


async def test_similar_courses_follow_the_catalogue_at_once(
    graph: GraphQLClient, instructor: Account, admin: Account
) -> None:
    tag = uuid.uuid4().hex[:8]
    about = f"Beekeeping {tag}: hives, queens, swarms, smokers and the honey harvest."

    async def course(title: str) -> dict[str, Any]:
        return await published_course(
            graph, instructor, admin, f"{title} {tag}", lessons=1, description=about
        )

    source, alike = await course("Beekeeping"), await course("Beekeeping in Practice")

    async def found() -> dict[str, str]:
        body = await graph.execute(SIMILAR, {"ids": [source["id"]]})
        assert "errors" not in body, body
        items = body["data"]["similarCourses"]
        assert {item["course"]["status"] for item in items} <= {"PUBLISHED"}
        return {item["course"]["id"]: item["course"]["title"] for item in items}

    async def found_with(course_id: str) -> dict[str, str] | None:
        answer = await found()
        return answer if course_id in answer else None

    # with the embedding model installed, a course is a candidate once the courses worker has
    # embedded it: the source may be embedded before its look-alike, which matches nothing yet
    first = await eventually(lambda: found_with(alike["id"]), within=30)
    assert first[alike["id"]] == f"Beekeeping in Practice {tag}"
    assert source["id"] not in first
    assert await found() == first  # asked again: the same, from the kept candidates

    version = (await graph.data(VERSION, {"id": alike["id"]}))["course"]["version"]
    renamed = {"id": alike["id"], "version": version, "title": f"Bees Up Close {tag}"}
    await graph.data(UPDATE, {"input": renamed}, token=instructor.access_token)
    assert (await found())[alike["id"]] == f"Bees Up Close {tag}"

    await graph.data(ARCHIVE, {"id": alike["id"]}, token=instructor.access_token)
    assert alike["id"] not in await found()

    # a course published now is a candidate at once (with the embedding model installed,
    # once the courses worker has embedded it, as before any caching)
    newcomer = await course("Beekeeping for Beginners")
    assert await eventually(lambda: found_with(newcomer["id"]), within=30)
