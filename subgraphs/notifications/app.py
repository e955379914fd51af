"""The notifications subgraph as an ASGI app, with its delivery loop running beside it."""

from __future__ import annotations

from starlette.applications import Starlette

from common.graphql.app import ServiceSpec, create_service_app
from common.settings import Settings
from subgraphs.notifications.events import handlers
from subgraphs.notifications.loaders import build_loaders
from subgraphs.notifications.models import EVENTS
from subgraphs.notifications.schema import schema
from subgraphs.notifications.services import build_services

SPEC = ServiceSpec(
    name="notifications",
    schema=schema,
    service=build_services,
    loaders=build_loaders,
    background=lambda services: [services.dispatcher.run, services.live.run],
    events=EVENTS,
    handlers=handlers,
)


def create_app(settings: Settings) -> Starlette:
    return create_service_app(SPEC, settings)
