"""GraphQL surface of content similarity: `similarCourses` (similar.py)."""

from __future__ import annotations

from typing import Final

import strawberry

from common.errors import BadUserInput
from common.graphql.ids import graphql_id, parse_id
from subgraphs.courses.course_schema import Course, shown
from subgraphs.courses.guards import catalogue_viewer
from subgraphs.courses.loaders import CoursesInfo
from subgraphs.courses.similar import similar_courses

MAX_SOURCES: Final = 50
MAX_PER_SOURCE: Final = 50


@strawberry.type(description="A published course like a source course by its content.")
class SimilarCourse:
    source_id: strawberry.ID = strawberry.field(description="The course it is like.")
    course: Course
    similarity: float = strawberry.field(
        description="Cosine similarity, comparable within one answer only (embeddings, or "
        "TF-IDF where the model is not installed)."
    )


@strawberry.type
class SimilarCourseQueries:
    @strawberry.field(
        description="For each course given (up to 50; those you may not see are left out), "
        "the `first` published courses most like it by content, most similar first."
    )
    async def similar_courses(
        self, info: CoursesInfo, course_ids: list[strawberry.ID], first: int = 10
    ) -> list[SimilarCourse]:
        if not 1 <= len(course_ids) <= MAX_SOURCES:
            raise BadUserInput(f"Give 1 to {MAX_SOURCES} course ids.", field="courseIds")
        if not 1 <= first <= MAX_PER_SOURCE:
            raise BadUserInput(f"first must be from 1 to {MAX_PER_SOURCE}.", field="first")
        ids = [parse_id(item, field="courseIds") for item in course_ids]
        found = await similar_courses(
            info.context.service.courses.sessions, catalogue_viewer(info), ids, first
        )
        return [
            SimilarCourse(
                source_id=graphql_id(item.source_id),
                course=shown(info, item.course),
                similarity=item.similarity,
            )
            for item in found
        ]
