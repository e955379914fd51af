"""The courses subgraph as an ASGI app: GraphQL plus signed attachment and cartridge
downloads, the LTI platform's endpoints, and the loop that runs course imports."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import Route

from common.auth.keys import published_lti_keys
from common.graphql.app import ServiceSpec, create_service_app, jwks_route
from common.settings import Settings
from subgraphs.courses.cartridge.download import serve_export
from subgraphs.courses.cartridge.reader import MAX_CARTRIDGE_BYTES
from subgraphs.courses.downloads import serve_attachment
from subgraphs.courses.events import handlers
from subgraphs.courses.loaders import build_loaders
from subgraphs.courses.lti.routes import ROUTES as LTI_ROUTES
from subgraphs.courses.lti.service_routes import ROUTES as LTI_SERVICE_ROUTES
from subgraphs.courses.models import EVENTS
from subgraphs.courses.schema import schema
from subgraphs.courses.services import build_services, scheduled_jobs

SPEC = ServiceSpec(
    name="courses",
    schema=schema,
    service=build_services,
    loaders=build_loaders,
    routes=[
        Route("/files/{attachment_id}/{filename}", serve_attachment),
        Route("/cartridges/{course_id}/course.imscc", serve_export),
        jwks_route(published_lti_keys),  # the LTI platform's keys
        *LTI_ROUTES,
        *LTI_SERVICE_ROUTES,
    ],
    # Attachments are held to their own limit (LessonsService); cartridges to theirs.
    max_upload_bytes=lambda settings: max(settings.max_attachment_bytes, MAX_CARTRIDGE_BYTES),
    background=lambda services: [services.imports.run],
    events=EVENTS,
    handlers=handlers,
    worker_jobs=scheduled_jobs,
)


def create_app(settings: Settings) -> Starlette:
    return create_service_app(SPEC, settings)
