"""A learner's progress and grades over time, a course's questions (item analysis) and its
cohorts compared, through the router, from what learners really did (enrolments, a lesson
completed, a graded quiz, cohorts assigned) and who may read them."""

from __future__ import annotations

import statistics
from typing import Any

import pytest

from common.settings import Settings
from tests.accounts import Account, account_with_roles, register
from tests.integration.analytics.conftest import ENROLL
from tests.integration.assessments.conftest import CHOICE, TRUE_FALSE, assessment, question, start
from tests.integration.courses.conftest import published_course
from tests.support import GraphQLClient, error_codes, eventually

SUBMIT = """
mutation($id: ID!, $answers: [AnswerInput!]!) {
  submitAttempt(input: {attemptId: $id, answers: $answers}) { attempt { status percent } }
}
"""
COMPLETE = """
mutation($c: ID!, $l: ID!) {
  markLessonComplete(input: {courseId: $c, lessonId: $l}) { enrollment { progress } }
}
"""
COHORT = """
mutation($c: ID!) {
  createCohort(input: {courseId: $c, name: "Morning", startsOn: "2026-01-05",
                       endsOn: "2026-12-18"}) { cohort { id } }
}
"""
ASSIGN = """
mutation($c: ID!, $ids: [ID!]!) {
  assignToCohort(input: {cohortId: $c, enrollmentIds: $ids}) { enrollments { id } }
}
"""
PROGRESS = """
query($u: ID!, $c: ID!, $days: Int) {
  user(id: $u) {
    learningProgress(courseId: $c, days: $days) {
      lessons
      days { day lessonsCompleted shareOfLessons progress }
      grades { attemptId assessment { id } gradedAt score passed }
    }
  }
}
"""
COURSE = """
query($c: ID!, $a: ID, $weeks: Int, $period: AnalyticsPeriod) {
  course(id: $c) {
    learningAnalytics {
      items(assessmentId: $a, weeks: $weeks, period: $period) {
        assessment { id } questionId answers meanScore shareCorrect difficulty discrimination
        periods { start answers meanScore shareCorrect }
      }
      cohorts {
        cohort { id name } learners activeLastWeek meanProgress meanScore completions
      }
    }
  }
}
"""


@pytest.fixture(scope="module")
async def quizzed(users: GraphQLClient, migrated: Settings) -> dict[str, Any]:
    """A published course with a two-question quiz (2 points and 1) taken by three learners
    (all right; only the first right; none right), the first of whom completed a lesson,
    the first two in the cohort "Morning"."""
    graph = users
    teaching = ["INSTRUCTOR", "STUDENT"]
    instructor = await account_with_roles(graph, migrated, teaching, "Ivo Itemised")
    admin = await account_with_roles(graph, migrated, ["ADMIN", "STUDENT"], "Ada Analyst")
    course = await published_course(graph, instructor, admin, "Measured Course", lessons=2)
    student = await register(graph, name="Top Tia")
    learners = [student, await register(graph, name="Middling Mo"), await register(graph)]
    enrollments = [
        (await graph.data(ENROLL, {"c": course["id"]}, token=learner.access_token))["enroll"][
            "enrollment"
        ]["id"]
        for learner in learners
    ]
    completed = await graph.data(
        COMPLETE, {"c": course["id"], "l": course["lessons"][0]["id"]}, token=student.access_token
    )
    choice = await question(graph, instructor, course["id"], CHOICE)
    true_false = await question(graph, instructor, course["id"], TRUE_FALSE)
    quiz = await assessment(
        graph,
        instructor,
        course["id"],
        [{"questionId": choice["id"]}, {"questionId": true_false["id"]}],
        passingScore=60,
    )
    right = next(c["id"] for c in choice["choices"] if c["text"] == "def")
    wrong = next(c["id"] for c in choice["choices"] if c["text"] != "def")
    answers = [(right, True), (right, False), (wrong, False)]
    for learner, (picked, boolean) in zip(learners, answers, strict=True):
        attempt = await start(graph, learner, quiz["id"])
        submitted = await graph.data(
            SUBMIT,
            {
                "id": attempt["id"],
                "answers": [
                    {"questionId": choice["id"], "choiceIds": [picked]},
                    {"questionId": true_false["id"], "booleanValue": boolean},
                ],
            },
            token=learner.access_token,
        )
        assert submitted["submitAttempt"]["attempt"]["status"] == "GRADED"
    cohort = await graph.data(COHORT, {"c": course["id"]}, token=instructor.access_token)
    cohort_id = cohort["createCohort"]["cohort"]["id"]
    await graph.data(
        ASSIGN, {"c": cohort_id, "ids": enrollments[:2]}, token=instructor.access_token
    )
    return {
        "instructor": instructor,
        "admin": admin,
        "course": course,
        "learners": learners,
        "quiz": quiz["id"],
        "choice": choice["id"],
        "true_false": true_false["id"],
        "cohort": cohort_id,
        "progress": completed["markLessonComplete"]["enrollment"]["progress"],
    }


