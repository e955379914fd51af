"""A learner's recommendations through the router: from what learners with the same courses
took (and completed), and from courses like theirs; never what they took, nor a draft or
an archived course; the most taken courses for a new learner; who may ask."""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

from tests.accounts import Account, register
from tests.integration.analytics.conftest import ENROLL
from tests.integration.courses.conftest import create_course, published_course
from tests.support import GraphQLClient, error_codes, eventually

RECOMMENDATIONS = """
query($u: ID!, $first: Int) {
  user(id: $u) { recommendations(first: $first) { score reasons course { id title status } } }
}
"""
COMPLETE = """
mutation($c: ID!, $l: ID!) {
  markLessonComplete(input: {courseId: $c, lessonId: $l}) { enrollment { status } }
}
"""
SIMILAR = """
query($ids: [ID!]!, $first: Int) {
  similarCourses(courseIds: $ids, first: $first) { sourceId similarity course { id status } }
}
"""
ARCHIVE = "mutation($id: ID!) { archiveCourse(input: {id: $id}) { course { status } } }"
CREATE_PATH = """
mutation($title: String!, $courses: [LearningPathCourseInput!]!) {
  createLearningPath(input: {title: $title, courses: $courses}) { learningPath { id } }
}
"""
PATHS = """
query($u: ID!, $first: Int) {
  user(id: $u) {
    recommendedLearningPaths(first: $first) { score reasons learningPath { id title } }
  }
}
"""


async def recommendations(
    graph: GraphQLClient, caller: Account | None, user_id: str, first: Any = 10
) -> dict[str, Any]:
    token = caller.access_token if caller else None
    return await graph.execute(RECOMMENDATIONS, {"u": user_id, "first": first}, token=token)


def items(body: dict[str, Any]) -> list[dict[str, Any]]:
    assert "errors" not in body, body
    found: list[dict[str, Any]] = body["data"]["user"]["recommendations"]
    return found


