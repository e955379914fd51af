"""Code questions graded by the grader worker, and item analysis, through the router."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from typing import Any

import httpx

from common.infra.ports import free_port
from common.settings import Settings
from tests.accounts import Account, register
from tests.conftest import serve_router, subgraph_app
from tests.integration.assessments.conftest import (
    CHOICE,
    ENROLL,
    SUBMIT,
    TRUE_FALSE,
    assessment,
    course_with_learner,
    question,
    start,
)
from tests.support import GraphQLClient, error_codes, serve

CODE = {
    "kind": "CODE",
    "prompt": "Write add(a, b) returning the sum.",
    "points": 4,
    "starterCode": "def add(a, b):\n    ...\n",
    "tests": [
        {"name": "small numbers", "code": "assert add(2, 3) == 5", "hidden": False},
        {"name": "negatives", "code": "assert add(-2, -3) == -5"},
        {"name": "floats", "code": "assert abs(add(0.1, 0.2) - 0.3) < 1e-9"},
        {"name": "strings", "code": "assert add('a', 'b') == 'ab'"},
    ],
}
RESULTS = """
query($id: ID!) {
  attempt(id: $id) {
    score
    answers { points correct codeResults { name verdict message } }
  }
}
"""
HOSTILE = {
    "loops forever": "def add(a, b):\n    while True:\n        pass\n",
    "forks": "import os\nfor _ in range(100):\n    os.fork()\ndef add(a, b):\n    return a + b\n",
    "allocates 10 GB": "blob = bytearray(10 * 1024 ** 3)\ndef add(a, b):\n    return a + b\n",
    "opens sockets": (
        "import socket\nsocket.create_connection(('127.0.0.1', 4000), timeout=1)\n"
        "def add(a, b):\n    return a + b\n"
    ),
    "reads secrets": "print(open('/etc/passwd').read())\ndef add(a, b):\n    return a + b\n",
}


async def _submit_code(
    graph: GraphQLClient, learner: Account, assessment_id: str, question_id: str, code: str
) -> dict[str, Any]:
    attempt = await start(graph, learner, assessment_id)
    await graph.data(
        SUBMIT,
        {"id": attempt["id"], "answers": [{"questionId": question_id, "code": code}]},
        token=learner.access_token,
    )
    data = await graph.data(RESULTS, {"id": attempt["id"]}, token=learner.access_token)
    result: dict[str, Any] = data["attempt"]
    return result


async def _code_quiz(
    graph: GraphQLClient, instructor: Account, admin: Account, learner: Account, title: str
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """A course with `learner` enrolled, the CODE question, and a quiz of it released at once."""
    course = await course_with_learner(graph, instructor, admin, learner, title)
    code_question = await question(graph, instructor, course["id"], CODE)
    quiz = await assessment(
        graph,
        instructor,
        course["id"],
        [{"questionId": code_question["id"]}],
        releaseGradesImmediately=True,
    )
    return course, code_question, quiz


async def test_code_answers_run_against_the_tests_in_the_sandbox(
    graph: GraphQLClient, instructor: Account, admin: Account, student: Account
) -> None:
    course, code_question, quiz = await _code_quiz(
        graph, instructor, admin, student, "Coding Drills"
    )
    # Learners see the visible test, not the hidden ones.
    seen = await graph.data(
        "query($id: ID!) { assessment(id: $id) { attemptsRemaining questionCount } }",
        {"id": quiz["id"]},
        token=student.access_token,
    )
    assert seen["assessment"] == {"attemptsRemaining": None, "questionCount": 1}
    right = await _submit_code(
        graph, student, quiz["id"], code_question["id"], "def add(a, b):\n    return a + b\n"
    )
    assert right["score"] == 4.0
    assert [r["verdict"] for r in right["answers"][0]["codeResults"]] == ["PASSED"] * 4
    partly = await _submit_code(
        graph,
        student,
        quiz["id"],
        code_question["id"],
        "def add(a, b):\n    return 0 if a == -2 else a + b\n",
    )
    assert partly["score"] == 3.0  # the negatives test fails
    by_test = {r["name"]: r for r in partly["answers"][0]["codeResults"]}
    assert by_test["negatives"]["verdict"] == "FAILED"
    assert by_test["negatives"]["message"] is None  # hidden tests say no more
    # Hostile code: each attempt ends, scores nothing for the tests it broke, and the service
    # stays up for everyone else.
    results = await asyncio.gather(
        *(
            _submit_code(graph, learner, quiz["id"], code_question["id"], code)
            for learner, code in zip(
                [await _enrolled(graph, course["id"], name) for name in HOSTILE],
                HOSTILE.values(),
                strict=True,
            )
        )
    )
    outcomes = dict(zip(HOSTILE, results, strict=True))
    for name, result in outcomes.items():
        verdicts = [r["verdict"] for r in result["answers"][0]["codeResults"]]
        assert "PASSED" not in verdicts or name == "reads secrets", (name, verdicts)
        assert result["score"] in (0.0, None) or name == "reads secrets", (name, result)
    assert outcomes["loops forever"]["answers"][0]["codeResults"][0]["verdict"] == "TIMEOUT"
    assert outcomes["allocates 10 GB"]["answers"][0]["codeResults"][0]["verdict"] in (
        "MEMORY_LIMIT",
        "ERROR",
    )
    secrets = outcomes["reads secrets"]["answers"][0]["codeResults"]
    assert all(r["verdict"] != "PASSED" for r in secrets)
    alive = await graph.data(
        "query($id: ID!) { assessment(id: $id) { title } }",
        {"id": quiz["id"]},
        token=student.access_token,
    )
    assert alive["assessment"]["title"] == "Checkpoint quiz"


async def _enrolled(graph: GraphQLClient, course_id: str, name: str) -> Account:
    learner = await register(graph, name=name.title())
    await graph.data(ENROLL, {"c": course_id}, token=learner.access_token)
    return learner


STATISTICS = """
query($id: ID!) {
  assessment(id: $id) {
    statistics {
      learners mean median passRate
      distribution { fromPercent toPercent learners }
      questions { answered difficulty discrimination question { prompt } }
    }
  }
}
"""


async def test_statistics_mean_distribution_difficulty_and_discrimination(
    graph: GraphQLClient, instructor: Account, admin: Account, student: Account
) -> None:
    course = await course_with_learner(graph, instructor, admin, student, "Measured Quiz")
    easy = await question(graph, instructor, course["id"], {**TRUE_FALSE, "prompt": "Easy one"})
    hard = await question(
        graph, instructor, course["id"], {**CHOICE, "prompt": "Hard one", "points": 1}
    )
    quiz = await assessment(
        graph, instructor, course["id"], [{"questionId": easy["id"]}, {"questionId": hard["id"]}]
    )
    right_choice = hard["choices"][0]["id"]
    wrong_choice = hard["choices"][1]["id"]
    # Three learners get both right, two only the easy one, one gets both wrong.
    plans = [(True, right_choice)] * 3 + [(True, wrong_choice)] * 2 + [(False, wrong_choice)]
    for index, (easy_answer, choice) in enumerate(plans):
        learner = await _enrolled(graph, course["id"], f"Learner {index}")
        attempt = await start(graph, learner, quiz["id"])
        await graph.data(
            SUBMIT,
            {
                "id": attempt["id"],
                "answers": [
                    {"questionId": easy["id"], "booleanValue": easy_answer},
                    {"questionId": hard["id"], "choiceIds": [choice]},
                ],
            },
            token=learner.access_token,
        )
    stats = (await graph.data(STATISTICS, {"id": quiz["id"]}, token=instructor.access_token))[
        "assessment"
    ]["statistics"]
    assert stats["learners"] == 6
    assert stats["mean"] == round((3 * 100 + 2 * 50 + 0) / 6, 2)
    assert stats["median"] == 75.0
    assert stats["passRate"] == round(5 / 6, 4)  # 50 % passes the default 50 % bar
    bands = {band["fromPercent"]: band["learners"] for band in stats["distribution"]}
    assert bands[90.0] == 3
    assert bands[50.0] == 2
    assert bands[0.0] == 1
    by_prompt = {q["question"]["prompt"]: q for q in stats["questions"]}
    assert by_prompt["Easy one"]["difficulty"] == round(5 / 6, 4)
    assert by_prompt["Hard one"]["difficulty"] == 0.5
    assert by_prompt["Hard one"]["discrimination"] > 0.5  # the strong learners got it right
    refused = await graph.execute(STATISTICS, {"id": quiz["id"]}, token=student.access_token)
    assert error_codes(refused) == ["FORBIDDEN"]


async def test_without_a_grader_a_submission_says_so_and_keeps_the_attempt_open(
    graph: GraphQLClient,
    http: httpx.AsyncClient,
    migrated: Settings,
    subgraph_urls: dict[str, str],
    instructor: Account,
    admin: Account,
    student: Account,
) -> None:
    _, code_question, quiz = await _code_quiz(
        graph, instructor, admin, student, "Graderless Drills"
    )
    attempt = await start(graph, student, quiz["id"])
    answers = [{"questionId": code_question["id"], "code": "def add(a, b):\n    return a + b\n"}]
    # An assessments subgraph whose jobs go to a queue no grader consumes, behind a router.
    alone = dataclasses.replace(
        migrated, grader_queue=f"grader.nobody.{uuid.uuid4().hex}", grader_timeout_seconds=1
    )
    async with (
        serve(subgraph_app("assessments", alone), free_port()) as url,
        serve_router({**subgraph_urls, "assessments": url}, migrated) as router_url,
    ):
        router = GraphQLClient(http, f"{router_url}/graphql")
        refused = await router.execute(
            SUBMIT, {"id": attempt["id"], "answers": answers}, token=student.access_token
        )
    assert error_codes(refused) == ["SERVICE_UNAVAILABLE"], refused
    assert "No grader answered within 1 s" in refused["errors"][0]["message"]
    # The attempt is still open with its answer saved: submitting again, once a grader
    # answers, grades it.
    submitted = await graph.data(
        SUBMIT, {"id": attempt["id"], "answers": []}, token=student.access_token
    )
    assert submitted["submitAttempt"]["attempt"]["status"] == "GRADED"
    assert submitted["submitAttempt"]["attempt"]["score"] == 4.0
