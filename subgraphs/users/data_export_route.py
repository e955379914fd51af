"""`GET /exports/<id>.zip?expires=…&signature=…`: a data export's archive, for whoever holds
a valid link (no session needed), until the link or the export expires."""

from __future__ import annotations

import uuid

from starlette.requests import Request
from starlette.responses import Response

from common.signed_links import refusal
from subgraphs.users.data_exports import LinkRefused
from subgraphs.users.services import UsersServices


async def download_export(request: Request) -> Response:
    services: UsersServices = request.app.state.service
    try:
        export_id = uuid.UUID(request.path_params["export_id"])
    except ValueError:
        return refusal(404, "This data export does not exist.", "NOT_FOUND")
    query = request.query_params
    found = await services.exports.download(
        export_id, query.get("expires", ""), query.get("signature", "")
    )
    if isinstance(found, LinkRefused):
        code = "FORBIDDEN" if found.status == 403 else "NOT_FOUND"
        return refusal(found.status, found.message, code)
    return Response(
        found.archive,
        media_type="application/zip",
        headers={
            "content-disposition": f'attachment; filename="{found.filename}"',
            "x-content-type-options": "nosniff",
            "cache-control": "private, no-store",
            "etag": f'"{found.sha256}"',
        },
    )