async def test_progress_grades_items_and_cohorts_follow_what_learners_did(
    graph: GraphQLClient, quizzed: dict[str, Any]
) -> None:
    instructor: Account = quizzed["instructor"]
    course_id, learners = quizzed["course"]["id"], quizzed["learners"]

    async def counted() -> Any:  # the events reach analytics through the worker
        data = await graph.data(COURSE, {"c": course_id}, token=instructor.access_token)
        analytics = data["course"]["learningAnalytics"]
        cohorts = analytics["cohorts"]
        items = analytics["items"]
        ready = (
            len(items) == 2
            and all(item["answers"] == 3 for item in items)
            and len(cohorts) == 2
            and cohorts[0]["learners"] == 2
        )
        return analytics if ready else None

    analytics = await eventually(counted, within=20)
    totals = [1.0, 2 / 3, 0.0]  # each learner's scaled score
    by_question = {item["questionId"]: item for item in analytics["items"]}
    for question_id, correct in (
        (quizzed["choice"], [1, 1, 0]),
        (quizzed["true_false"], [1, 0, 0]),
    ):
        item = by_question[question_id]
        assert item["assessment"]["id"] == quizzed["quiz"]
        share = round(sum(correct) / 3, 4)
        assert (item["shareCorrect"], item["difficulty"], item["meanScore"]) == (share,) * 3
        expected = statistics.correlation(correct, totals)  # point-biserial is Pearson's r
        assert item["discrimination"] == pytest.approx(expected, abs=1e-3)
        [week] = item["periods"]
        assert (week["answers"], week["shareCorrect"]) == (3, share)

    morning, unassigned = analytics["cohorts"]
    assert morning["cohort"] == {"id": quizzed["cohort"], "name": "Morning"}
    assert (morning["learners"], morning["activeLastWeek"], morning["completions"]) == (2, 2, 0)
    assert morning["meanScore"] == pytest.approx((1.0 + 2 / 3) / 2, abs=1e-3)
    assert morning["meanProgress"] == pytest.approx(quizzed["progress"] / 100 / 2, abs=1e-3)
    assert unassigned["cohort"] is None
    assert (unassigned["learners"], unassigned["meanScore"], unassigned["meanProgress"]) == (
        1,
        0.0,
        0.0,
    )

    one = await graph.data(
        COURSE,
        {"c": course_id, "a": quizzed["quiz"], "period": "MONTH", "weeks": 4},
        token=instructor.access_token,
    )
    assert len(one["course"]["learningAnalytics"]["items"]) == 2
    other = await graph.data(
        COURSE, {"c": course_id, "a": quizzed["course"]["id"]}, token=instructor.access_token
    )
    assert other["course"]["learningAnalytics"]["items"] == []  # no such assessment here

    # The first learner's progress and grades: themself, and the course's instructor.
    for caller in (learners[0], instructor):
        body = await graph.execute(
            PROGRESS, {"u": learners[0].id, "c": course_id}, token=caller.access_token
        )
        assert "errors" not in body, body
        progress = body["data"]["user"]["learningProgress"]
        assert progress["lessons"] == 2
        [today] = progress["days"]
        assert (today["lessonsCompleted"], today["shareOfLessons"]) == (1, 0.5)
        assert today["progress"] == pytest.approx(quizzed["progress"] / 100)  # 0..1
        [grade] = progress["grades"]
        assert grade["assessment"]["id"] == quizzed["quiz"]
        assert (grade["score"], grade["passed"]) == (1.0, True)
    body = await graph.execute(
        PROGRESS, {"u": learners[2].id, "c": course_id}, token=learners[2].access_token
    )
    progress = body["data"]["user"]["learningProgress"]
    assert progress["days"] == []  # enrolled, nothing completed
    assert [(g["score"], g["passed"]) for g in progress["grades"]] == [(0.0, False)]


