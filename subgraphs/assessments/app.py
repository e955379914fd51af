"""The assessments subgraph as an ASGI app."""

from __future__ import annotations

from datetime import timedelta

from starlette.applications import Starlette

from common.graphql.app import ServiceRuntime, ServiceSpec, create_service_app
from common.settings import Settings
from subgraphs.assessments.bank import QuestionBank
from subgraphs.assessments.events import handlers
from subgraphs.assessments.loaders import AssessmentsServices, build_loaders
from subgraphs.assessments.models import EVENTS
from subgraphs.assessments.schema import schema
from subgraphs.assessments.service import AssessmentsService


def build_service(runtime: ServiceRuntime) -> AssessmentsServices:
    grace = timedelta(seconds=runtime.settings.submission_grace_seconds)
    return AssessmentsServices(
        assessments=AssessmentsService(runtime.sessions, grace=grace),
        bank=QuestionBank(runtime.sessions),
    )


SPEC = ServiceSpec(
    name="assessments",
    schema=schema,
    service=build_service,
    loaders=build_loaders,
    events=EVENTS,
    handlers=handlers,
)


def create_app(settings: Settings) -> Starlette:
    return create_service_app(SPEC, settings)
