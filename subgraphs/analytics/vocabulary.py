"""The xAPI vocabulary the platform speaks: verbs (ADL's where it has one) and activity types,
and the IRIs a statement's object and verb are written with."""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Final


class Verb(StrEnum):
    REGISTERED = "registered"
    LAUNCHED = "launched"
    VIEWED = "viewed"
    PROGRESSED = "progressed"
    EXPERIENCED = "experienced"
    COMPLETED = "completed"
    ATTEMPTED = "attempted"
    PASSED = "passed"
    FAILED = "failed"
    EARNED = "earned"
    EXITED = "exited"  # the learner left the course: their enrollment was dropped


VERB_IRIS: Final[dict[Verb, str]] = {
    Verb.REGISTERED: "http://adlnet.gov/expapi/verbs/registered",
    Verb.LAUNCHED: "http://adlnet.gov/expapi/verbs/launched",
    Verb.VIEWED: "http://id.tincanapi.com/verb/viewed",
    Verb.PROGRESSED: "http://adlnet.gov/expapi/verbs/progressed",
    Verb.EXPERIENCED: "http://adlnet.gov/expapi/verbs/experienced",
    Verb.COMPLETED: "http://adlnet.gov/expapi/verbs/completed",
    Verb.ATTEMPTED: "http://adlnet.gov/expapi/verbs/attempted",
    Verb.PASSED: "http://adlnet.gov/expapi/verbs/passed",
    Verb.FAILED: "http://adlnet.gov/expapi/verbs/failed",
    Verb.EARNED: "http://id.tincanapi.com/verb/earned",
    Verb.EXITED: "http://adlnet.gov/expapi/verbs/exited",
}

# What only the client knows, and may therefore record itself (recordActivity).
CLIENT_VERBS: Final = frozenset({Verb.LAUNCHED, Verb.VIEWED, Verb.PROGRESSED, Verb.EXPERIENCED})
VIEWS: Final = frozenset({Verb.LAUNCHED, Verb.VIEWED})
SCORED: Final = frozenset({Verb.PASSED, Verb.FAILED})


class ActivityType(StrEnum):
    COURSE = "course"
    MODULE = "module"
    LESSON = "lesson"
    ASSESSMENT = "assessment"
    QUESTION = "question"
    CERTIFICATE = "certificate"


ACTIVITY_TYPE_IRIS: Final[dict[ActivityType, str]] = {
    ActivityType.COURSE: "http://adlnet.gov/expapi/activities/course",
    ActivityType.MODULE: "http://adlnet.gov/expapi/activities/module",
    ActivityType.LESSON: "http://adlnet.gov/expapi/activities/lesson",
    ActivityType.ASSESSMENT: "http://adlnet.gov/expapi/activities/assessment",
    ActivityType.QUESTION: "http://adlnet.gov/expapi/activities/cmi.interaction",
    ActivityType.CERTIFICATE: "https://w3id.org/xapi/openbadges/activity-types/badge",
}


def activity_iri(base: str, kind: ActivityType, item: uuid.UUID) -> str:
    """The activity's IRI: where the platform serves it, by type and id."""
    return f"{base.rstrip('/')}/xapi/activities/{kind.value}/{item}"
