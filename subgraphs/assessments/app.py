"""The assessments subgraph as an ASGI app."""

from __future__ import annotations

from starlette.applications import Starlette

from common.graphql.app import ServiceSpec, create_service_app
from common.settings import Settings
from subgraphs.assessments.events import handlers
from subgraphs.assessments.loaders import build_loaders
from subgraphs.assessments.models import EVENTS
from subgraphs.assessments.schema import schema
from subgraphs.assessments.services import build_services, scheduled_jobs

SPEC = ServiceSpec(
    name="assessments",
    schema=schema,
    service=build_services,
    loaders=build_loaders,
    events=EVENTS,
    handlers=handlers,
    worker_jobs=scheduled_jobs,
    background=lambda services: [services.assessments.grader.hold],
)


def create_app(settings: Settings) -> Starlette:
    return create_service_app(SPEC, settings)
