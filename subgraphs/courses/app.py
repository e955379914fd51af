"""The courses subgraph as an ASGI app: GraphQL plus signed attachment downloads."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import Route

from common.graphql.app import ServiceRuntime, ServiceSpec, create_service_app
from common.settings import Settings
from subgraphs.courses.downloads import serve_attachment
from subgraphs.courses.events import handlers
from subgraphs.courses.lessons import LessonsService
from subgraphs.courses.loaders import build_loaders
from subgraphs.courses.models import EVENTS
from subgraphs.courses.schema import CoursesServices, schema
from subgraphs.courses.service import CoursesService
from subgraphs.courses.storage import LocalDiskStorage


def build_service(runtime: ServiceRuntime) -> CoursesServices:
    settings = runtime.settings
    return CoursesServices(
        courses=CoursesService(runtime.sessions),
        lessons=LessonsService(
            runtime.sessions,
            LocalDiskStorage(settings.upload_dir),
            max_attachment_bytes=settings.max_attachment_bytes,
        ),
    )


SPEC = ServiceSpec(
    name="courses",
    schema=schema,
    service=build_service,
    loaders=lambda services, scope: build_loaders(services.courses, scope),
    routes=[Route("/files/{attachment_id}/{filename}", serve_attachment)],
    max_upload_bytes=lambda settings: settings.max_attachment_bytes,
    events=EVENTS,
    handlers=handlers,
)


def create_app(settings: Settings) -> Starlette:
    return create_service_app(SPEC, settings)
