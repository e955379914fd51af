"""Adaptive assessments through the router: one question at a time chosen by ability, a
result on the instructor's scale, item calibration for instructors only, and the hostile
cases (answers out of order, replayed, skipping ahead, after the time; learners and other
courses' instructors reading item parameters)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.accounts import Account, register
from tests.cli.lms_process import one_error_line, run_lms
from tests.integration.assessments.conftest import (
    ENROLL,
    SUBMIT,
    TRUE_FALSE,
    assessment,
    course_with_learner,
    question,
)
from tests.support import GraphQLClient, error_codes, eventually

CONFIGURE = """
mutation($input: ConfigureAdaptiveInput!) {
  configureAdaptive(input: $input) { assessment { id adaptive { maxItems scaleMin scaleMax } } }
}
"""
PUBLISH = "mutation($id: ID!) { publishAssessment(input: {id: $id}) { assessment { id } } }"
ATTEMPT_FIELDS = """
  id status
  currentQuestion { id prompt tags }
  answers { question { id } }
  ability { score standardError theta thetaStandardError method itemsAnswered stopReason }
"""
START = f"mutation($a: ID!) {{ startAttempt(input: {{assessmentId: $a}}) {{ attempt {{ {ATTEMPT_FIELDS} }} }} }}"
SAVE = f"""
mutation($id: ID!, $answers: [AnswerInput!]!) {{
  saveAnswers(input: {{attemptId: $id, answers: $answers}}) {{ attempt {{ {ATTEMPT_FIELDS} }} }}
}}
"""
ATTEMPT = f"query($id: ID!) {{ attempt(id: $id) {{ {ATTEMPT_FIELDS} percent score }} }}"
CALIBRATIONS = """
query($c: ID!) {
  itemCalibrations(courseId: $c) {
    question { id } model discrimination difficulty guessing difficultyError responses
  }
}
"""
CALIBRATE = """
mutation($c: ID!) { calibrateItems(input: {courseId: $c}) { responders calibrated onPriors } }
"""
DIFFICULTIES = ["EASY", "MEDIUM", "HARD"]


async def bank(
    graph: GraphQLClient, owner: Account, course_id: str, tags: list[str], per_tag: int
) -> dict[str, str]:
    """True/false questions (answer: true), `per_tag` per tag: question id -> tag."""
    made = {}
    for tag in tags:
        for index in range(per_tag):
            fields = {
                **TRUE_FALSE,
                "prompt": f"{tag} fact {index}",
                "tags": [tag],
                "difficulty": DIFFICULTIES[index % 3],
            }
            made[(await question(graph, owner, course_id, fields))["id"]] = tag
    return made


async def adaptive_assessment(
    graph: GraphQLClient,
    owner: Account,
    course_id: str,
    slots: list[dict[str, Any]],
    settings: dict[str, Any],
    **fields: Any,
) -> str:
    created = await assessment(graph, owner, course_id, slots, publish=False, **fields)
    data = await graph.data(
        CONFIGURE,
        {"input": {"assessmentId": created["id"], **settings}},
        token=owner.access_token,
    )
    assert data["configureAdaptive"]["assessment"]["adaptive"] is not None
    await graph.data(PUBLISH, {"id": created["id"]}, token=owner.access_token)
    return str(created["id"])


def answer(question_id: str, value: bool = True) -> list[dict[str, Any]]:
    return [{"questionId": question_id, "booleanValue": value}]


async def test_one_question_at_a_time_balanced_over_tags_to_a_scaled_result(
    graph: GraphQLClient, instructor: Account, admin: Account, student: Account
) -> None:
    course = await course_with_learner(graph, instructor, admin, student, "Adaptive Facts")
    tags = await bank(graph, instructor, course["id"], ["alpha", "beta"], 5)
    quiz = await adaptive_assessment(
        graph,
        instructor,
        course["id"],
        [{"drawTag": "alpha", "drawCount": 3}, {"drawTag": "beta", "drawCount": 3}],
        {"targetStandardError": 0.1, "randomesque": 1, "scaleMin": 200, "scaleMax": 800},
        releaseGradesImmediately=True,
    )
    seen = await graph.data(
        "query($id: ID!) { assessment(id: $id) { adaptive { maxItems scaleMin scaleMax } } }",
        {"id": quiz},
        token=student.access_token,
    )
    assert seen["assessment"]["adaptive"] == {"maxItems": 6, "scaleMin": 200.0, "scaleMax": 800.0}
    attempt = (await graph.data(START, {"a": quiz}, token=student.access_token))["startAttempt"][
        "attempt"
    ]
    given: list[str] = []
    while attempt["currentQuestion"] is not None:
        current = attempt["currentQuestion"]["id"]
        assert current not in given
        given.append(current)
        # the learner sees the questions given so far, never the ones to come
        assert [a["question"]["id"] for a in attempt["answers"]] == given
        assert attempt["ability"] is None  # nothing before release
        attempt = (
            await graph.data(
                SAVE, {"id": attempt["id"], "answers": answer(current)}, token=student.access_token
            )
        )["saveAnswers"]["attempt"]
    assert attempt["status"] == "GRADED"
    assert len(given) == 6
    assert sorted(tags[q] for q in given) == ["alpha"] * 3 + ["beta"] * 3
    ability = attempt["ability"]
    assert ability["itemsAnswered"] == 6
    assert ability["stopReason"] == "MAX_ITEMS"
    assert ability["method"] == "EAP"  # all right: no finite MLE
    assert ability["theta"] > 1.0
    assert 500 < ability["score"] <= 800
    assert ability["standardError"] == round(ability["thetaStandardError"] * 100, 2)
    review = await graph.data(ATTEMPT, {"id": attempt["id"]}, token=student.access_token)
    assert review["attempt"]["percent"] == round((ability["score"] - 200) / 600 * 100, 2)
    # learners never read item parameters
    body = await graph.execute(CALIBRATIONS, {"c": course["id"]}, token=student.access_token)
    assert error_codes(body) == ["FORBIDDEN"]
    body = await graph.execute(CALIBRATE, {"c": course["id"]}, token=student.access_token)
    assert error_codes(body) == ["FORBIDDEN"]
    # and the assessment can no longer change between fixed and adaptive
    body = await graph.execute(
        CONFIGURE,
        {"input": {"assessmentId": quiz, "adaptive": False}},
        token=instructor.access_token,
    )
    assert error_codes(body) == ["CONFLICT"]


async def test_answers_out_of_order_replayed_or_ahead_are_refused(
    graph: GraphQLClient, instructor: Account, admin: Account, student: Account
) -> None:
    course = await course_with_learner(graph, instructor, admin, student, "Adaptive Order")
    tags = await bank(graph, instructor, course["id"], ["gamma"], 6)
    quiz = await adaptive_assessment(
        graph,
        instructor,
        course["id"],
        [{"drawTag": "gamma", "drawCount": 5}],
        {"targetStandardError": 0.1},
    )
    attempt = (await graph.data(START, {"a": quiz}, token=student.access_token))["startAttempt"][
        "attempt"
    ]
    first = attempt["currentQuestion"]["id"]
    ahead = next(q for q in tags if q != first)

    async def save(answers: list[dict[str, Any]]) -> dict[str, Any]:
        return await graph.execute(
            SAVE, {"id": attempt["id"], "answers": answers}, token=student.access_token
        )

    skipped = await save(answer(ahead))  # a bank question not given yet
    assert error_codes(skipped) == ["BAD_USER_INPUT"]
    assert "not this attempt's current question" in skipped["errors"][0]["message"]
    both = await save([*answer(first), *answer(ahead)])
    assert error_codes(both) == ["BAD_USER_INPUT"]
    moved = (await save(answer(first)))["data"]["saveAnswers"]["attempt"]
    second = moved["currentQuestion"]["id"]
    assert second not in (first,)
    replayed = await save(answer(first))
    assert error_codes(replayed) == ["CONFLICT"]
    changed = await save(answer(first, False))  # going back to change an answer
    assert error_codes(changed) == ["CONFLICT"]
    late_skip = await graph.execute(
        SUBMIT, {"id": attempt["id"], "answers": answer(first)}, token=student.access_token
    )
    assert error_codes(late_skip) == ["CONFLICT"]
    state = await graph.data(ATTEMPT, {"id": attempt["id"]}, token=instructor.access_token)
    assert state["attempt"]["status"] == "IN_PROGRESS"
    assert state["attempt"]["currentQuestion"]["id"] == second
    assert state["attempt"]["ability"]["itemsAnswered"] == 1
    # submitting early: the question shown and not answered counts as wrong
    await graph.data(SUBMIT, {"id": attempt["id"], "answers": []}, token=student.access_token)
    done = await graph.data(ATTEMPT, {"id": attempt["id"]}, token=instructor.access_token)
    assert done["attempt"]["status"] == "GRADED"
    assert done["attempt"]["ability"]["itemsAnswered"] == 2
    assert done["attempt"]["ability"]["stopReason"] == "SUBMITTED"
    assert done["attempt"]["ability"]["method"] == "MLE"  # one right, one wrong
    after = await save(answer(second))
    assert error_codes(after) == ["CONFLICT"]


async def test_exposure_control_keeps_a_question_out_of_more_than_its_share_of_attempts(
    graph: GraphQLClient, instructor: Account, admin: Account, student: Account
) -> None:
    """Always the most informative question (randomesque 1): with maxExposure 0.4 the second
    learner does not get the first learner's first question (1 of 2 attempts is over 0.4),
    the third does (1 of 3 is not); with maxExposure 1 everyone gets the same one."""
    course = await course_with_learner(graph, instructor, admin, student, "Adaptive Exposure")
    await bank(graph, instructor, course["id"], ["delta"], 4)
    others = [await register(graph, name=f"Learner {n}") for n in (2, 3)]
    for learner in others:
        await graph.data(ENROLL, {"c": course["id"]}, token=learner.access_token)

    async def firsts(settings: dict[str, Any]) -> list[str]:
        quiz = await adaptive_assessment(
            graph, instructor, course["id"], [{"drawTag": "delta", "drawCount": 3}], settings
        )
        shown = await graph.data(
            "query($id: ID!) { assessment(id: $id) { adaptive { maxExposure } } }",
            {"id": quiz},
            token=student.access_token,
        )
        assert shown["assessment"]["adaptive"] == {"maxExposure": settings["maxExposure"]}
        got = []
        for learner in [student, *others]:
            data = await graph.data(START, {"a": quiz}, token=learner.access_token)
            got.append(data["startAttempt"]["attempt"]["currentQuestion"]["id"])
        return got

    first, second, third = await firsts({"randomesque": 1, "maxExposure": 0.4})
    assert second != first
    assert third == first
    assert len(set(await firsts({"randomesque": 1, "maxExposure": 1.0}))) == 1
    quiz = await assessment(graph, instructor, course["id"], [{"drawTag": "delta", "drawCount": 2}])
    refused = await graph.execute(
        CONFIGURE,
        {"input": {"assessmentId": quiz["id"], "maxExposure": 0}},
        token=instructor.access_token,
    )
    assert error_codes(refused) == ["BAD_USER_INPUT"]
    assert "maxExposure must be 0.01 to 1" in refused["errors"][0]["message"]


async def test_an_adaptive_attempt_after_its_time(
    graph: GraphQLClient, instructor: Account, admin: Account, student: Account
) -> None:
    course = await course_with_learner(graph, instructor, admin, student, "Adaptive Clock")
    await bank(graph, instructor, course["id"], ["delta"], 4)
    # the window leaves time to create, start and answer once on a loaded machine
    soon = datetime.now(UTC) + timedelta(seconds=5)
    quiz = await adaptive_assessment(
        graph,
        instructor,
        course["id"],
        [{"drawTag": "delta", "drawCount": 4}],
        {"targetStandardError": 0.1},
        availableUntil=soon.isoformat(),
    )
    attempt = (await graph.data(START, {"a": quiz}, token=student.access_token))["startAttempt"][
        "attempt"
    ]
    first = attempt["currentQuestion"]["id"]
    moved = await graph.data(
        SAVE, {"id": attempt["id"], "answers": answer(first)}, token=student.access_token
    )
    second = moved["saveAnswers"]["attempt"]["currentQuestion"]["id"]
    # until the window ends on the assessments service's clock (the real one)
    await asyncio.sleep(max(0.0, (soon - datetime.now(UTC)).total_seconds()) + 0.3)
    late = await graph.execute(
        SAVE, {"id": attempt["id"], "answers": answer(second)}, token=student.access_token
    )
    assert error_codes(late) == ["FORBIDDEN"]
    assert "Time ran out" in late["errors"][0]["message"]
    done = await graph.data(ATTEMPT, {"id": attempt["id"]}, token=instructor.access_token)
    assert done["attempt"]["status"] == "GRADED"
    assert done["attempt"]["currentQuestion"] is None
    assert done["attempt"]["ability"]["stopReason"] == "TIME_LIMIT"
    assert done["attempt"]["ability"]["itemsAnswered"] == 2  # the late answer did not count


async def test_calibration_for_instructors_only_on_demand_and_on_schedule(
    graph: GraphQLClient,
    instructor: Account,
    other_instructor: Account,
    admin: Account,
    student: Account,
) -> None:
    course = await course_with_learner(graph, instructor, admin, student, "Calibrated Bank")
    ids = list(await bank(graph, instructor, course["id"], ["eta"], 3))
    fixed = await assessment(graph, instructor, course["id"], [{"questionId": q} for q in ids])
    patterns = [[True, True, False], [True, False, False], [True, True, True], [False, False, True]]
    for pattern in patterns:  # four attempts: four responders
        started = await graph.data(
            "mutation($a: ID!) { startAttempt(input: {assessmentId: $a}) { attempt { id } } }",
            {"a": fixed["id"]},
            token=student.access_token,
        )
        answers = [
            {"questionId": q, "booleanValue": value} for q, value in zip(ids, pattern, strict=True)
        ]
        await graph.data(
            SUBMIT,
            {"id": started["startAttempt"]["attempt"]["id"], "answers": answers},
            token=student.access_token,
        )
    # the worker's schedule (every second in the tests) calibrates the bank

    async def calibrated() -> list[dict[str, Any]] | None:
        data = await graph.data(CALIBRATIONS, {"c": course["id"]}, token=instructor.access_token)
        found: list[dict[str, Any]] = data["itemCalibrations"]
        return found if all(row["responses"] == 4 for row in found) else None

    rows = await eventually(calibrated, within=30, every=0.2)
    assert [row["question"]["id"] for row in rows] == ids
    assert [row["model"] for row in rows] == ["2PL"] * 3  # 4 ≥ LMS_IRT_MIN_RESPONSES (3)
    assert all(row["responses"] == 4 and row["difficultyError"] > 0 for row in rows), rows
    # the item everyone but one got right is the easiest
    assert rows[0]["difficulty"] < rows[1]["difficulty"]
    report = await graph.data(CALIBRATE, {"c": course["id"]}, token=instructor.access_token)
    assert report["calibrateItems"] == {"responders": 4, "calibrated": 3, "onPriors": 0}
    # an instructor of another course sees none of it, nor changes its assessments
    for query in (CALIBRATIONS, CALIBRATE):
        body = await graph.execute(query, {"c": course["id"]}, token=other_instructor.access_token)
        assert error_codes(body) == ["FORBIDDEN"]
    body = await graph.execute(
        CONFIGURE, {"input": {"assessmentId": fixed["id"]}}, token=other_instructor.access_token
    )
    assert error_codes(body) == ["NOT_FOUND"]


async def test_calibrate_items_command_refuses_bad_arguments_in_one_line() -> None:
    done = await asyncio.to_thread(run_lms, "calibrate-items", "--course", "not-a-course")
    assert done.returncode == 2
    assert one_error_line(done) == "error: --course: 'not-a-course' is not a course id"
    done = await asyncio.to_thread(run_lms, "calibrate-items", "--min-responses", "0")
    assert done.returncode == 2
    assert one_error_line(done) == "error: --min-responses must be at least 1"
