"""Signed, expiring download links for attachments, and the route that serves them.

GraphQL hands out a link only to those allowed to read the lesson; the link itself carries
the proof (an HMAC over the attachment id and expiry), so a browser can fetch the file
without the access token, and a link stops working when it expires.
"""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from urllib.parse import quote, urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from common.settings import Settings

LINK_SECONDS = 3600


def _signature(secret: str, attachment_id: uuid.UUID, expires: int) -> str:
    message = f"{attachment_id}:{expires}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def download_url(settings: Settings, attachment_id: uuid.UUID, filename: str) -> str:
    expires = int(time.time()) + LINK_SECONDS
    query = urlencode(
        {
            "expires": expires,
            "signature": _signature(settings.secret("download_secret"), attachment_id, expires),
        }
    )
    base = settings.public_service_url("courses")
    return f"{base}/files/{attachment_id}/{quote(filename)}?{query}"


def _refuse(status: int, message: str, code: str) -> Response:
    return JSONResponse({"errors": [{"message": message, "extensions": {"code": code}}]}, status)


async def serve_attachment(request: Request) -> Response:
    runtime = request.app.state.runtime
    settings: Settings = runtime.settings
    try:
        attachment_id = uuid.UUID(request.path_params["attachment_id"])
        expires = int(request.query_params.get("expires", ""))
    except ValueError:
        return _refuse(404, "No such file.", "NOT_FOUND")
    expected = _signature(settings.secret("download_secret"), attachment_id, expires)
    if not hmac.compare_digest(expected, request.query_params.get("signature", "")):
        return _refuse(403, "The download link is not valid.", "FORBIDDEN")
    if expires < time.time():
        return _refuse(403, "The download link has expired; ask for a new one.", "FORBIDDEN")
    service = request.app.state.service
    attachment = await service.lessons.attachment(attachment_id)
    data = None if attachment is None else await service.lessons.storage.get(attachment.storage_key)
    if attachment is None or data is None:
        return _refuse(404, "No such file.", "NOT_FOUND")
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
