"""A stored statement as xAPI 1.0.3 JSON (what the export writes, one per line)."""

from __future__ import annotations

from typing import Any

from subgraphs.analytics.durations import format_duration
from subgraphs.analytics.models import StatementRow
from subgraphs.analytics.vocabulary import (
    ACTIVITY_TYPE_IRIS,
    VERB_IRIS,
    ActivityType,
    Verb,
    activity_iri,
)


def _result(row: StatementRow) -> dict[str, Any]:
    result: dict[str, Any] = {}
    score = {
        key: value
        for key, value in (
            ("scaled", row.score_scaled),
            ("raw", row.score_raw),
            ("max", row.score_max),
        )
        if value is not None
    }
    if score:
        result["score"] = score
    if row.success is not None:
        result["success"] = row.success
    if row.completion is not None:
        result["completion"] = row.completion
    if row.duration_seconds is not None:
        result["duration"] = format_duration(row.duration_seconds)
    if row.progress is not None:
        result["extensions"] = {
            "https://w3id.org/xapi/cmi5/result/extensions/progress": round(row.progress * 100)
        }
    return result


def as_xapi(row: StatementRow, base: str) -> dict[str, Any]:
    verb = Verb(row.verb)
    kind = ActivityType(row.object_type)
    statement: dict[str, Any] = {
        "id": str(row.id),
        "actor": {
            "objectType": "Agent",
            "account": {"homePage": base, "name": str(row.actor_id)},
        },
        "verb": {"id": VERB_IRIS[verb], "display": {"en-US": verb.value}},
        "object": {
            "objectType": "Activity",
            "id": activity_iri(base, kind, row.object_id),
            "definition": {"type": ACTIVITY_TYPE_IRIS[kind]},
        },
        "timestamp": row.timestamp.isoformat(),
        "stored": row.stored.isoformat(),
        "version": "1.0.3",
    }
    result = _result(row)
    if result:
        statement["result"] = result
    context: dict[str, Any] = {}
    if row.registration is not None:
        context["registration"] = str(row.registration)
    if row.course_id is not None and kind is not ActivityType.COURSE:
        parent = activity_iri(base, ActivityType.COURSE, row.course_id)
        context["contextActivities"] = {"parent": [{"id": parent, "objectType": "Activity"}]}
    if row.extensions:
        context["extensions"] = {
            f"{base}/xapi/extensions/{k}": v for k, v in row.extensions.items()
        }
    if context:
        statement["context"] = context
    return statement
