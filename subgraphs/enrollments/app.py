"""The enrollments subgraph as an ASGI app: GraphQL plus certificate pages and PDFs."""

from __future__ import annotations

import asyncio

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from common.auth.keys import platform_signing_key
from common.auth.service_identity import ServiceIdentity
from common.errors import DomainError
from common.graphql.app import ServiceRuntime, ServiceSpec, create_service_app
from common.graphql.catalog import ServiceDirectory
from common.graphql.peers import PeerClient
from common.settings import Settings
from subgraphs.enrollments import certificates
from subgraphs.enrollments.events import handlers
from subgraphs.enrollments.loaders import EnrollmentsServices, build_loaders
from subgraphs.enrollments.models import EVENTS
from subgraphs.enrollments.programs import ProgramsService
from subgraphs.enrollments.schema import schema
from subgraphs.enrollments.service import EnrollmentsService, Issuer


def platform_url(settings: Settings) -> str:
    return settings.public_url.rstrip("/") or f"http://{settings.host}:{settings.router_port}"


def build_service(runtime: ServiceRuntime) -> EnrollmentsServices:
    settings = runtime.settings
    base = settings.public_service_url("enrollments")
    issuer = Issuer(
        key=platform_signing_key(settings),
        name=settings.platform_name,
        url=platform_url(settings),
        verify_url=lambda code: f"{base}/certificates/{code}",
        pdf_url=lambda code: f"{base}/certificates/{code}.pdf",
    )
    return EnrollmentsServices(
        enrollments=EnrollmentsService(runtime.sessions, issuer),
        programs=ProgramsService(runtime.sessions),
        directory=ServiceDirectory(
            courses=PeerClient(runtime.http, "courses", settings.service_url("courses")),
            users=PeerClient(runtime.http, "users", settings.service_url("users")),
            identity=ServiceIdentity(settings, "enrollments"),
        ),
    )


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
    service=build_service,
    loaders=build_loaders,
    routes=[Route("/certificates/{name}", certificate_document)],
    events=EVENTS,
    handlers=handlers,
)


def create_app(settings: Settings) -> Starlette:
    return create_service_app(SPEC, settings)
