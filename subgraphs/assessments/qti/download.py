"""Signed, expiring links to a question bank's QTI package, and the route that builds and
serves it. GraphQL hands a link only to the course's instructors and administrators; the
link carries the proof (an HMAC over the course, the version and the expiry)."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response

from common.settings import Settings
from common.signed_links import link_problem, refusal, signed_query
from subgraphs.assessments.qti.cc_assessments import AssessmentOut, export_assessments
from subgraphs.assessments.qti.names import QtiVersion
from subgraphs.assessments.qti.package import export_package

LINK_SECONDS = 900
PURPOSE = "qti-export"


def export_link(
    settings: Settings, course_id: uuid.UUID, version: QtiVersion
) -> tuple[str, datetime]:
    expires = int(time.time()) + LINK_SECONDS
    subject = f"{course_id}:{version.value}"
    query = signed_query(settings.secret("download_secret"), PURPOSE, subject, expires)
    base = settings.public_service_url("assessments")
    url = f"{base}/qti/{course_id}/{version.value}/questions.zip?{query}"
    return url, datetime.fromtimestamp(expires, UTC)


def _checked(request: Request) -> tuple[uuid.UUID, QtiVersion] | Response:
    """The link's course and version, or the refusal to send."""
    settings: Settings = request.app.state.runtime.settings
    try:
        course_id = uuid.UUID(request.path_params["course_id"])
        version = QtiVersion(request.path_params["version"])
    except ValueError:
        return refusal(404, "No such export.", "NOT_FOUND")
    problem = link_problem(
        settings.secret("download_secret"),
        PURPOSE,
        f"{course_id}:{version.value}",
        request.query_params.get("expires", ""),
        request.query_params.get("signature", ""),
    )
    if problem is not None:
        return refusal(403, problem, "FORBIDDEN")
    return course_id, version


async def serve_assessments(request: Request) -> Response:
    """The course's assessments as Common Cartridge QTI 1.2 resources (a zip the courses
    subgraph places in a cartridge); the bank's link proof opens it too: the same
    instructors may export both."""
    checked = _checked(request)
    if isinstance(checked, Response):
        return checked
    course_id, _ = checked
    service = request.app.state.service
    rows = (await service.assessments.of_courses([course_id])).get(course_id, [])
    slots = await service.assessments.slots_of([row.id for row in rows])
    wanted = [s.question_id for row in rows for s in slots.get(row.id, []) if s.question_id]
    questions = await service.bank.by_ids(list(dict.fromkeys(wanted)))
    data = export_assessments(
        [AssessmentOut(row, slots.get(row.id, []), questions) for row in rows]
    )
    return Response(
        data,
        media_type="application/zip",
        headers={
            "content-disposition": 'attachment; filename="assessments.zip"',
            "x-content-type-options": "nosniff",
            "cache-control": "private, no-store",
        },
    )


async def serve_export(request: Request) -> Response:
    checked = _checked(request)
    if isinstance(checked, Response):
        return checked
    course_id, version = checked
    rows = await request.app.state.service.bank.exportable(course_id)
    package = export_package(rows, version)
    return Response(
        package.data,
        media_type="application/zip",
        headers={
            "content-disposition": 'attachment; filename="questions.zip"',
            "x-content-type-options": "nosniff",
            "cache-control": "private, no-store",
        },
    )
