"""The courses subgraph as an ASGI app: GraphQL plus signed attachment and cartridge
downloads, and the loop that runs course imports."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import Route

from common.graphql.app import ServiceSpec, create_service_app
from common.settings import Settings
from subgraphs.courses.cartridge.download import serve_export
from subgraphs.courses.cartridge.reader import MAX_CARTRIDGE_BYTES
from subgraphs.courses.downloads import serve_attachment
from subgraphs.courses.events import handlers
from subgraphs.courses.loaders import build_loaders
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
