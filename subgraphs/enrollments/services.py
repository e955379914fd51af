"""The enrollments subgraph's service layer, built once at startup from the runtime."""

from __future__ import annotations

from dataclasses import dataclass

from common.auth.keys import certificate_signing_key
from common.auth.service_identity import ServiceIdentity
from common.graphql.app import ServiceRuntime
from common.graphql.catalog import ServiceDirectory
from common.graphql.peers import PeerClient
from common.settings import Settings
from subgraphs.enrollments.programs import ProgramsService
from subgraphs.enrollments.service import EnrollmentsService, Issuer


@dataclass(frozen=True, slots=True)
class EnrollmentsServices:
    enrollments: EnrollmentsService
    programs: ProgramsService
    directory: ServiceDirectory  # for event handlers: facts read as the service itself


def platform_url(settings: Settings) -> str:
    return settings.public_url.rstrip("/") or f"http://{settings.host}:{settings.router_port}"


def build_services(runtime: ServiceRuntime) -> EnrollmentsServices:
    settings = runtime.settings
    base = settings.public_service_url("enrollments")
    issuer = Issuer(
        key=certificate_signing_key(settings),
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
            identity=ServiceIdentity(settings, "enrollments", runtime.http),
        ),
    )
