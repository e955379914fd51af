"""Signed, expiring links to a course's cartridge, and the route that builds and serves it.
GraphQL hands a link only to the course's instructors and administrators; the link carries
the proof (an HMAC over the course and the expiry). The package is built when it is
fetched, from the course as it is then."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response

from common.settings import Settings
from common.signed_links import link_problem, refusal, signed_query
from subgraphs.courses.cartridge.store import MissingFile, load_outline
from subgraphs.courses.cartridge.writer import write_cartridge
from subgraphs.courses.models import CourseRow

LINK_SECONDS = 900
PURPOSE = "cartridge-export"


def export_link(settings: Settings, course_id: uuid.UUID) -> tuple[str, datetime]:
    expires = int(time.time()) + LINK_SECONDS
    query = signed_query(settings.secret("download_secret"), PURPOSE, str(course_id), expires)
    base = settings.public_service_url("courses")
    return f"{base}/cartridges/{course_id}/course.imscc?{query}", datetime.fromtimestamp(
        expires, UTC
    )


async def serve_export(request: Request) -> Response:
    settings: Settings = request.app.state.runtime.settings
    try:
        course_id = uuid.UUID(request.path_params["course_id"])
    except ValueError:
        return refusal(404, "No such export.", "NOT_FOUND")
    problem = link_problem(
        settings.secret("download_secret"),
        PURPOSE,
        str(course_id),
        request.query_params.get("expires", ""),
        request.query_params.get("signature", ""),
    )
    if problem is not None:
        return refusal(403, problem, "FORBIDDEN")
    service = request.app.state.service
    async with service.lessons.sessions() as session:
        course = await session.get(CourseRow, course_id)
        if course is None:
            return refusal(404, "No such export.", "NOT_FOUND")
        try:
            outline = await load_outline(session, course, service.lessons.storage)
        except MissingFile:
            return refusal(409, "A file of the course is missing from storage.", "CONFLICT")
    data = await asyncio.to_thread(write_cartridge, outline)
    return Response(
        data,
        media_type="application/vnd.ims.imsccv1p3",
        headers={
            "content-disposition": 'attachment; filename="course.imscc"',
            "x-content-type-options": "nosniff",
            "cache-control": "private, no-store",
        },
    )