async def test_only_the_learner_their_instructors_and_admins_read_these_analytics(
    graph: GraphQLClient, other_instructor: Account, quizzed: dict[str, Any]
) -> None:
    instructor: Account = quizzed["instructor"]
    admin: Account = quizzed["admin"]
    course_id, learners = quizzed["course"]["id"], quizzed["learners"]
    mine = {"u": learners[0].id, "c": course_id}
    for caller in (learners[1], other_instructor):  # a classmate; an instructor of another
        body = await graph.execute(PROGRESS, mine, token=caller.access_token)
        assert error_codes(body) == ["FORBIDDEN"], body
        body = await graph.execute(COURSE, {"c": course_id}, token=caller.access_token)
        assert error_codes(body) == ["FORBIDDEN"], body
    assert error_codes(await graph.execute(PROGRESS, mine)) == ["UNAUTHENTICATED"]
    assert error_codes(await graph.execute(COURSE, {"c": course_id})) == ["UNAUTHENTICATED"]
    by_admin = await graph.execute(PROGRESS, mine, token=admin.access_token)
    assert len(by_admin["data"]["user"]["learningProgress"]["grades"]) == 1

    bad_course: list[tuple[dict[str, Any], str]] = [
        ({"weeks": 0}, "BAD_USER_INPUT"),
        ({"weeks": 105}, "BAD_USER_INPUT"),
        ({"a": "not-an-id"}, "BAD_USER_INPUT"),
        ({"period": "DECADE"}, "BAD_USER_INPUT"),  # variables of the wrong type
        ({"weeks": "ten"}, "BAD_USER_INPUT"),
    ]
    for arguments, code in bad_course:
        body = await graph.execute(
            COURSE, {"c": course_id, **arguments}, token=instructor.access_token
        )
        assert error_codes(body) == [code], (arguments, body)
    bad_learner: list[tuple[dict[str, Any], str]] = [
        ({"days": 0}, "BAD_USER_INPUT"),
        ({"days": 10_000}, "BAD_USER_INPUT"),
        ({"c": "nope"}, "BAD_USER_INPUT"),
        ({"c": learners[0].id}, "NOT_FOUND"),  # no course has that id
        ({"u": "nope"}, "BAD_USER_INPUT"),
    ]
    for arguments, code in bad_learner:
        body = await graph.execute(PROGRESS, {**mine, **arguments}, token=admin.access_token)
        assert error_codes(body) == [code], (arguments, body)
    missing = await graph.execute(PROGRESS, {"u": learners[0].id}, token=admin.access_token)
    assert error_codes(missing) == ["BAD_USER_INPUT"]  # courseId is required
    unbounded = "query($u: ID!) { user(id: $u) { learningProgress { lessons } } }"
    body = await graph.execute(unbounded, {"u": learners[0].id}, token=admin.access_token)
    assert error_codes(body) == ["GRAPHQL_VALIDATION_FAILED"]
