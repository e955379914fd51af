"""Signed, expiring links to a course's cartridge, and the route that builds and serves it.
GraphQL hands a link only to the course's instructors and administrators; the link carries
the proof (an HMAC over the course, the bank's own link proof and the expiry). The package is built
when it is fetched, from the course as it is then."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from common.graphql.peers import PeerUnavailable
from common.settings import Settings
from common.signed_links import link_problem, refusal, signed_query
from subgraphs.courses.cartridge.bank import BankItem, BankLink, fetch_bank
from subgraphs.courses.cartridge.qti12 import AssessmentFile, fetch_assessments
from subgraphs.courses.cartridge.store import MissingFile, load_outline
from subgraphs.courses.cartridge.writer import write_cartridge
from subgraphs.courses.models import CourseRow

LINK_SECONDS = 900
PURPOSE = "cartridge-export"


def _subject(course_id: uuid.UUID, bank: BankLink | None) -> str:
    """What the signature covers: the course, and the bank's own link proof if any."""
    return f"{course_id}:{bank.expires}:{bank.signature}" if bank else str(course_id)


def export_link(
    settings: Settings, course_id: uuid.UUID, bank: BankLink | None
) -> tuple[str, datetime]:
    """Ours, carrying the bank's link proof the assessments subgraph gave the caller (the
    route fetches the bank with it when the package is built)."""
    expires = int(time.time()) + LINK_SECONDS
    subject = _subject(course_id, bank)
    query = signed_query(settings.secret("download_secret"), PURPOSE, subject, expires)
    if bank is not None:
        query += "&" + urlencode({"bank_expires": bank.expires, "bank_signature": bank.signature})
    base = settings.public_service_url("courses")
    url = f"{base}/cartridges/{course_id}/course.imscc?{query}"
    return url, datetime.fromtimestamp(expires, UTC)


async def serve_export(request: Request) -> Response:
    runtime = request.app.state.runtime
    settings: Settings = runtime.settings
    try:
        course_id = uuid.UUID(request.path_params["course_id"])
    except ValueError:
        return refusal(404, "No such export.", "NOT_FOUND")
    params = request.query_params
    bank = (
        BankLink(params["bank_expires"], params["bank_signature"])
        if "bank_expires" in params and "bank_signature" in params
        else None
    )
    problem = link_problem(
        settings.secret("download_secret"),
        PURPOSE,
        _subject(course_id, bank),
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
    items: list[BankItem] = []
    assessments: list[AssessmentFile] = []
    try:
        if bank is not None:
            items = await fetch_bank(runtime.http, settings, course_id, bank)
            base = settings.service_url("assessments").removesuffix("/").removesuffix("/graphql")
            assessments = await fetch_assessments(
                runtime.http, base, str(course_id), bank.expires, bank.signature
            )
    except PeerUnavailable as unavailable:
        return refusal(503, unavailable.message, "SERVICE_UNAVAILABLE")
    platform = settings.public_service_url("courses")  # the LTI issuer, as ltiPlatform says
    data = await asyncio.to_thread(write_cartridge, outline, items, assessments, platform=platform)
    return Response(
        data,
        media_type="application/vnd.ims.imsccv1p3",
        headers={
            "content-disposition": 'attachment; filename="course.imscc"',
            "x-content-type-options": "nosniff",
            "cache-control": "private, no-store",
        },
    )
