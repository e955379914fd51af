"""The enrollments subgraph as an ASGI app: GraphQL plus certificate pages and PDFs, and the
JWKS that certificates verify with."""

from __future__ import annotations

import asyncio

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from common.auth.keys import certificate_signing_key
from common.errors import DomainError
from common.graphql.app import ServiceSpec, create_service_app, jwks_route
from common.settings import Settings
from subgraphs.enrollments import certificates
from subgraphs.enrollments.events import handlers
from subgraphs.enrollments.loaders import build_loaders
from subgraphs.enrollments.models import EVENTS
from subgraphs.enrollments.schema import schema
from subgraphs.enrollments.services import EnrollmentsServices, build_services


async def certificate_document(request: Request) -> Response:
    """GET /certificates/<code>.pdf: the PDF; /certificates/<code>: the verification (JSON)."""
    services: EnrollmentsServices = request.app.state.service
    name: str = request.path_params["name"]
    as_pdf = name.endswith(".pdf")
    try:
        row = await services.enrollments.certificate(name.removesuffix(".pdf"))
    except DomainError as error:
        status = 404 if error.code == "NOT_FOUND" else 400
        body = {"errors": [{"message": error.message, "extensions": {"code": error.code.value}}]}
        return JSONResponse(body, status)
    if not as_pdf:
        return JSONResponse({"valid": True, "credential": services.enrollments.verify(row)})
    pdf = await asyncio.to_thread(certificates.render_pdf, services.enrollments.facts_of(row))
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"content-disposition": f'inline; filename="{row.code}.pdf"'},
    )


SPEC = ServiceSpec(
    name="enrollments",
    schema=schema,
    service=build_services,
    loaders=build_loaders,
    routes=[
        Route("/certificates/{name}", certificate_document),
        jwks_route(certificate_signing_key),
    ],
    events=EVENTS,
    handlers=handlers,
)


def create_app(settings: Settings) -> Starlette:
    return create_service_app(SPEC, settings)
