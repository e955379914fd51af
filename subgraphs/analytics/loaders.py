"""Per-request DataLoaders of the analytics subgraph: courses and enrollments asked of their
owners as the caller (their token is forwarded), and the catalogue recommendations ask."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TypeAlias

from strawberry.dataloader import DataLoader
from strawberry.types import Info

from common.graphql.app import LoaderScope
from common.graphql.catalog import CourseFacts, course_facts_batch, enrolled_loader
from common.graphql.context import RequestContext
from common.graphql.peers import PeerClient
from subgraphs.analytics.recommendations.catalogue import Catalogue
from subgraphs.analytics.services import AnalyticsServices


@dataclass(frozen=True, slots=True)
class AnalyticsLoaders:
    course: DataLoader[uuid.UUID, CourseFacts | None]
    # The same kept a few seconds per caller (course_cache.py): for reading analytics only.
    course_to_read: DataLoader[uuid.UUID, CourseFacts | None]
    enrolled: DataLoader[uuid.UUID, bool]
    catalogue: Catalogue


def build_loaders(services: AnalyticsServices, scope: LoaderScope) -> AnalyticsLoaders:
    settings, http = scope.runtime.settings, scope.runtime.http
    course_peer = PeerClient(http, "courses", settings.service_url("courses"))
    enrollments = PeerClient(http, "enrollments", settings.service_url("enrollments"))
    courses = course_facts_batch(course_peer, scope.authorization)
    return AnalyticsLoaders(
        course=DataLoader(courses),
        course_to_read=services.course_facts.loader(courses, scope.authorization),
        enrolled=enrolled_loader(enrollments, scope.authorization),
        catalogue=Catalogue(course_peer, enrollments, scope.authorization),
    )


# What every resolver of the analytics subgraph gets as `info`.
AnalyticsInfo: TypeAlias = Info[RequestContext[AnalyticsServices, AnalyticsLoaders], None]
