"""The assessments subgraph as an ASGI app."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import Route

from common.graphql.app import ServiceSpec, create_service_app
from common.settings import Settings
from subgraphs.assessments.events import handlers
from subgraphs.assessments.loaders import build_loaders
from subgraphs.assessments.models import EVENTS
from subgraphs.assessments.qti.download import serve_assessments, serve_export
from subgraphs.assessments.qti.package import MAX_PACKAGE_BYTES
from subgraphs.assessments.schema import schema
from subgraphs.assessments.services import build_services, scheduled_jobs

SPEC = ServiceSpec(
    name="assessments",
    schema=schema,
    service=build_services,
    loaders=build_loaders,
    events=EVENTS,
    handlers=handlers,
    routes=[
        Route("/qti/{course_id}/{version}/questions.zip", serve_export),
        Route("/qti/{course_id}/{version}/assessments.zip", serve_assessments),
    ],
    max_upload_bytes=lambda settings: MAX_PACKAGE_BYTES,  # QTI imports
    worker_jobs=scheduled_jobs,
    background=lambda services: [services.assessments.grader.hold],
)


def create_app(settings: Settings) -> Starlette:
    return create_service_app(SPEC, settings)
