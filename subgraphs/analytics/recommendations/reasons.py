"""A recommendation's reasons, in words a learner reads: which of their courses it follows
from, and how."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence
from typing import Final

from subgraphs.analytics.recommendations.catalogue import CatalogueCourse
from subgraphs.analytics.recommendations.similarity import Scored

UNNAMED: Final = "a course you took"  # a source the caller may no longer see
POPULAR: Final = "Popular with learners"


def _title(course_id: uuid.UUID, courses: Mapping[uuid.UUID, CatalogueCourse]) -> str:
    found = courses.get(course_id)
    return found.title if found is not None else UNNAMED


def reasons(
    item: Scored[uuid.UUID],
    courses: Mapping[uuid.UUID, CatalogueCourse],
    categories: Collection[str],
) -> list[str]:
    """Co-enrollment first, then content; popularity (in the learner's category, or
    overall) when neither speaks for it."""
    said = []
    if item.collaborative is not None:
        how = "completed" if item.collaborative.completed else "took"
        source = _title(item.collaborative.source, courses)
        said.append(f"Learners who {how} {source} also took this")
    if item.content is not None:
        said.append(f"Similar to {_title(item.content.source, courses)}")
    if not said:
        category = courses[item.course].category if item.course in courses else None
        said.append(f"Popular in {category}" if category in categories else POPULAR)
    return said


def path_reasons(
    done: Sequence[uuid.UUID],
    best_ahead: uuid.UUID | None,
    courses: Mapping[uuid.UUID, CatalogueCourse],
) -> list[str]:
    """What the learner took of the path, and its course ahead most recommended to them."""
    said = []
    if done:
        taken = ", ".join(_title(course_id, courses) for course_id in done)
        said.append(f"You took {taken} of this path")
    if best_ahead is not None:
        said.append(f"Leads to {_title(best_ahead, courses)}, recommended for you")
    return said
