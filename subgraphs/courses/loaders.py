"""Per-request DataLoaders of the courses subgraph: one SQL query (or one call) per batch."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TypeAlias

from strawberry.dataloader import DataLoader
from strawberry.types import Info

from common.graphql.app import LoaderScope
from common.graphql.catalog import enrolled_loader
from common.graphql.context import RequestContext
from common.graphql.loaders import batch_loader, grouped_loader
from common.graphql.peers import PeerClient
from subgraphs.courses.lti.models import LtiLineItemRow, LtiScoreRow
from subgraphs.courses.models import AttachmentRow, CategoryRow, CourseRow, LessonRow, ModuleRow
from subgraphs.courses.services import CoursesServices


@dataclass(frozen=True, slots=True)
class CoursesLoaders:
    course: DataLoader[uuid.UUID, CourseRow | None]
    lesson: DataLoader[uuid.UUID, LessonRow | None]
    category: DataLoader[uuid.UUID, CategoryRow | None]
    modules: DataLoader[uuid.UUID, list[ModuleRow]]
    lessons: DataLoader[uuid.UUID, list[LessonRow]]
    attachments: DataLoader[uuid.UUID, list[AttachmentRow]]
    children: DataLoader[uuid.UUID, list[CategoryRow]]
    taught: DataLoader[uuid.UUID, list[CourseRow]]
    enrolled: DataLoader[uuid.UUID, bool]
    # a graded LTI link's line item, by link; a score, by (line item, user)
    lti_line_item: DataLoader[uuid.UUID, LtiLineItemRow | None]
    lti_score: DataLoader[tuple[uuid.UUID, uuid.UUID], LtiScoreRow | None]


def build_loaders(services: CoursesServices, scope: LoaderScope) -> CoursesLoaders:
    service = services.courses
    peer = PeerClient(
        scope.runtime.http, "enrollments", scope.runtime.settings.service_url("enrollments")
    )
    return CoursesLoaders(
        course=batch_loader(service.by_ids),
        lesson=batch_loader(service.lessons_by_ids),
        category=batch_loader(service.categories_by_ids),
        modules=grouped_loader(service.modules_of),
        lessons=grouped_loader(service.lessons_of),
        attachments=grouped_loader(service.attachments_of),
        children=grouped_loader(service.children_of),
        taught=grouped_loader(service.taught_by),
        enrolled=enrolled_loader(peer, scope.authorization),
        lti_line_item=batch_loader(services.lti_tools.platform_line_items),
        lti_score=batch_loader(services.lti_grades.scores),
    )


# What every resolver of the courses subgraph gets as `info`.
CoursesInfo: TypeAlias = Info[RequestContext[CoursesServices, CoursesLoaders], None]
