"""Taking assessments through the router: grading, release, answer keys, limits, deadlines."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.accounts import Account, register
from tests.integration.assessments.conftest import (
    CHOICE,
    ESSAY,
    NUMERIC,
    SHORT,
    START,
    SUBMIT,
    TRUE_FALSE,
    assessment,
    course_with_learner,
    question,
    start,
)
from tests.support import GraphQLClient, error_codes

REVIEW = """
query($id: ID!) {
  attempt(id: $id) {
    status score percent passed gradesReleased
    answers {
      question { id kind }
      response { choiceIds booleanValue text number }
      points maxPoints correct feedback rubricScores awaitingGrading
    }
  }
}
"""
ANSWER_KEYS = "query($id: ID!) { attempt(id: $id) { answers { question { answerKey { choiceIds booleanValue numericAnswer } } } } }"
GRADE = """
mutation($input: GradeAnswerInput!) { gradeAnswer(input: $input) { attempt { status score } } }
"""
RELEASE = """
mutation($a: ID!) { releaseGrades(input: {assessmentId: $a}) { assessment { gradesReleasedAt } } }
"""


def _answers(attempt: dict[str, Any], choice_id: str) -> list[dict[str, Any]]:
    """Right answers to everything but the numeric question, which is wrong."""
    by_kind = {a["question"]["kind"]: a["question"]["id"] for a in attempt["answers"]}
    return [
        {"questionId": by_kind["SINGLE_CHOICE"], "choiceIds": [choice_id]},
        {"questionId": by_kind["TRUE_FALSE"], "booleanValue": True},
        {"questionId": by_kind["SHORT_ANSWER"], "text": "  LEN() "},
        {"questionId": by_kind["NUMERIC"], "number": 3.2},
        {"questionId": by_kind["ESSAY"], "text": "A function calling itself, e.g. factorial."},
    ]


async def test_submission_grading_release_and_answer_key_privacy(
    graph: GraphQLClient, instructor: Account, admin: Account, student: Account
) -> None:
    course = await course_with_learner(graph, instructor, admin, student, "Python Basics Quiz")
    ids = [
        (await question(graph, instructor, course["id"], fields))["id"]
        for fields in (CHOICE, TRUE_FALSE, SHORT, NUMERIC, ESSAY)
    ]
    quiz = await assessment(
        graph, instructor, course["id"], [{"questionId": qid} for qid in ids], passingScore=60
    )
    assert quiz["questionCount"] == 5
    attempt = await start(graph, student, quiz["id"])
    assert attempt["status"] == "IN_PROGRESS"
    assert attempt["number"] == 1
    # Starting again resumes the same attempt.
    assert (await start(graph, student, quiz["id"]))["id"] == attempt["id"]
    # The learner sees choices but no key, before or after submitting.
    choice = next(a for a in attempt["answers"] if a["question"]["kind"] == "SINGLE_CHOICE")
    assert [c["text"] for c in choice["question"]["choices"]] == ["def", "func", "lambda"]
    keys = await graph.execute(ANSWER_KEYS, {"id": attempt["id"]}, token=student.access_token)
    assert set(error_codes(keys)) == {"FORBIDDEN"}
    sneaky = await graph.execute(
        "query($c: ID!) { questionBank(courseId: $c) { totalCount } }",
        {"c": course["id"]},
        token=student.access_token,
    )
    assert error_codes(sneaky) == ["FORBIDDEN"]
    hidden = await graph.execute(
        "query($id: ID!) { question(id: $id) { prompt } }",
        {"id": ids[0]},
        token=student.access_token,
    )
    assert error_codes(hidden) == ["NOT_FOUND"]

    right_choice = choice["question"]["choices"][0]["id"]
    submitted = await graph.data(
        SUBMIT,
        {"id": attempt["id"], "answers": _answers(attempt, right_choice)},
        token=student.access_token,
    )
    result = submitted["submitAttempt"]["attempt"]
    # The essay waits for a person; nothing is shown before release.
    assert result["status"] == "SUBMITTED"
    assert result["score"] is None
    assert result["gradesReleased"] is False
    again = await graph.execute(
        SUBMIT, {"id": attempt["id"], "answers": []}, token=student.access_token
    )
    assert error_codes(again) == ["CONFLICT"]

    # Another learner cannot see or grade it; the instructor sees the grading so far.
    stranger = await register(graph, name="Nosy Neighbour")
    peek = await graph.execute(REVIEW, {"id": attempt["id"]}, token=stranger.access_token)
    assert error_codes(peek) == ["NOT_FOUND"]
    view = await graph.data(REVIEW, {"id": attempt["id"]}, token=instructor.access_token)
    points = {a["question"]["kind"]: a["points"] for a in view["attempt"]["answers"]}
    assert points == {
        "SINGLE_CHOICE": 2.0,
        "TRUE_FALSE": 1.0,
        "SHORT_ANSWER": 1.0,  # matched by the pattern, case-insensitively
        "NUMERIC": 0.0,
        "ESSAY": None,
    }
    essay = next(a for a in view["attempt"]["answers"] if a["question"]["kind"] == "ESSAY")
    assert essay["awaitingGrading"] is True
    essay_id = essay["question"]["id"]
    forged = await graph.execute(
        GRADE,
        {"input": {"attemptId": attempt["id"], "questionId": essay_id, "points": 4}},
        token=student.access_token,
    )
    assert error_codes(forged) == ["FORBIDDEN"]  # a learner cannot grade their own attempt
    forged = await graph.execute(
        GRADE,
        {"input": {"attemptId": attempt["id"], "questionId": essay_id, "points": 4}},
        token=stranger.access_token,
    )
    assert error_codes(forged) == ["FORBIDDEN"]  # a learner has no grading:write scope
    too_many = await graph.execute(
        GRADE,
        {"input": {"attemptId": attempt["id"], "questionId": essay_id, "rubricScores": [3, 2]}},
        token=instructor.access_token,
    )
    assert error_codes(too_many) == ["BAD_USER_INPUT"]
    graded = await graph.data(
        GRADE,
        {
            "input": {
                "attemptId": attempt["id"],
                "questionId": essay_id,
                "rubricScores": [2, 1],
                "feedback": "Add a base case to the example.",
            }
        },
        token=instructor.access_token,
    )
    assert graded["gradeAnswer"]["attempt"] == {"status": "GRADED", "score": 7.0}

    hidden_score = await graph.data(REVIEW, {"id": attempt["id"]}, token=student.access_token)
    assert hidden_score["attempt"]["score"] is None
    assert all(a["points"] is None for a in hidden_score["attempt"]["answers"])
    await graph.data(RELEASE, {"a": quiz["id"]}, token=instructor.access_token)
    review = (await graph.data(REVIEW, {"id": attempt["id"]}, token=student.access_token))[
        "attempt"
    ]
    assert review["score"] == 7.0
    assert review["percent"] == 77.78  # 7 of 9 points
    assert review["passed"] is True
    essay_view = next(a for a in review["answers"] if a["question"]["kind"] == "ESSAY")
    assert essay_view["rubricScores"] == [2.0, 1.0]
    assert essay_view["feedback"] == "Add a base case to the example."
    keys = await graph.data(ANSWER_KEYS, {"id": attempt["id"]}, token=student.access_token)
    numeric_key = [a["question"]["answerKey"]["numericAnswer"] for a in keys["attempt"]["answers"]]
    assert 3.14 in numeric_key

    # Through the federated references: User.submissions and Course.assessments.
    mine = await graph.data(
        """query { me { submissions { totalCount edges { node { id score assessment { title course { title } } } } } } }""",
        token=student.access_token,
    )
    node = mine["me"]["submissions"]["edges"][0]["node"]
    assert node["score"] == 7.0
    assert node["assessment"]["course"]["title"] == "Python Basics Quiz"
    others = await graph.execute(
        "query($id: ID!) { user(id: $id) { submissions { totalCount } } }",
        {"id": "00000000-0000-0000-0000-000000000001"},
        token=stranger.access_token,
    )
    assert "FORBIDDEN" in error_codes(others) or "NOT_FOUND" in error_codes(others)


async def test_learners_outside_the_course_and_unpublished_assessments_are_refused(
    graph: GraphQLClient,
    instructor: Account,
    other_instructor: Account,
    admin: Account,
    student: Account,
) -> None:
    course = await course_with_learner(graph, instructor, admin, student, "Closed Doors")
    qid = (await question(graph, instructor, course["id"], TRUE_FALSE))["id"]
    draft = await assessment(graph, instructor, course["id"], [{"questionId": qid}], publish=False)
    listed = await graph.data(
        "query($id: ID!) { course(id: $id) { assessments { id } } }",
        {"id": course["id"]},
        token=student.access_token,
    )
    assert listed["course"]["assessments"] == []  # not published: not acknowledged
    refused = await graph.execute(START, {"a": draft["id"]}, token=student.access_token)
    assert error_codes(refused) == ["NOT_FOUND"]
    quiz = await assessment(
        graph, instructor, course["id"], [{"questionId": qid}], title="Open quiz"
    )
    outsider = await register(graph, name="Not Enrolled")
    refused = await graph.execute(START, {"a": quiz["id"]}, token=outsider.access_token)
    assert error_codes(refused) == ["NOT_FOUND"]
    # Another instructor cannot write questions or assessments into this course.
    body = await graph.execute(
        "mutation($i: QuestionInput!) { createQuestion(input: $i) { question { id } } }",
        {"i": {"courseId": course["id"], **TRUE_FALSE}},
        token=other_instructor.access_token,
    )
    assert error_codes(body) == ["FORBIDDEN"]
    body = await graph.execute(
        "mutation($i: QuestionInput!) { createQuestion(input: $i) { question { id } } }",
        {"i": {"courseId": course["id"], **TRUE_FALSE}},
        token=student.access_token,
    )
    assert error_codes(body) == ["FORBIDDEN"]
    # Hostile input: bad ids, wrong answer types, questions of other attempts.
    assert error_codes(
        await graph.execute(START, {"a": "not-an-id"}, token=student.access_token)
    ) == ["BAD_USER_INPUT"]
    attempt = await start(graph, student, quiz["id"])
    wrong_type = await graph.execute(
        SUBMIT,
        {"id": attempt["id"], "answers": [{"questionId": qid, "text": "yes"}]},
        token=student.access_token,
    )
    assert error_codes(wrong_type) == ["BAD_USER_INPUT"]
    foreign = await graph.execute(
        SUBMIT,
        {"id": attempt["id"], "answers": [{"questionId": course["id"], "booleanValue": True}]},
        token=student.access_token,
    )
    assert error_codes(foreign) == ["BAD_USER_INPUT"]
    not_mine = await graph.execute(
        SUBMIT, {"id": attempt["id"], "answers": []}, token=outsider.access_token
    )
    assert error_codes(not_mine) == ["NOT_FOUND"]


async def test_invalid_questions_are_refused_with_the_field(
    graph: GraphQLClient, instructor: Account, admin: Account, student: Account
) -> None:
    course = await course_with_learner(graph, instructor, admin, student, "Strict Bank")
    create = "mutation($i: QuestionInput!) { createQuestion(input: $i) { question { id } } }"
    cases = [
        {**CHOICE, "choices": [{"text": "a", "correct": True}, {"text": "b", "correct": True}]},
        {**SHORT, "acceptedAnswers": [{"value": "(unclosed", "match": "PATTERN"}]},
        {**ESSAY, "rubric": [{"criterion": "All", "points": 1}]},
        {"kind": "NUMERIC", "prompt": "x?"},
        {"kind": "CODE", "prompt": "Write f.", "tests": [{"name": "t", "code": "assert f(1) =="}]},
        {**TRUE_FALSE, "points": -1},
        {**TRUE_FALSE, "prompt": ""},
    ]
    for fields in cases:
        body = await graph.execute(
            create, {"i": {"courseId": course["id"], **fields}}, token=instructor.access_token
        )
        assert error_codes(body) == ["BAD_USER_INPUT"], fields
        assert body["errors"][0]["extensions"].get("field"), fields


async def test_attempt_limits_windows_and_deadlines(
    graph: GraphQLClient, instructor: Account, admin: Account, student: Account
) -> None:
    course = await course_with_learner(graph, instructor, admin, student, "Timed Exams")
    qid = (await question(graph, instructor, course["id"], TRUE_FALSE))["id"]
    once = await assessment(
        graph, instructor, course["id"], [{"questionId": qid}], attemptsAllowed=1, title="Once only"
    )
    attempt = await start(graph, student, once["id"])
    await graph.data(
        SUBMIT,
        {"id": attempt["id"], "answers": [{"questionId": qid, "booleanValue": True}]},
        token=student.access_token,
    )
    second = await graph.execute(START, {"a": once["id"]}, token=student.access_token)
    assert error_codes(second) == ["FORBIDDEN"]
    assert "all 1 attempt" in second["errors"][0]["message"]

    past = datetime.now(UTC) - timedelta(hours=1)
    closed = await assessment(
        graph,
        instructor,
        course["id"],
        [{"questionId": qid}],
        title="Closed already",
        availableFrom=(past - timedelta(days=1)).isoformat(),
        availableUntil=past.isoformat(),
    )
    late = await graph.execute(START, {"a": closed["id"]}, token=student.access_token)
    assert error_codes(late) == ["FORBIDDEN"]
    assert "closed" in late["errors"][0]["message"]

    soon = datetime.now(UTC) + timedelta(seconds=2)
    closing = await assessment(
        graph,
        instructor,
        course["id"],
        [{"questionId": qid}],
        title="Closing soon",
        availableUntil=soon.isoformat(),
    )
    attempt = await start(graph, student, closing["id"])
    assert attempt["deadline"] is not None
    save = """
    mutation($id: ID!, $q: ID!) {
      saveAnswers(input: {attemptId: $id, answers: [{questionId: $q, booleanValue: true}]}) { attempt { id } }
    }
    """
    await graph.data(save, {"id": attempt["id"], "q": qid}, token=student.access_token)
    # until the availability ends on the assessments service's clock (the real one): a wait
    # for a moment, not for something to happen
    await asyncio.sleep(max(0.0, (soon - datetime.now(UTC)).total_seconds()) + 0.3)
    refused = await graph.execute(
        SUBMIT,
        {"id": attempt["id"], "answers": [{"questionId": qid, "booleanValue": False}]},
        token=student.access_token,
    )
    assert error_codes(refused) == ["FORBIDDEN"]
    assert "Time ran out" in refused["errors"][0]["message"]
    # The answer saved in time was submitted (and graded); the late one was not.
    review = await graph.data(REVIEW, {"id": attempt["id"]}, token=instructor.access_token)
    assert review["attempt"]["status"] == "GRADED"
    assert review["attempt"]["answers"][0]["response"]["booleanValue"] is True
    assert review["attempt"]["answers"][0]["points"] == 1.0


async def test_random_draws_by_tag(
    graph: GraphQLClient, instructor: Account, admin: Account, student: Account
) -> None:
    course = await course_with_learner(graph, instructor, admin, student, "Random Pools")
    pool = set()
    for index in range(5):
        created = await question(
            graph,
            instructor,
            course["id"],
            {**TRUE_FALSE, "prompt": f"Loop fact {index}", "tags": ["Loops"]},
        )
        pool.add(created["id"])
    too_many = await assessment(
        graph, instructor, course["id"], [{"drawTag": "loops", "drawCount": 6}], publish=False
    )
    body = await graph.execute(
        "mutation($id: ID!) { publishAssessment(input: {id: $id}) { assessment { id } } }",
        {"id": too_many["id"]},
        token=instructor.access_token,
    )
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert "tagged 'loops'" in body["errors"][0]["message"]
    quiz = await assessment(graph, instructor, course["id"], [{"drawTag": "loops", "drawCount": 3}])
    assert quiz["questionCount"] == 3
    seen = []
    for _ in range(3):
        attempt = await start(graph, student, quiz["id"])
        drawn = [a["question"]["id"] for a in attempt["answers"]]
        assert len(drawn) == 3
        assert len(set(drawn)) == 3
        assert set(drawn) <= pool
        seen.append(frozenset(drawn))
        await graph.data(SUBMIT, {"id": attempt["id"], "answers": []}, token=student.access_token)
    assert len(set().union(*seen)) >= 3
