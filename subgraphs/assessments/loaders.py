"""Per-request DataLoaders of the assessments subgraph: one SQL query (or one call) per batch."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TypeAlias

from strawberry.dataloader import DataLoader
from strawberry.types import Info

from common.graphql.app import LoaderScope
from common.graphql.catalog import CourseFacts, course_facts_loader, enrolled_loader
from common.graphql.context import RequestContext
from common.graphql.loaders import batch_loader, grouped_loader
from common.graphql.peers import PeerClient
from subgraphs.assessments.adaptive.models import AdaptiveSettingsRow, AdaptiveStateRow
from subgraphs.assessments.models import AnswerRow, AssessmentRow, AttemptRow, QuestionRow, SlotRow
from subgraphs.assessments.services import AssessmentsServices


@dataclass(frozen=True, slots=True)
class AssessmentsLoaders:
    assessment: DataLoader[uuid.UUID, AssessmentRow | None]
    course_assessments: DataLoader[uuid.UUID, list[AssessmentRow]]
    slots: DataLoader[uuid.UUID, list[SlotRow]]
    question: DataLoader[uuid.UUID, QuestionRow | None]
    attempt: DataLoader[uuid.UUID, AttemptRow | None]
    answers: DataLoader[uuid.UUID, list[AnswerRow]]
    attempt_count: DataLoader[tuple[uuid.UUID, uuid.UUID], int | None]
    course: DataLoader[uuid.UUID, CourseFacts | None]
    enrolled: DataLoader[uuid.UUID, bool]
    adaptive_settings: DataLoader[uuid.UUID, AdaptiveSettingsRow | None]  # by assessment
    adaptive_state: DataLoader[uuid.UUID, AdaptiveStateRow | None]  # by attempt


def build_loaders(services: AssessmentsServices, scope: LoaderScope) -> AssessmentsLoaders:
    settings, http = scope.runtime.settings, scope.runtime.http
    assessments = services.assessments
    return AssessmentsLoaders(
        assessment=batch_loader(assessments.by_ids),
        course_assessments=grouped_loader(assessments.of_courses),
        slots=grouped_loader(assessments.slots_of),
        question=batch_loader(services.bank.by_ids),
        attempt=batch_loader(assessments.attempts_by_ids),
        answers=grouped_loader(assessments.answers_of),
        attempt_count=batch_loader(assessments.attempt_counts),
        course=course_facts_loader(
            PeerClient(http, "courses", settings.service_url("courses")), scope.authorization
        ),
        enrolled=enrolled_loader(
            PeerClient(http, "enrollments", settings.service_url("enrollments")),
            scope.authorization,
        ),
        adaptive_settings=batch_loader(assessments.adaptive.settings_of),
        adaptive_state=batch_loader(assessments.adaptive.states_of),
    )


# What every resolver of the assessments subgraph gets as `info`.
AssessmentsInfo: TypeAlias = Info[RequestContext[AssessmentsServices, AssessmentsLoaders], None]
