"""Domain events as xAPI statements: what each event says a learner did.

A statement's id is derived from the event's id and the verb, so an event (redelivered past
the inbox, or replayed from a dead-letter queue) never makes a statement twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Final

from common.events.envelope import Event
from subgraphs.analytics.attempts import ItemResult
from subgraphs.analytics.statements import NewStatement
from subgraphs.analytics.vocabulary import ActivityType, Verb

STATEMENTS_NAMESPACE: Final = uuid.UUID("0b1f3c52-7d4e-4a61-9e8f-2c5d6a7b8e90")


def _id(event: Event, verb: Verb) -> uuid.UUID:
    return uuid.uuid5(STATEMENTS_NAMESPACE, f"{event.id}:{verb.value}")


def _uuid(event: Event, name: str) -> uuid.UUID:
    return uuid.UUID(str(event.data[name]))


def _statement(
    event: Event, verb: Verb, kind: ActivityType, object_field: str, **result: object
) -> NewStatement:
    return NewStatement(
        id=_id(event, verb),
        actor_id=_uuid(event, "user_id"),
        verb=verb,
        object_type=kind,
        object_id=_uuid(event, object_field),
        timestamp=event.occurred_at,
        course_id=_uuid(event, "course_id"),
        registration=_uuid(event, "enrollment_id") if "enrollment_id" in event.data else None,
        **result,  # type: ignore[arg-type]
    )


def enrollment_created(event: Event) -> NewStatement:
    return _statement(event, Verb.REGISTERED, ActivityType.COURSE, "course_id")


def enrollment_dropped(event: Event) -> NewStatement:
    return _statement(event, Verb.EXITED, ActivityType.COURSE, "course_id")


def lesson_completed(event: Event) -> NewStatement:
    return _statement(
        event,
        Verb.COMPLETED,
        ActivityType.LESSON,
        "lesson_id",
        completion=True,
        # the enrollment's progress is a percentage; statements and aggregates hold 0..1
        progress=max(0.0, min(1.0, float(event.data["progress"]) / 100)),
    )


def enrollment_completed(event: Event) -> NewStatement:
    return _statement(event, Verb.COMPLETED, ActivityType.COURSE, "course_id", completion=True)


def certificate_issued(event: Event) -> NewStatement:
    return _statement(
        event,
        Verb.EARNED,
        ActivityType.CERTIFICATE,
        "certificate_id",
        extensions={"code": event.data["code"]},
    )


def submission_submitted(event: Event) -> NewStatement:
    return _statement(event, Verb.ATTEMPTED, ActivityType.ASSESSMENT, "assessment_id")


def submission_graded(event: Event) -> NewStatement:
    passed = bool(event.data["passed"])
    maximum = float(event.data["max_score"])
    items = tuple(ItemResult.from_json(item) for item in event.data.get("items") or ())
    extensions: dict[str, object] = {"attempt_id": event.data["attempt_id"]}
    if items:  # each question's result, kept with the statement (context extensions)
        extensions["items"] = [item.as_json() for item in items]
    return _statement(
        event,
        Verb.PASSED if passed else Verb.FAILED,
        ActivityType.ASSESSMENT,
        "assessment_id",
        success=passed,
        completion=True,
        score_raw=float(event.data["score"]),
        score_max=maximum,
        score_scaled=max(0.0, min(1.0, float(event.data["percent"]) / 100)),
        extensions=extensions,
        items=items,
    )


TRANSLATIONS: Final[dict[str, Callable[[Event], NewStatement]]] = {
    "enrollment.created": enrollment_created,
    "enrollment.dropped": enrollment_dropped,
    "lesson.completed": lesson_completed,
    "enrollment.completed": enrollment_completed,
    "certificate.issued": certificate_issued,
    "submission.submitted": submission_submitted,
    "submission.graded": submission_graded,
}
