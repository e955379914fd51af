"""The analytics subgraph as an ASGI app: the graph, and the course statements export."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import Route

from common.graphql.app import ServiceSpec, create_service_app
from common.settings import Settings
from subgraphs.analytics.events import handlers
from subgraphs.analytics.export_route import course_statements
from subgraphs.analytics.loaders import build_loaders
from subgraphs.analytics.models import EVENTS
from subgraphs.analytics.schema import schema
from subgraphs.analytics.services import build_services, worker_jobs

SPEC = ServiceSpec(
    name="analytics",
    schema=schema,
    service=build_services,
    loaders=build_loaders,
    routes=[Route("/xapi/courses/{course_id}/statements.jsonl", course_statements)],
    events=EVENTS,
    handlers=handlers,
    worker_jobs=worker_jobs,
)


def create_app(settings: Settings) -> Starlette:
    return create_service_app(SPEC, settings)
