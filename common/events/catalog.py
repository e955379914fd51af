"""The event catalogue: every event type, who emits it, who consumes it, and its payload.

This table is the reference (docs/events.md is generated from it by `lms events catalog`).
A payload field is `name: kind` where kind is uuid, str, int, float, bool or list (a JSON
array, its items described in the event's doc); a trailing `?` allows null. Adding a field
that consumers may ignore keeps the version; renaming, removing or retyping one is a new
version, and producers emit the new version only once every consumer reads it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Final


@dataclass(frozen=True, slots=True)
class EventSpec:
    type: str
    version: int
    producer: str
    consumers: tuple[str, ...]
    fields: dict[str, str]
    doc: str


CATALOG: Final[tuple[EventSpec, ...]] = (
    EventSpec(
        "user.registered",
        1,
        "users",
        ("notifications",),
        {"user_id": "uuid", "name": "str", "locale": "str", "welcome": "bool?"},
        "A person created an account. Notifications sends the welcome, unless `welcome` is "
        "false (that e-mail address had its welcomes for the day).",
    ),
    EventSpec(
        "user.email_verified",
        1,
        "users",
        ("notifications",),
        {"user_id": "uuid"},
        "A user opened a verification (or password reset) link: their e-mail address is "
        "verified. Notifications sends the e-mails it held for it (the welcome among them).",
    ),
    EventSpec(
        "user.updated",
        1,
        "users",
        ("users",),
        {"user_id": "uuid"},
        "A user's profile changed (name, avatar, bio, locale, time zone, roles). The users "
        "worker invalidates the cached user.",
    ),
    EventSpec(
        "user.deleted",
        1,
        "users",
        ("users", "courses", "enrollments", "assessments", "notifications", "analytics"),
        {"user_id": "uuid"},
        "An account was deleted (GDPR erasure). Every domain erases or anonymises the user's "
        "data; the users worker invalidates the cached user.",
    ),
    EventSpec(
        "user.export_requested",
        1,
        "users",
        ("users", "courses", "enrollments", "assessments", "notifications", "analytics"),
        {"export_id": "uuid", "user_id": "uuid", "max_part_bytes": "int"},
        "A data export (GDPR art. 15/20) was requested. Every domain gathers the user's data "
        "and sends it back as `user.export_part`, at most `max_part_bytes` of JSON.",
    ),
    EventSpec(
        "user.export_part",
        1,
        "each subgraph",
        ("users",),
        {
            "export_id": "uuid",
            "user_id": "uuid",
            "part": "str",
            "content": "str?",
            "error": "str?",
        },
        "One domain's part of a data export: `content` (JSON text), or `error` (too large). "
        "Users assembles the archive once every part is in.",
    ),
    EventSpec(
        "user.export_ready",
        1,
        "users",
        ("notifications",),
        {"export_id": "uuid", "user_id": "uuid"},
        "A data export is ready to download. Notifications tells the user.",
    ),
    EventSpec(
        "course.published",
        1,
        "courses",
        ("courses", "notifications"),
        {"course_id": "uuid", "title": "str"},
        "A course was approved and published. Its enrolled learners are notified; the "
        "courses worker invalidates the cached courses (the catalogue's lists changed).",
    ),
    EventSpec(
        "course.updated",
        1,
        "courses",
        ("courses",),
        {"course_id": "uuid"},
        "A course's details changed (title, slug, description, category, tags, language, "
        "level, co-instructors, template flag). The courses worker invalidates the cached course.",
    ),
    EventSpec(
        "course.unpublished",
        1,
        "courses",
        ("courses",),
        {"course_id": "uuid"},
        "A course left the catalogue for its instructors alone (an archived course sent to "
        "review again). The courses worker invalidates the cached courses.",
    ),
    EventSpec(
        "course.archived",
        1,
        "courses",
        ("courses",),
        {"course_id": "uuid"},
        "A course was archived: still readable, out of the catalogue. The courses worker "
        "invalidates the cached courses.",
    ),
    EventSpec(
        "module.changed",
        1,
        "courses",
        ("courses",),
        {"module_id": "uuid", "course_id": "uuid", "change": "str"},
        "A course's outline changed: a module was created, updated, deleted or reordered "
        "(`change`). The courses worker invalidates the cached course.",
    ),
    EventSpec(
        "lesson.changed",
        1,
        "courses",
        ("courses",),
        {"lesson_id": "uuid", "course_id": "uuid", "change": "str"},
        "A lesson was created, updated, deleted or reordered, or its content saved or "
        "restored (`change`: created, updated, deleted, reordered, content). The courses "
        "worker invalidates the cached lesson, and its course unless only the content changed.",
    ),
    EventSpec(
        "category.changed",
        1,
        "courses",
        ("courses",),
        {"category_id": "uuid", "change": "str"},
        "A category was created (`change`). The courses worker invalidates the cached categories.",
    ),
    EventSpec(
        "enrollment.created",
        1,
        "enrollments",
        ("notifications", "analytics"),
        {"enrollment_id": "uuid", "user_id": "uuid", "course_id": "uuid", "course_title": "str"},
        "A learner was enrolled (or re-enrolled). Notifications confirms it.",
    ),
    EventSpec(
        "enrollment.dropped",
        1,
        "enrollments",
        ("analytics",),
        {"enrollment_id": "uuid", "user_id": "uuid", "course_id": "uuid"},
        "A learner dropped an enrollment (or an instructor dropped it). Analytics stops counting "
        "the learner as active in the course until they enrol again.",
    ),
    EventSpec(
        "enrollment.cohort_assigned",
        1,
        "enrollments",
        ("analytics",),
        {"enrollment_id": "uuid", "user_id": "uuid", "course_id": "uuid", "cohort_id": "uuid"},
        "An instructor put a learner's enrollment in one of the course's cohorts (or moved it "
        "to another). Analytics compares the cohorts.",
    ),
    EventSpec(
        "lesson.completed",
        1,
        "enrollments",
        ("analytics",),
        {
            "enrollment_id": "uuid",
            "user_id": "uuid",
            "course_id": "uuid",
            "lesson_id": "uuid",
            "progress": "float",
        },
        "A learner completed a lesson; progress is the enrollment's new progress.",
    ),
    EventSpec(
        "enrollment.completed",
        1,
        "enrollments",
        ("analytics",),
        {"enrollment_id": "uuid", "user_id": "uuid", "course_id": "uuid"},
        "An enrollment reached 100 % progress.",
    ),
    EventSpec(
        "certificate.issued",
        1,
        "enrollments",
        ("notifications", "analytics"),
        {
            "certificate_id": "uuid",
            "user_id": "uuid",
            "course_id": "uuid",
            "code": "str",
            "course_title": "str",
        },
        "A certificate was issued for a completed enrollment. The learner is notified.",
    ),
    EventSpec(
        "assessment.published",
        1,
        "assessments",
        ("enrollments",),
        {"assessment_id": "uuid", "course_id": "uuid", "published": "bool"},
        "An assessment was opened to learners (or closed again). Enrollments counts it "
        "toward course progress.",
    ),
    EventSpec(
        "submission.graded",
        1,
        "assessments",
        ("enrollments", "notifications", "analytics"),
        {
            "attempt_id": "uuid",
            "assessment_id": "uuid",
            "assessment_title": "str",
            "course_id": "uuid",
            "user_id": "uuid",
            "score": "float",
            "max_score": "float",
            "percent": "float",
            "passed": "bool",
            "items": "list?",
        },
        "An attempt is fully graded. Enrollments updates progress; the learner is notified. "
        "`items` (absent from older events): one object per question of the attempt, "
        "`{question_id, points, max_points, correct}`; analytics counts each question's "
        "performance.",
    ),
    EventSpec(
        "submission.submitted",
        1,
        "assessments",
        ("assessments", "analytics"),
        {
            "attempt_id": "uuid",
            "assessment_id": "uuid",
            "course_id": "uuid",
            "user_id": "uuid",
        },
        "A learner's attempt was submitted (by them, or when its time ran out). The "
        "assessments worker checks its code and essay answers for plagiarism.",
    ),
    EventSpec(
        "plagiarism.recheck_requested",
        1,
        "assessments",
        ("assessments",),
        {"assessment_id": "uuid"},
        "An instructor asked for an assessment's submissions to be checked for plagiarism "
        "again (after changing its settings, say). The assessments worker does it.",
    ),
    EventSpec(
        "analytics.at_risk_digest",
        1,
        "analytics",
        ("notifications",),
        {
            "course_id": "uuid",
            "course_title": "str",
            "instructor_ids": "list",
            "learners": "list",
        },
        "Learners of a course newly flagged at risk since its last digest (the analytics "
        "worker, every LMS_AT_RISK_DIGEST_HOURS): `instructor_ids` (uuids), `learners` "
        "(objects of `user_id`, `probability`, `reasons`: a list of sentences). "
        "Notifications tells the instructors (category AT_RISK).",
    ),
)

SPECS: Final = {(spec.type, spec.version): spec for spec in CATALOG}

_KINDS: Final[dict[str, tuple[type, ...]]] = {
    "str": (str,),
    "int": (int,),
    "float": (int, float),
    "bool": (bool,),
    "uuid": (str,),
    "list": (list,),
}


def _check(kind: str, value: Any) -> bool:
    optional = kind.endswith("?")
    kind = kind.rstrip("?")
    if value is None:
        return optional
    if kind != "bool" and isinstance(value, bool):
        return False
    if not isinstance(value, _KINDS[kind]):
        return False
    if kind == "uuid":
        try:
            uuid.UUID(str(value))
        except ValueError:
            return False
    return True


def validate_payload(event_type: str, version: int, data: Any) -> str | None:
    """None when `data` is a valid payload of that event; else what is wrong."""
    spec = SPECS.get((event_type, version))
    if spec is None:
        return f"unknown event {event_type} v{version}"
    if not isinstance(data, dict):
        return f"{event_type}: the payload is not an object"
    for name, kind in spec.fields.items():
        if name not in data and not kind.endswith("?"):
            return f"{event_type}: {name} is missing"
        if name in data and not _check(kind, data[name]):
            return f"{event_type}: {name} is not a {kind}"
    return None


def consumed_by(service: str) -> list[EventSpec]:
    return [spec for spec in CATALOG if service in spec.consumers]


def markdown() -> str:
    """The catalogue as a Markdown document (docs/events.md)."""
    lines = [
        "# Event catalogue",
        "",
        "Generated from `common/events/catalog.py` by `lms events catalog`; do not edit.",
        "Events travel on the topic exchange `lms.events`, routing key = type.",
        "",
        "| event | version | producer | consumers | payload | meaning |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for spec in CATALOG:
        payload = ", ".join(f"`{name}: {kind}`" for name, kind in spec.fields.items())
        consumers = ", ".join(spec.consumers) or "(none yet)"
        lines.append(
            f"| `{spec.type}` | {spec.version} | {spec.producer} | {consumers} | {payload} | "
            f"{spec.doc} |"
        )
    return "\n".join(lines) + "\n"