async def test_recommendations_follow_co_enrollment_and_content_and_leave_out_taken_and_hidden(
    graph: GraphQLClient, instructor: Account, admin: Account, student: Account
) -> None:
    tag = uuid.uuid4().hex[:6]

    async def course(title: str, description: str) -> dict[str, Any]:
        return await published_course(
            graph, instructor, admin, f"{title} {tag}", lessons=2, description=description
        )

    about_pandas = "Data analysis with pandas: data frames, grouping, joins and pivot tables."
    basics = await course("Python Basics", "Variables, loops and functions for beginners.")
    pandas = await course("Data Analysis with Pandas", about_pandas)
    learning = await course("Machine Learning Foundations", "Regression and classification.")
    retired = await course("Retired Statistics Course", "Means, medians and variance.")
    workshop = await course("Pandas Data Analysis Workshop", about_pandas)
    draft = await create_course(graph, instructor, f"Advanced Data Analysis with Pandas {tag}")
    peers = [await register(graph, name=f"Peer {index}") for index in range(3)]
    for peer in peers:
        for taken in (basics, learning, retired):
            await graph.data(ENROLL, {"c": taken["id"]}, token=peer.access_token)
    for peer in peers[:2]:  # they completed Python Basics, then took Machine Learning
        for lesson in basics["lessons"]:
            await graph.data(
                COMPLETE, {"c": basics["id"], "l": lesson["id"]}, token=peer.access_token
            )
    await graph.data(ARCHIVE, {"id": retired["id"]}, token=instructor.access_token)
    for taken in (basics, pandas):
        await graph.data(ENROLL, {"c": taken["id"]}, token=student.access_token)

    async def recommended() -> dict[str, dict[str, Any]] | None:
        found = {
            item["course"]["id"]: item
            for item in items(await recommendations(graph, student, student.id, first=50))
        }
        # once both enrollments have reached analytics (events are asynchronous)
        arrived = {basics["id"], pandas["id"]}.isdisjoint(found)
        return found if arrived and {learning["id"], workshop["id"]} <= found.keys() else None

    found = await eventually(recommended, within=30)
    assert found[learning["id"]]["reasons"][0] == (
        f"Learners who completed Python Basics {tag} also took this"
    )
    assert f"Similar to Data Analysis with Pandas {tag}" in found[workshop["id"]]["reasons"]
    for hidden in (basics, pandas, retired, draft):  # taken, archived, a draft
        assert hidden["id"] not in found
    assert {item["course"]["status"] for item in found.values()} == {"PUBLISHED"}
    assert all(item["reasons"] for item in found.values())
    ordered = list(found.values())
    assert [item["score"] for item in ordered] == sorted(
        (item["score"] for item in ordered), reverse=True
    )
    # an administrator sees the same
    by_admin = items(await recommendations(graph, admin, student.id, first=50))
    assert [item["course"]["id"] for item in by_admin] == list(found)

    # What the courses subgraph answers about content, to anyone: published courses only.
    similar = await graph.execute(SIMILAR, {"ids": [pandas["id"], draft["id"]], "first": 50})
    assert "errors" not in similar, similar
    alike = similar["data"]["similarCourses"]
    assert {item["sourceId"] for item in alike} == {pandas["id"]}  # the draft is not told
    assert workshop["id"] in [item["course"]["id"] for item in alike]
    assert {item["course"]["status"] for item in alike} == {"PUBLISHED"}
    assert draft["id"] not in [item["course"]["id"] for item in alike]
    scores = [item["similarity"] for item in alike]
    assert scores == sorted(scores, reverse=True)
    for ids, first in (([], 10), ([pandas["id"]] * 51, 10), ([pandas["id"]], 0), (["x"], 10)):
        refused = await graph.execute(SIMILAR, {"ids": ids, "first": first})
        assert error_codes(refused) == ["BAD_USER_INPUT"], (len(ids), first, refused)

    # Learning paths: the one leading on from Python Basics, not the one all taken.
    async def path(title: str, *courses: dict[str, Any]) -> str:
        steps = [{"courseId": step["id"]} for step in courses]
        data = await graph.data(
            CREATE_PATH,
            {"title": f"{title} {tag}", "courses": steps},
            token=instructor.access_token,
        )
        path_id: str = data["createLearningPath"]["learningPath"]["id"]
        return path_id

    onward = await path("Data Track", basics, learning, workshop)
    finished = await path("Done Track", basics, pandas)
    body = await graph.execute(PATHS, {"u": student.id, "first": 20}, token=student.access_token)
    assert "errors" not in body, body
    paths = {
        item["learningPath"]["id"]: item
        for item in body["data"]["user"]["recommendedLearningPaths"]
    }
    assert finished not in paths
    first_reason, then = paths[onward]["reasons"]
    assert first_reason == f"You took Python Basics {tag} of this path"
    assert then.startswith("Leads to ")
    assert then.endswith(", recommended for you")
    assert paths[onward]["learningPath"]["title"] == f"Data Track {tag}"
    other = await graph.execute(PATHS, {"u": student.id}, token=instructor.access_token)
    assert error_codes(other) == ["FORBIDDEN"]
    too_many = await graph.execute(
        PATHS, {"u": student.id, "first": 21}, token=student.access_token
    )
    assert error_codes(too_many) == ["BAD_USER_INPUT"]

    # A new learner: the most taken courses, said so; Python Basics has four learners.
    newcomer = await register(graph, name="New Nell")
    cold = items(await recommendations(graph, newcomer, newcomer.id, first=50))
    assert basics["id"] in [item["course"]["id"] for item in cold]
    assert {tuple(item["reasons"]) for item in cold} == {("Popular with learners",)}
    assert retired["id"] not in [item["course"]["id"] for item in cold]


async def test_only_the_learner_and_admins_see_recommendations_and_first_is_bounded(
    graph: GraphQLClient, instructor: Account, student: Account
) -> None:
    classmate = await register(graph, name="Nosy Nora")
    for caller in (classmate, instructor):
        body = await recommendations(graph, caller, student.id)
        assert error_codes(body) == ["FORBIDDEN"], body
    assert error_codes(await recommendations(graph, None, student.id)) == ["UNAUTHENTICATED"]
    forged = dataclasses.replace(student, access_token="not.a.token")
    assert error_codes(await recommendations(graph, forged, student.id)) == ["UNAUTHENTICATED"]
    for first in (0, -1, 51, 1000):
        body = await recommendations(graph, student, student.id, first=first)
        assert error_codes(body) == ["BAD_USER_INPUT"], (first, body)
        assert "first must be from 1 to 50" in body["errors"][0]["message"]
    wrong_type = await recommendations(graph, student, student.id, first="ten")
    assert error_codes(wrong_type) == ["BAD_USER_INPUT"], wrong_type
    literal = await graph.execute(
        f'{{ user(id: "{student.id}") {{ recommendations(first: "ten") {{ score }} }} }}',
        token=student.access_token,
    )
    assert error_codes(literal) == ["GRAPHQL_VALIDATION_FAILED"], literal
