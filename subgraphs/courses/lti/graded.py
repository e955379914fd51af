"""Graded placements: a tool placed as a graded item of a course (as Canvas's "External
Tool" assignment), and the rule for when a learner sees their grade on it.

Placing a graded link makes its line item on the platform's side (`made_by_platform`,
resourceLinkId = the link, the instructor's scoreMaximum and label), owned by the link's
tool, so the tool posts scores to the `lineitem` URL its launch carries, with no line item
of its own. The tool cannot reshape that line item: an AGS PUT may change its tag and
resourceId only (its label, scoreMaximum and resourceLinkId are the instructor's), and it
is deleted only with its link (grades.py).

Release follows assessments (`results_released` there): a learner sees their own grade on a
graded link once the tool says grading is done (`FullyGraded`) and the grades are released,
at once if the link releases immediately, else when an instructor releases them
(`releaseLtiGrades`). A score posted after the due date is kept as any other (the tool
decides what lateness costs); it shows as late.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import datetime

from common.errors import BadUserInput
from common.validation import text
from subgraphs.courses.lti.models import LtiLineItemRow, LtiLinkRow, LtiScoreRow

MAX_SCORE_MAXIMUM = 10_000.0
FULLY_GRADED = "FullyGraded"


@dataclass(frozen=True, slots=True)
class Grading:
    """What an instructor says of a graded link (`label` None: the link's title);
    `resource_id` and `tag` are the tool's, from a deep-linked item (deep_linked.py)."""

    score_maximum: float
    label: str | None = None
    release_immediately: bool = True
    due_at: datetime | None = None
    resource_id: str | None = None
    tag: str | None = None


def checked(grading: Grading, title: str, *, prefix: str = "grading") -> Grading:
    """The grading part, validated, with its label settled (`prefix`: how the caller's
    input names it, in the messages)."""
    maximum = grading.score_maximum
    if not math.isfinite(maximum) or not 0 < maximum <= MAX_SCORE_MAXIMUM:
        raise BadUserInput(
            f"{prefix}.scoreMaximum must be above 0 and at most {MAX_SCORE_MAXIMUM:g}.",
            field=f"{prefix}.scoreMaximum",
        )
    if grading.due_at is not None and grading.due_at.tzinfo is None:
        raise BadUserInput(f"{prefix}.dueAt must carry its time zone.", field=f"{prefix}.dueAt")
    label = title if grading.label is None else grading.label
    for name, value in (("resourceId", grading.resource_id), ("tag", grading.tag)):
        # the tool's own values, kept exactly as given (it filters line items by them)
        if value is not None and not 0 < len(value) <= 255:
            raise BadUserInput(
                f"{prefix}.{name} must be 1 to 255 characters long.", field=f"{prefix}.{name}"
            )
    return Grading(
        score_maximum=float(maximum),
        label=text(label, field=f"{prefix}.label", low=1, high=200),
        release_immediately=grading.release_immediately,
        due_at=grading.due_at,
        resource_id=grading.resource_id,
        tag=grading.tag,
    )


def line_item_of(link: LtiLinkRow, grading: Grading) -> LtiLineItemRow:
    """The line item the platform keeps for a graded link, in its tool's name."""
    assert grading.label is not None
    return LtiLineItemRow(
        id=uuid.uuid4(),
        tool_id=link.tool_id,
        course_id=link.course_id,
        link_id=link.id,
        label=grading.label,
        score_maximum=grading.score_maximum,
        resource_id=grading.resource_id,
        tag=grading.tag,
        made_by_platform=True,
    )


def released(link: LtiLinkRow | None, score: LtiScoreRow) -> bool:
    """Whether the learner whose score this is may see it (instructors always may). A
    score on a line item of no graded link is the learner's once FullyGraded."""
    if score.grading_progress != FULLY_GRADED:
        return False
    if link is None or not link.graded:
        return True
    return link.release_immediately or link.grades_released_at is not None


def late(link: LtiLinkRow | None, score: LtiScoreRow) -> bool:
    return link is not None and link.due_at is not None and score.timestamp > link.due_at
