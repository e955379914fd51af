"""`GET /xapi/courses/{course_id}/statements.jsonl`: every statement of a course as xAPI JSON,
one per line, streamed, for a learning record store. The caller signs in with a bearer token
(no link to leak: an LRS holds its own token) and must teach the course or be an
administrator; the course is asked of the courses subgraph as the caller."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from common.errors import DomainError
from common.graphql.app import ServiceRuntime
from common.graphql.catalog import course_facts_loader
from common.graphql.context import authenticate
from common.graphql.peers import PeerClient
from common.signed_links import refusal
from subgraphs.analytics.services import AnalyticsServices
from subgraphs.analytics.xapi import as_xapi


def export_path(course_id: uuid.UUID) -> str:
    return f"/xapi/courses/{course_id}/statements.jsonl"


async def _lines(services: AnalyticsServices, course_id: uuid.UUID) -> AsyncIterator[bytes]:
    async for row in services.analytics.course_statements(course_id):
        yield orjson.dumps(as_xapi(row, services.activity_base)) + b"\n"


async def course_statements(request: Request) -> Response:
    runtime: ServiceRuntime = request.app.state.runtime
    services: AnalyticsServices = request.app.state.service
    authorization = request.headers.get("authorization")
    principal, problem = await authenticate(runtime.verifier, authorization)
    if principal is None:
        message = problem.message if problem else "Sign in with a bearer token."
        return refusal(401, message, "UNAUTHENTICATED")
    try:
        course_id = uuid.UUID(request.path_params["course_id"])
    except ValueError:
        return refusal(404, "No course has this id.", "NOT_FOUND")
    courses = PeerClient(runtime.http, "courses", runtime.settings.service_url("courses"))
    try:
        course = await course_facts_loader(courses, authorization).load(course_id)
    except DomainError as error:
        return refusal(503, error.message, "SERVICE_UNAVAILABLE")
    if course is None:
        return refusal(404, "No course has this id.", "NOT_FOUND")
    if not (principal.is_admin or course.taught_by(principal.user_id)):
        return refusal(
            403, "Only the course's instructors and administrators export it.", "FORBIDDEN"
        )
    return StreamingResponse(
        _lines(services, course_id),
        media_type="application/x-ndjson",
        headers={
            "content-disposition": f'attachment; filename="course-{course_id}-statements.jsonl"',
            "x-content-type-options": "nosniff",
            "cache-control": "private, no-store",
        },
    )
