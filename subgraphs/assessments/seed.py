"""Demo assessments for the dev run (idempotent): a question bank, a quiz with a random draw,
an essay assignment and a code exercise in Python Foundations, and graded attempts."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from common import clock
from common.db import create_engine, service_dsn, session_factory
from common.demo import demo_course_id, demo_id, demo_user_id
from common.settings import Settings
from subgraphs.assessments.models import AnswerRow, AssessmentRow, AttemptRow, QuestionRow, SlotRow
from subgraphs.assessments.questions import (
    Accepted,
    Choice,
    Criterion,
    QuestionDraft,
    QuestionKind,
    TestSpec,
    build_spec,
)

COURSE = "python-foundations"
INSTRUCTOR = "instructor@lms.local"

QUESTIONS: tuple[tuple[str, QuestionDraft, tuple[str, ...]], ...] = (
    (
        "def",
        QuestionDraft(
            QuestionKind.SINGLE_CHOICE,
            "Which keyword defines a function?",
            choices=(Choice("def", True), Choice("func", False), Choice("fn", False)),
        ),
        ("basics",),
    ),
    (
        "mutable",
        QuestionDraft(
            QuestionKind.MULTIPLE_CHOICE,
            "Which of these types are mutable?",
            points=2,
            choices=(
                Choice("list", True),
                Choice("dict", True),
                Choice("tuple", False),
                Choice("str", False),
            ),
        ),
        ("basics", "types"),
    ),
    (
        "none",
        QuestionDraft(QuestionKind.TRUE_FALSE, "None is falsy.", boolean_answer=True),
        ("basics",),
    ),
    (
        "len",
        QuestionDraft(
            QuestionKind.SHORT_ANSWER,
            "Which built-in returns the number of items in a list?",
            accepted=(Accepted("len"),),
        ),
        ("basics",),
    ),
    (
        "range",
        QuestionDraft(
            QuestionKind.NUMERIC,
            "How many numbers does range(2, 10, 2) produce?",
            numeric_answer=4,
        ),
        ("loops",),
    ),
    (
        "loop-else",
        QuestionDraft(
            QuestionKind.TRUE_FALSE,
            "A for loop's else block runs when the loop ends without break.",
            boolean_answer=True,
        ),
        ("loops",),
    ),
    (
        "essay",
        QuestionDraft(
            QuestionKind.ESSAY,
            "When would you choose a generator over a list? Give an example.",
            points=4,
            rubric=(Criterion("Explains lazy evaluation", 2), Criterion("Sound example", 2)),
        ),
        ("generators",),
    ),
    (
        "code",
        QuestionDraft(
            QuestionKind.CODE,
            "Write fizzbuzz(n) returning 'Fizz', 'Buzz', 'FizzBuzz' or str(n).",
            points=3,
            starter_code="def fizzbuzz(n):\n    ...\n",
            tests=(
                TestSpec("three", "assert fizzbuzz(3) == 'Fizz'", hidden=False),
                TestSpec("five", "assert fizzbuzz(5) == 'Buzz'"),
                TestSpec("fifteen", "assert fizzbuzz(15) == 'FizzBuzz'"),
                TestSpec("seven", "assert fizzbuzz(7) == '7'"),
            ),
        ),
        ("loops",),
    ),
)

# assessment key, title, kind, slots (question key or ("draw", tag, count)), options
ASSESSMENTS: tuple[tuple[str, str, str, tuple[Any, ...], dict[str, Any]], ...] = (
    (
        "quiz",
        "Python basics check",
        "QUIZ",
        ("def", "mutable", "none", "len", ("draw", "loops", 2)),
        {"time_limit_minutes": 15, "attempts_allowed": 3, "release_immediately": True},
    ),
    ("essay", "Generators reflection", "ASSIGNMENT", ("essay",), {}),
    ("code", "FizzBuzz exercise", "ASSIGNMENT", ("code",), {"release_immediately": True}),
)


def question_id(key: str) -> uuid.UUID:
    return demo_id("question", COURSE, key)


def assessment_id(key: str) -> uuid.UUID:
    return demo_id("assessment", COURSE, key)


def _questions(owner: uuid.UUID, course: uuid.UUID) -> list[QuestionRow]:
    return [
        QuestionRow(
            id=question_id(key),
            course_id=course,
            kind=draft.kind.value,
            prompt=draft.prompt,
            points=draft.points,
            tags=list(tags),
            spec=build_spec(draft),
            created_by=owner,
        )
        for key, draft, tags in QUESTIONS
    ]


def _graded_attempt(learner: str, points: Mapping[str, float], when: datetime) -> list[Any]:
    """A submitted, graded quiz attempt of the basics questions."""
    keys = ["def", "mutable", "none", "len", "range", "loop-else"]
    maximum = {"mutable": 2.0}
    attempt = AttemptRow(
        id=demo_id("attempt", learner, "quiz"),
        assessment_id=assessment_id("quiz"),
        user_id=demo_user_id(learner),
        number=1,
        status="GRADED",
        question_ids=[question_id(key) for key in keys],
        created_at=when,
        deadline=when + timedelta(minutes=15),
        submitted_at=when + timedelta(minutes=6),
        score=sum(points.values()),
        max_score=sum(maximum.get(key, 1.0) for key in keys),
        graded_at=when + timedelta(minutes=6),
    )
    answers = [
        AnswerRow(
            attempt_id=attempt.id,
            question_id=question_id(key),
            response={},
            points=points.get(key, 0.0),
            correct=points.get(key, 0.0) >= maximum.get(key, 1.0),
            graded_at=when + timedelta(minutes=6),
        )
        for key in keys
    ]
    return [attempt, *answers]


async def seed(settings: Settings) -> list[str]:
    engine = create_engine(service_dsn(settings, "assessments"), pool_size=1)
    owner, course = demo_user_id(INSTRUCTOR), demo_course_id(COURSE)
    try:
        async with session_factory(engine).begin() as session:
            if await session.scalar(select(QuestionRow.id).limit(1)) is not None:
                return ["assessments: demo assessments already present"]
            session.add_all(_questions(owner, course))
            await session.flush()
            for key, title, kind, slots, options in ASSESSMENTS:
                session.add(
                    AssessmentRow(
                        id=assessment_id(key),
                        course_id=course,
                        title=title,
                        kind=kind,
                        published=True,
                        created_by=owner,
                        **options,
                    )
                )
                await session.flush()
                for position, slot in enumerate(slots):
                    drawn = isinstance(slot, tuple)
                    session.add(
                        SlotRow(
                            assessment_id=assessment_id(key),
                            position=position,
                            question_id=None if drawn else question_id(slot),
                            draw_tag=slot[1] if drawn else None,
                            draw_count=slot[2] if drawn else 1,
                        )
                    )
            await session.flush()
            started = clock.now() - timedelta(days=2)
            for learner, points in (
                ("student@lms.local", {"def": 1, "mutable": 2, "none": 1, "len": 1, "range": 1}),
                ("student2@lms.local", {"def": 1, "none": 1, "mutable": 1}),
            ):
                attempt, *answers = _graded_attempt(learner, points, started)
                session.add(attempt)
                await session.flush()  # answers refer to it
                session.add_all(answers)
    finally:
        await engine.dispose()
    return [f"assessments: {len(QUESTIONS)} questions, {len(ASSESSMENTS)} assessments, 2 attempts"]
