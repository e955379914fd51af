"""Per-request DataLoaders of the enrollments subgraph."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TypeAlias

from strawberry.dataloader import DataLoader
from strawberry.types import Info

from common.graphql.app import LoaderScope
from common.graphql.catalog import CourseFacts, course_facts_loader, user_names_loader
from common.graphql.context import RequestContext
from common.graphql.loaders import batch_loader, grouped_loader
from common.graphql.peers import PeerClient
from subgraphs.enrollments.models import CertificateRow, CohortRow, EnrollmentRow, PathCourseRow
from subgraphs.enrollments.services import EnrollmentsServices


@dataclass(frozen=True, slots=True)
class EnrollmentsLoaders:
    enrollment: DataLoader[uuid.UUID, EnrollmentRow | None]
    count: DataLoader[uuid.UUID, int | None]
    completed_lessons: DataLoader[uuid.UUID, list[uuid.UUID]]
    certificate: DataLoader[uuid.UUID, CertificateRow | None]
    cohort: DataLoader[uuid.UUID, CohortRow | None]
    cohorts: DataLoader[uuid.UUID, list[CohortRow]]
    steps: DataLoader[uuid.UUID, list[PathCourseRow]]
    course: DataLoader[uuid.UUID, CourseFacts | None]
    user_name: DataLoader[uuid.UUID, str | None]


def build_loaders(services: EnrollmentsServices, scope: LoaderScope) -> EnrollmentsLoaders:
    settings, http = scope.runtime.settings, scope.runtime.http
    enrollments, programs = services.enrollments, services.programs
    return EnrollmentsLoaders(
        enrollment=batch_loader(enrollments.by_ids),
        count=batch_loader(enrollments.counts),
        completed_lessons=grouped_loader(enrollments.completed_lessons),
        certificate=batch_loader(enrollments.certificates_of),
        cohort=batch_loader(programs.cohorts_by_ids),
        cohorts=grouped_loader(programs.cohorts_of),
        steps=grouped_loader(programs.steps_of),
        course=course_facts_loader(
            PeerClient(http, "courses", settings.service_url("courses")), scope.authorization
        ),
        user_name=user_names_loader(
            PeerClient(http, "users", settings.service_url("users")), scope.authorization
        ),
    )


# What every resolver of the enrollments subgraph gets as `info`.
EnrollmentsInfo: TypeAlias = Info[RequestContext[EnrollmentsServices, EnrollmentsLoaders], None]
