"""Automatic grading of objective questions, and item analysis."""

from __future__ import annotations

import uuid

import pytest
import regex

from common.errors import BadUserInput
from subgraphs.assessments.analytics import ScoredAnswer, ScoredAttempt, point_biserial, summarise
from subgraphs.assessments.questions import (
    PATTERN_TIMEOUT,
    Accepted,
    Choice,
    Criterion,
    MatchMode,
    QuestionDraft,
    QuestionKind,
    build_spec,
    grade_objective,
    normalise_response,
    public_spec,
)

MULTI = QuestionDraft(
    QuestionKind.MULTIPLE_CHOICE,
    "Mutable types?",
    points=2,
    choices=(Choice("list", True), Choice("dict", True), Choice("tuple", False)),
)

# A pattern that backtracks exponentially on an answer it does not match.
EVIL_PATTERN = r"(a|aa)+$"
EVIL = QuestionDraft(
    QuestionKind.SHORT_ANSWER, "?", accepted=(Accepted(EVIL_PATTERN, MatchMode.PATTERN),)
)
EVIL_ANSWER = "a" * 60 + "!"


def test_multiple_choice_gives_partial_credit_and_penalises_wrong_picks() -> None:
    spec = build_spec(MULTI)

    def grade(ids: list[str]) -> float:
        return grade_objective(MULTI.kind, spec, {"choiceIds": ids}, 2).points

    assert grade(["a", "b"]) == 2
    assert grade(["a"]) == 1
    assert grade(["a", "c"]) == 0  # one right, one wrong
    assert grade(["c"]) == 0  # never below zero
    assert grade_objective(MULTI.kind, spec, None, 2).points == 0


def test_public_spec_hides_the_key() -> None:
    spec = build_spec(MULTI)
    assert public_spec(MULTI.kind, spec) == {
        "choices": [
            {"id": "a", "text": "list"},
            {"id": "b", "text": "dict"},
            {"id": "c", "text": "tuple"},
        ]
    }


def test_short_answers_match_exactly_or_by_pattern_and_slow_patterns_give_up() -> None:
    draft = QuestionDraft(
        QuestionKind.SHORT_ANSWER,
        "Capital of France?",
        accepted=(Accepted("Paris"), Accepted(r"(?:the )?city of light", MatchMode.PATTERN)),
    )
    spec = build_spec(draft)
    assert grade_objective(draft.kind, spec, {"text": "  paris "}, 1).correct
    assert grade_objective(draft.kind, spec, {"text": "The City of Light"}, 1).correct
    assert not grade_objective(draft.kind, spec, {"text": "Lyon"}, 1).correct
    # catastrophic backtracking, which the matcher gives up on (bench/hostile_inputs.py
    # measures how long that takes): graded as no match, not an error
    with pytest.raises(TimeoutError):
        regex.compile(EVIL_PATTERN).fullmatch(EVIL_ANSWER, timeout=PATTERN_TIMEOUT)
    result = grade_objective(EVIL.kind, build_spec(EVIL), {"text": EVIL_ANSWER}, 1)
    assert not result.correct


def test_numeric_tolerance() -> None:
    draft = QuestionDraft(QuestionKind.NUMERIC, "pi?", numeric_answer=3.14159, tolerance=0.001)
    spec = build_spec(draft)
    assert grade_objective(draft.kind, spec, {"number": 3.1420}, 1).correct
    assert not grade_objective(draft.kind, spec, {"number": 3.143}, 1).correct


@pytest.mark.parametrize(
    ("draft", "field"),
    [
        (QuestionDraft(QuestionKind.SINGLE_CHOICE, "?", choices=(Choice("a", True),)), "choices"),
        (QuestionDraft(QuestionKind.TRUE_FALSE, "?"), "booleanAnswer"),
        (QuestionDraft(QuestionKind.NUMERIC, "?", numeric_answer=float("nan")), "numericAnswer"),
        (
            QuestionDraft(QuestionKind.ESSAY, "?", points=3, rubric=(Criterion("x", 1),)),
            "rubric",
        ),
        (QuestionDraft(QuestionKind.CODE, "?"), "tests"),
        (QuestionDraft(QuestionKind.TRUE_FALSE, "?", points=0, boolean_answer=True), "points"),
    ],
)
def test_invalid_questions_name_the_field(draft: QuestionDraft, field: str) -> None:
    with pytest.raises(BadUserInput) as refused:
        build_spec(draft)
    assert refused.value.field == field


def test_responses_are_checked_against_the_kind() -> None:
    spec = build_spec(MULTI)
    with pytest.raises(BadUserInput):
        normalise_response(MULTI.kind, {"choiceIds": ["z"]}, spec)
    with pytest.raises(BadUserInput):
        normalise_response(QuestionKind.NUMERIC, {"number": float("inf")}, {})
    assert normalise_response(MULTI.kind, {"choiceIds": ["b", "a", "a"]}, spec) == {
        "choiceIds": ["a", "b"]
    }


def test_point_biserial_and_summary() -> None:
    assert point_biserial([True, True], [80.0, 90.0]) is None  # everyone right: undefined
    value = point_biserial([True, True, False, False], [90.0, 80.0, 40.0, 30.0])
    assert value is not None
    assert value > 0.9
    learner, question = uuid.uuid4(), uuid.uuid4()
    attempts = [
        ScoredAttempt(learner, 40.0, [ScoredAnswer(question, 0, 1, False)]),
        ScoredAttempt(learner, 90.0, [ScoredAnswer(question, 1, 1, True)]),  # best counts
    ]
    stats = summarise(attempts, passing_score=50)
    assert stats.learners == 1
    assert stats.mean == 90.0
    assert stats.pass_rate == 1.0
    assert stats.distribution[9] == 1
    assert stats.questions[0].difficulty == 1.0
