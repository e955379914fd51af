"""Signed, expiring download links for attachments, and the route that serves them.

GraphQL hands out a link only to those allowed to read the lesson; the link itself carries
the proof (an HMAC over the attachment id and expiry), so a browser can fetch the file
without the access token, and a link stops working when it expires.
"""

from __future__ import annotations

import time
import uuid
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response

from common.settings import Settings
from common.signed_links import link_problem, refusal, signed_query

LINK_SECONDS = 3600
PURPOSE = "attachment"


def download_url(settings: Settings, attachment_id: uuid.UUID, filename: str) -> str:
    expires = int(time.time()) + LINK_SECONDS
    query = signed_query(settings.secret("download_secret"), PURPOSE, str(attachment_id), expires)
    base = settings.public_service_url("courses")
    return f"{base}/files/{attachment_id}/{quote(filename)}?{query}"


async def serve_attachment(request: Request) -> Response:
    runtime = request.app.state.runtime
    settings: Settings = runtime.settings
    try:
        attachment_id = uuid.UUID(request.path_params["attachment_id"])
    except ValueError:
        return refusal(404, "No such file.", "NOT_FOUND")
    query = request.query_params
    problem = link_problem(
        settings.secret("download_secret"),
        PURPOSE,
        str(attachment_id),
        query.get("expires", ""),
        query.get("signature", ""),
    )
    if problem is not None:
        return refusal(403, problem, "FORBIDDEN")
    service = request.app.state.service
    attachment = await service.lessons.attachment(attachment_id)
    data = None if attachment is None else await service.lessons.storage.get(attachment.storage_key)
    if attachment is None or data is None:
        return refusal(404, "No such file.", "NOT_FOUND")
    disposition = f"attachment; filename*=UTF-8''{quote(attachment.filename)}"
    return Response(
        data,
        media_type=attachment.content_type,
        headers={
            "content-disposition": disposition,
            "x-content-type-options": "nosniff",
            "cache-control": "private, max-age=300",
            "etag": f'"{attachment.sha256}"',
        },
    )
