"""Learning activity through the router: statements from the domain events and from
recordActivity, the learner's and the course's analytics, who may read them, the export."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.accounts import Account, register
from tests.integration.analytics.conftest import ENROLL, course_with_learners, record
from tests.support import GraphQLClient, error_codes, eventually

COMPLETE = """
mutation($c: ID!, $l: ID!) {
  markLessonComplete(input: {courseId: $c, lessonId: $l}) { enrollment { progress } }
}
"""
LEARNER = """
query($u: ID!, $c: ID) {
  user(id: $u) {
    learningActivity(courseId: $c) {
      secondsOnTask timeOnTask currentStreak longestStreak lastActiveOn
      days { start statements views completions secondsOnTask }
    }
  }
}
"""
COURSE = """
query($c: ID!) {
  course(id: $c) {
    learningAnalytics {
      exportUrl
      engagement { start activeLearners statements views completions secondsOnTask }
      lessons { lesson { id } position views completions learnersReached learnersCompleted dropOff }
      inactiveLearners(days: 1) { user { id } }
      gradeDistribution { fromPercent toPercent learners }
    }
  }
}
"""


async def course_analytics(graph: GraphQLClient, caller: Account, course_id: str) -> Any:
    data = await graph.data(COURSE, {"c": course_id}, token=caller.access_token)
    return data["course"]["learningAnalytics"]


async def learner_activity(
    graph: GraphQLClient, caller: Account, user_id: str, course_id: str | None = None
) -> dict[str, Any]:
    return await graph.execute(LEARNER, {"u": user_id, "c": course_id}, token=caller.access_token)


async def test_events_and_client_activity_become_statements_and_analytics(
    graph: GraphQLClient, instructor: Account, admin: Account, student: Account
) -> None:
    other = await register(graph, name="Quiet Quentin")
    course = await course_with_learners(
        graph, instructor, admin, [student, other], "Analysed Course"
    )
    first, second = (lesson["id"] for lesson in course["lessons"])
    await graph.data(COMPLETE, {"c": course["id"], "l": first}, token=student.access_token)
    viewed = await record(
        graph, student, verb="VIEWED", courseId=course["id"], lessonId=first, duration="PT5M"
    )
    assert "errors" not in viewed, viewed
    statement = viewed["data"]["recordActivity"]["statement"]
    assert statement["verb"] == "http://id.tincanapi.com/verb/viewed"
    assert (statement["objectType"], statement["duration"]) == ("lesson", "PT5M")
    xapi = statement["xapi"]
    assert xapi["actor"]["account"]["name"] == student.id
    assert xapi["object"]["id"].endswith(f"/xapi/activities/lesson/{first}")
    assert xapi["result"]["duration"] == "PT5M"
    assert xapi["context"]["contextActivities"]["parent"][0]["id"].endswith(course["id"])
    video = {"verb": "PROGRESSED", "courseId": course["id"], "lessonId": second}
    watched = await record(graph, student, **video, duration="PT2M", progress=0.8)
    assert watched["data"]["recordActivity"]["statement"]["progress"] == 0.8

    async def counted() -> Any:  # registered twice, completed, viewed, progressed
        analytics = await course_analytics(graph, instructor, course["id"])
        weeks = analytics["engagement"]
        return analytics if weeks and weeks[-1]["statements"] == 5 else None

    analytics = await eventually(counted)
    [week] = analytics["engagement"]
    assert (week["activeLearners"], week["views"], week["completions"]) == (2, 1, 1)
    assert week["secondsOnTask"] == 7 * 60
    lessons = analytics["lessons"]
    assert [lesson["lesson"]["id"] for lesson in lessons] == [first, second]
    assert [lesson["learnersReached"] for lesson in lessons] == [1, 1]
    assert [lesson["learnersCompleted"] for lesson in lessons] == [1, 0]
    assert [lesson["dropOff"] for lesson in lessons] == [0.5, 0.0]  # Quentin never started
    assert analytics["inactiveLearners"] == []  # everyone was seen today
    assert analytics["exportUrl"].endswith(f"/xapi/courses/{course['id']}/statements.jsonl")

    mine = await learner_activity(graph, student, student.id)
    activity = mine["data"]["user"]["learningActivity"]
    assert (activity["secondsOnTask"], activity["timeOnTask"]) == (420, "PT7M")
    assert (activity["currentStreak"], activity["longestStreak"]) == (1, 1)
    [today] = activity["days"]
    assert (today["statements"], today["views"], today["completions"]) == (4, 1, 1)
    # The course's instructor sees the learner's activity in that course; admins anywhere.
    taught = await learner_activity(graph, instructor, student.id, course["id"])
    assert taught["data"]["user"]["learningActivity"]["secondsOnTask"] == 420
    by_admin = await learner_activity(graph, admin, student.id)
    assert by_admin["data"]["user"]["learningActivity"]["secondsOnTask"] == 420


async def test_only_the_learner_their_instructors_and_admins_read_analytics(
    graph: GraphQLClient,
    instructor: Account,
    other_instructor: Account,
    admin: Account,
    student: Account,
) -> None:
    course = await course_with_learners(graph, instructor, admin, [student], "Guarded Course")
    classmate = await register(graph, name="Curious Cleo")
    for caller, course_id in (
        (classmate, None),  # another learner
        (classmate, course["id"]),
        (instructor, None),  # an instructor, about all of a learner's courses
        (other_instructor, course["id"]),  # an instructor of another course
    ):
        body = await learner_activity(graph, caller, student.id, course_id)
        assert error_codes(body) == ["FORBIDDEN"], (caller.id, course_id, body)
    for caller in (student, other_instructor):
        body = await graph.execute(COURSE, {"c": course["id"]}, token=caller.access_token)
        assert error_codes(body) == ["FORBIDDEN"], body
    anonymous = await graph.execute(COURSE, {"c": course["id"]})
    assert error_codes(anonymous) == ["UNAUTHENTICATED"]


async def test_record_activity_refuses_what_the_caller_may_not_or_should_not_record(
    graph: GraphQLClient, instructor: Account, admin: Account, student: Account
) -> None:
    course = await course_with_learners(graph, instructor, admin, [student], "Checked Course")
    lesson = course["lessons"][0]["id"]
    outsider = await register(graph, name="Not Enrolled")
    base = {"verb": "VIEWED", "courseId": course["id"], "lessonId": lesson}
    now = datetime.now(UTC)
    cases: list[tuple[Account, dict[str, Any], str]] = [
        (outsider, base, "FORBIDDEN"),
        (student, {**base, "lessonId": str(uuid.uuid4())}, "BAD_USER_INPUT"),
        (student, {**base, "courseId": str(uuid.uuid4())}, "NOT_FOUND"),
        (student, {**base, "duration": "five minutes"}, "BAD_USER_INPUT"),
        (student, {**base, "duration": "PT5H"}, "BAD_USER_INPUT"),
        (student, {**base, "progress": 1.5}, "BAD_USER_INPUT"),
        (student, {**base, "timestamp": (now + timedelta(hours=1)).isoformat()}, "BAD_USER_INPUT"),
        (student, {**base, "timestamp": (now - timedelta(days=30)).isoformat()}, "BAD_USER_INPUT"),
        (student, {**base, "id": "not-an-id"}, "BAD_USER_INPUT"),
    ]
    for caller, fields, code in cases:
        body = await record(graph, caller, **fields)
        assert error_codes(body) == [code], (fields, body)
    # A statement sent again (a retry) is recorded once; another user cannot reuse its id.
    statement_id = str(uuid.uuid4())
    once = await record(graph, student, **base, id=statement_id, duration="PT1M")
    again = await record(graph, student, **base, id=statement_id, duration="PT1M")
    assert once["data"]["recordActivity"]["duplicate"] is False
    assert again["data"]["recordActivity"]["duplicate"] is True
    assert again["data"]["recordActivity"]["statement"]["id"] == statement_id
    stolen = await record(graph, instructor, **base, id=statement_id)
    assert error_codes(stolen) == ["CONFLICT"]
    activity = await learner_activity(graph, student, student.id, course["id"])
    assert activity["data"]["user"]["learningActivity"]["secondsOnTask"] == 60


async def test_record_activity_is_rate_limited_per_user(
    graph: GraphQLClient, instructor: Account, admin: Account, student: Account
) -> None:
    course = await course_with_learners(graph, instructor, admin, [student], "Busy Course")
    base = {"verb": "LAUNCHED", "courseId": course["id"]}
    codes = [error_codes(await record(graph, student, **base)) for _ in range(31)]
    assert codes[:30] == [[]] * 30  # LMS_ACTIVITIES_PER_USER_MINUTE is 30 in the tests
    assert codes[30] == ["RATE_LIMITED"]
    other = await register(graph, name="Unhurried Una")
    await graph.data(ENROLL, {"c": course["id"]}, token=other.access_token)
    assert error_codes(await record(graph, other, **base)) == []  # per user


async def test_instructors_export_a_course_as_xapi_json_lines(
    graph: GraphQLClient,
    http: httpx.AsyncClient,
    instructor: Account,
    admin: Account,
    student: Account,
) -> None:
    course = await course_with_learners(graph, instructor, admin, [student], "Exported Course")
    lesson = course["lessons"][0]["id"]
    await record(graph, student, verb="VIEWED", courseId=course["id"], lessonId=lesson)

    async def exported() -> Any:  # the enrollment's statement arrives from the worker
        url = (await course_analytics(graph, instructor, course["id"]))["exportUrl"]
        auth = {"Authorization": f"Bearer {instructor.access_token}"}
        response = await http.get(url, headers=auth)
        assert response.status_code == 200, response.text
        lines = [json.loads(line) for line in response.text.splitlines()]
        return (url, lines) if len(lines) == 2 else None

    url, lines = await eventually(exported)
    verbs = sorted(line["verb"]["id"] for line in lines)
    assert verbs == [
        "http://adlnet.gov/expapi/verbs/registered",
        "http://id.tincanapi.com/verb/viewed",
    ]
    assert {line["actor"]["account"]["name"] for line in lines} == {student.id}
    registered = next(line for line in lines if line["verb"]["display"]["en-US"] == "registered")
    assert uuid.UUID(registered["context"]["registration"])  # the enrollment
    assert registered["object"]["definition"]["type"].endswith("/activities/course")
    refused = await http.get(url, headers={"Authorization": f"Bearer {student.access_token}"})
    assert (refused.status_code, refused.json()["errors"][0]["extensions"]["code"]) == (
        403,
        "FORBIDDEN",
    )
    anonymous = await http.get(url)
    assert anonymous.status_code == 401
