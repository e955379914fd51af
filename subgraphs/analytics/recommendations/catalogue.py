"""What recommending needs from its peers, asked as the caller (their token is forwarded, so
nothing comes back that they could not ask for themselves): from the courses subgraph,
which candidates may be recommended (published, not a template), their titles and
categories, and the courses like a learner's by content (`similarCourses`: embeddings, or
TF-IDF where the model is absent); from the enrollments subgraph, the learning paths."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from common.graphql.peers import PeerClient

SELECTION: Final = "id title status isTemplate category { id name }"
SIMILAR: Final = """
query($ids: [ID!]!, $first: Int!) {
  similarCourses(courseIds: $ids, first: $first) { sourceId similarity course { id } }
}
"""
MAX_SOURCES: Final = 50  # what similarCourses takes at once
PATHS: Final = "{ learningPaths { id title courses { position course { id } } } }"


@dataclass(frozen=True, slots=True)
class CatalogueCourse:
    id: uuid.UUID
    title: str
    status: str
    is_template: bool
    category: str | None

    @property
    def recommendable(self) -> bool:
        """In the catalogue: published (not a draft, in review or archived), not a template."""
        return self.status == "PUBLISHED" and not self.is_template


def _course(entity: dict[str, object]) -> CatalogueCourse:
    category = entity.get("category")
    return CatalogueCourse(
        id=uuid.UUID(str(entity["id"])),
        title=str(entity["title"]),
        status=str(entity["status"]),
        is_template=bool(entity.get("isTemplate")),
        category=str(category["name"]) if isinstance(category, dict) else None,
    )


@dataclass(frozen=True, slots=True)
class PathOutline:
    """A learning path's courses in order (those deleted since left out)."""

    id: uuid.UUID
    title: str
    course_ids: tuple[uuid.UUID, ...]


def _path(entity: dict[str, Any]) -> PathOutline:
    steps = sorted(entity.get("courses") or [], key=lambda step: int(step["position"]))
    return PathOutline(
        id=uuid.UUID(str(entity["id"])),
        title=str(entity["title"]),
        course_ids=tuple(
            uuid.UUID(str(step["course"]["id"])) for step in steps if step.get("course")
        ),
    )


@dataclass(frozen=True, slots=True)
class Catalogue:
    courses_peer: PeerClient
    enrollments_peer: PeerClient
    authorization: str | None

    async def courses(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, CatalogueCourse]:
        """The courses the caller may see among these, by id."""
        if not ids:
            return {}
        found = await self.courses_peer.entities(
            "Course", [str(item) for item in ids], SELECTION, authorization=self.authorization
        )
        return {course.id: course for course in (_course(e) for e in found if e is not None)}

    async def similar(
        self, sources: Sequence[uuid.UUID], per_source: int
    ) -> dict[tuple[uuid.UUID, uuid.UUID], float]:
        """(source, similar course) → similarity, for the first MAX_SOURCES sources."""
        if not sources:
            return {}
        data = await self.courses_peer.query(
            SIMILAR,
            {"ids": [str(item) for item in sources[:MAX_SOURCES]], "first": per_source},
            authorization=self.authorization,
        )
        return {
            (uuid.UUID(item["sourceId"]), uuid.UUID(item["course"]["id"])): float(
                item["similarity"]
            )
            for item in data["similarCourses"]
        }

    async def learning_paths(self) -> list[PathOutline]:
        data = await self.enrollments_peer.query(PATHS, {}, authorization=self.authorization)
        return [_path(entity) for entity in data["learningPaths"]]
