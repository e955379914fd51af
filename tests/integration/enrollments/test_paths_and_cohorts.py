"""Learning paths with prerequisites, cohorts and analytics, through the router."""

from __future__ import annotations

from tests.accounts import Account, register
from tests.integration.courses.conftest import published_course
from tests.integration.enrollments.test_enrollments import COMPLETE, ENROLL, enroll
from tests.support import GraphQLClient, error_codes

CREATE_PATH = """
mutation($input: CreateLearningPathInput!) {
  createLearningPath(input: $input) { learningPath { id title courses { position course { title } prerequisites { id } } } }
}
"""


async def test_prerequisites_gate_enrollment_and_path_progress_counts(
    graph: GraphQLClient,
    instructor: Account,
    other_instructor: Account,
    admin: Account,
    student: Account,
) -> None:
    basics = await published_course(graph, instructor, admin, "Path Basics", lessons=1)
    advanced = await published_course(graph, instructor, admin, "Path Advanced", lessons=1)
    steps = [
        {"courseId": basics["id"]},
        {"courseId": advanced["id"], "prerequisiteIds": [basics["id"]]},
    ]
    stolen = await graph.execute(
        CREATE_PATH,
        {"input": {"title": "Not Mine", "courses": steps}},
        token=other_instructor.access_token,
    )
    assert error_codes(stolen) == ["FORBIDDEN"]  # may not gate someone else's course
    backwards = await graph.execute(
        CREATE_PATH,
        {"input": {"title": "Backwards", "courses": list(reversed(steps))}},
        token=instructor.access_token,
    )
    assert error_codes(backwards) == ["BAD_USER_INPUT"]
    by_student = await graph.execute(
        CREATE_PATH, {"input": {"title": "Mine", "courses": steps[:1]}}, token=student.access_token
    )
    assert error_codes(by_student) == ["FORBIDDEN"]
    created = await graph.data(
        CREATE_PATH,
        {"input": {"title": "Data Path", "courses": steps}},
        token=instructor.access_token,
    )
    path = created["createLearningPath"]["learningPath"]
    assert [c["course"]["title"] for c in path["courses"]] == ["Path Basics", "Path Advanced"]
    early = await graph.execute(ENROLL, {"c": advanced["id"]}, token=student.access_token)
    assert error_codes(early) == ["FORBIDDEN"]
    assert basics["id"] in early["errors"][0]["message"]
    await enroll(graph, student, basics["id"])
    await graph.data(
        COMPLETE, {"c": basics["id"], "l": basics["lessons"][0]["id"]}, token=student.access_token
    )
    progress = await graph.data(
        "query($id: ID!) { learningPath(id: $id) { progress courses { completed } } }",
        {"id": path["id"]},
        token=student.access_token,
    )
    assert progress["learningPath"]["progress"] == 50.0
    assert [c["completed"] for c in progress["learningPath"]["courses"]] == [True, False]
    await enroll(graph, student, advanced["id"])


async def test_cohorts_and_analytics(
    graph: GraphQLClient, instructor: Account, admin: Account, student: Account
) -> None:
    course = await published_course(graph, instructor, admin, "Analysed Course", lessons=2)
    learners = [student, *[await register(graph, name=f"Cohort {i}") for i in range(3)]]
    enrollments = [await enroll(graph, learner, course["id"]) for learner in learners]
    for lesson in course["lessons"]:
        await graph.data(
            COMPLETE, {"c": course["id"], "l": lesson["id"]}, token=learners[0].access_token
        )
    await graph.data(
        COMPLETE,
        {"c": course["id"], "l": course["lessons"][0]["id"]},
        token=learners[1].access_token,
    )
    await graph.data(
        "mutation($id: ID!) { dropEnrollment(input: {id: $id}) { enrollment { id } } }",
        {"id": enrollments[3]["id"]},
        token=learners[3].access_token,
    )
    cohort = await graph.data(
        'mutation($c: ID!) { createCohort(input: {courseId: $c, name: "Spring 2027", '
        'startsOn: "2027-03-01", endsOn: "2027-06-01"}) { cohort { id name } } }',
        {"c": course["id"]},
        token=instructor.access_token,
    )
    cohort_id = cohort["createCohort"]["cohort"]["id"]
    backwards = await graph.execute(
        'mutation($c: ID!) { createCohort(input: {courseId: $c, name: "Backwards", '
        'startsOn: "2027-06-01", endsOn: "2027-03-01"}) { cohort { id } } }',
        {"c": course["id"]},
        token=instructor.access_token,
    )
    assert error_codes(backwards) == ["BAD_USER_INPUT"]
    await graph.data(
        "mutation($c: ID!, $ids: [ID!]!) { assignToCohort(input: {cohortId: $c, enrollmentIds: $ids}) "
        "{ enrollments { cohort { name } } } }",
        {"c": cohort_id, "ids": [enrollments[0]["id"], enrollments[1]["id"]]},
        token=instructor.access_token,
    )
    query = """
    query($c: ID!, $k: ID) { courseAnalytics(courseId: $c, cohortId: $k) {
      enrolled active completed dropped completionRate averageProgress medianDaysToComplete } }
    """
    whole = await graph.data(query, {"c": course["id"]}, token=instructor.access_token)
    figures = whole["courseAnalytics"]
    assert (figures["enrolled"], figures["active"], figures["completed"], figures["dropped"]) == (
        4,
        2,
        1,
        1,
    )
    assert figures["completionRate"] == round(1 / 3, 4)
    assert figures["averageProgress"] == 37.5
    assert figures["medianDaysToComplete"] is not None
    cohort_figures = await graph.data(
        query, {"c": course["id"], "k": cohort_id}, token=instructor.access_token
    )
    assert cohort_figures["courseAnalytics"]["enrolled"] == 2
    assert cohort_figures["courseAnalytics"]["averageProgress"] == 75.0
    nosy = await graph.execute(query, {"c": course["id"]}, token=student.access_token)
    assert error_codes(nosy) == ["FORBIDDEN"]
