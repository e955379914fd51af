"""Accounts, courses and assessment-building steps for the assessments tests (all through the
router)."""

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
CREATE_QUESTION = """
mutation($input: QuestionInput!) {
  createQuestion(input: $input) { question { id kind points tags choices { id text } } }
}
"""
CREATE_ASSESSMENT = """
mutation($input: AssessmentInput!) {
  createAssessment(input: $input) { assessment { id title published questionCount } }
}
"""
PUBLISH = """
mutation($id: ID!) { publishAssessment(input: {id: $id}) { assessment { id published } } }
"""
START = """
mutation($a: ID!) {
  startAttempt(input: {assessmentId: $a}) {
    attempt { id number status deadline answers { question { id kind prompt choices { id text } } } }
  }
}
"""
SUBMIT = """
mutation($id: ID!, $answers: [AnswerInput!]!) {
  submitAttempt(input: {attemptId: $id, answers: $answers}) {
    attempt { id status score percent passed gradesReleased autoSubmitted }
  }
}
"""

CHOICE: dict[str, Any] = {
    "kind": "SINGLE_CHOICE",
    "prompt": "Which keyword defines a function in Python?",
    "points": 2,
    "choices": [{"text": "def", "correct": True}, {"text": "func"}, {"text": "lambda"}],
    "tags": ["basics"],
}
TRUE_FALSE: dict[str, Any] = {
    "kind": "TRUE_FALSE",
    "prompt": "Lists are mutable.",
    "booleanAnswer": True,
}
SHORT: dict[str, Any] = {
    "kind": "SHORT_ANSWER",
    "prompt": "Name the built-in that gives a sequence's length.",
    "acceptedAnswers": [{"value": "len"}, {"value": "len\\(\\)", "match": "PATTERN"}],
}
NUMERIC: dict[str, Any] = {
    "kind": "NUMERIC",
    "prompt": "What is 22/7 to two decimals?",
    "numericAnswer": 3.14,
    "tolerance": 0.005,
}
ESSAY: dict[str, Any] = {
    "kind": "ESSAY",
    "prompt": "Explain recursion.",
    "points": 4,
    "rubric": [
        {"criterion": "Correct definition", "points": 2},
        {"criterion": "Example", "points": 2},
    ],
}


async def question(
    graph: GraphQLClient, owner: Account, course_id: str, fields: dict[str, Any]
) -> dict[str, Any]:
    data = await graph.data(
        CREATE_QUESTION, {"input": {"courseId": course_id, **fields}}, token=owner.access_token
    )
    created: dict[str, Any] = data["createQuestion"]["question"]
    return created


async def assessment(
    graph: GraphQLClient,
    owner: Account,
    course_id: str,
    slots: list[dict[str, Any]],
    *,
    publish: bool = True,
    **fields: Any,
) -> dict[str, Any]:
    data = await graph.data(
        CREATE_ASSESSMENT,
        {
            "input": {
                "courseId": course_id,
                "title": fields.pop("title", "Checkpoint quiz"),
                "kind": fields.pop("kind", "QUIZ"),
                "questions": slots,
                **fields,
            }
        },
        token=owner.access_token,
    )
    created: dict[str, Any] = data["createAssessment"]["assessment"]
    if publish:
        await graph.data(PUBLISH, {"id": created["id"]}, token=owner.access_token)
    return created


async def course_with_learner(
    graph: GraphQLClient, owner: Account, admin: Account, learner: Account, title: str
) -> dict[str, Any]:
    course = await published_course(graph, owner, admin, title, lessons=1)
    await graph.data(ENROLL, {"c": course["id"]}, token=learner.access_token)
    return course


async def start(graph: GraphQLClient, learner: Account, assessment_id: str) -> dict[str, Any]:
    data = await graph.data(START, {"a": assessment_id}, token=learner.access_token)
    attempt: dict[str, Any] = data["startAttempt"]["attempt"]
    return attempt
