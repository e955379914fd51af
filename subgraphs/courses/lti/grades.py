"""Assignment and Grade Services 2.0: the line items a tool keeps in a course and the
scores it posts to them.

Line items and scores live beside the links, in the courses schema: an LTI score is the
tool's grade of a learner on its activity, not an attempt of one of our assessments, so it
is kept as the tool sent it (the latest by timestamp) and shown on the graph (`ltiGrades`,
`LtiLink.myGrade`): to the course's instructors all of them, to a learner their own once
the tool says grading is done (`FullyGraded`) and, on a graded link, once its grades are
released (graded.py), as an assessment's grades reach a learner only when final.

Every call carries a grant (service_tokens.py) naming one tool; a course is that tool's
context only if one of its links is placed there, and a line item is reachable only by the
tool that owns it, in its own course: another tool's, another deployment's or another
course's items answer NOT_FOUND.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import exists, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from subgraphs.courses.lti.models import (
    LtiLineItemRow,
    LtiLinkRow,
    LtiScoreRow,
    LtiSubjectRow,
)
from subgraphs.courses.lti.service_tokens import (
    LINEITEM,
    LINEITEM_READONLY,
    RESULT_READONLY,
    SCORE,
    ServiceGrant,
)

ACTIVITY = frozenset({"Initialized", "Started", "InProgress", "Submitted", "Completed"})
GRADING = frozenset({"FullyGraded", "Pending", "PendingManual", "Failed", "NotReady"})
MAX_LINE_ITEMS = 500


class ServiceRefused(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def require(grant: ServiceGrant, *scopes: str) -> None:
    if not grant.scopes & set(scopes):
        raise ServiceRefused(403, "FORBIDDEN", f"The token lacks the scope {scopes[0]}.")


def _text(body: Mapping[str, Any], name: str, high: int, *, required: bool = False) -> str | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not 0 < len(value) <= high:
        raise ServiceRefused(400, "BAD_USER_INPUT", f"{name} must be 1 to {high} characters.")
    return value


def _number(body: Mapping[str, Any], name: str, *, required: bool = False) -> float | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ServiceRefused(400, "BAD_USER_INPUT", f"{name} must be a number.")
    if value < 0:
        raise ServiceRefused(400, "BAD_USER_INPUT", f"{name} must not be negative.")
    return float(value)


def _uuid(value: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


async def tool_context(session: AsyncSession, grant: ServiceGrant, course_id: str) -> uuid.UUID:
    """The course, if it is the grant's tool's context (one of its links is placed there);
    any other course, or no course, answers NOT_FOUND (shared by AGS and NRPS)."""
    course = _uuid(course_id)
    placed = course is not None and await session.scalar(
        select(
            exists().where(
                LtiLinkRow.course_id == course, LtiLinkRow.tool_id == uuid.UUID(grant.tool_id)
            )
        )
    )
    if not placed or course is None:
        raise ServiceRefused(404, "NOT_FOUND", "No such context for this tool.")
    return course


async def _resource_link(
    session: AsyncSession, grant: ServiceGrant, course: uuid.UUID, body: Mapping[str, Any]
) -> uuid.UUID | None:
    """The body's resourceLinkId, which must be one of the tool's links in the course."""
    if body.get("resourceLinkId") is None:
        return None
    link = await session.get(LtiLinkRow, _uuid(body["resourceLinkId"]) or uuid.UUID(int=0))
    if link is None or link.course_id != course or link.tool_id != uuid.UUID(grant.tool_id):
        raise ServiceRefused(400, "BAD_USER_INPUT", "resourceLinkId is not this tool's link here.")
    return link.id


class GradeServices:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def _context(
        self, session: AsyncSession, grant: ServiceGrant, course_id: str
    ) -> uuid.UUID:
        return await tool_context(session, grant, course_id)

    async def _item(
        self, session: AsyncSession, grant: ServiceGrant, course_id: str, item_id: str
    ) -> LtiLineItemRow:
        course = await self._context(session, grant, course_id)
        found = _uuid(item_id)
        item = None if found is None else await session.get(LtiLineItemRow, found)
        if item is None or item.course_id != course or item.tool_id != uuid.UUID(grant.tool_id):
            raise ServiceRefused(404, "NOT_FOUND", "No such line item for this tool.")
        return item

    async def line_items(
        self, grant: ServiceGrant, course_id: str, filters: Mapping[str, str]
    ) -> list[LtiLineItemRow]:
        require(grant, LINEITEM, LINEITEM_READONLY)
        async with self.sessions() as session:
            course = await self._context(session, grant, course_id)
            query = select(LtiLineItemRow).where(
                LtiLineItemRow.course_id == course,
                LtiLineItemRow.tool_id == uuid.UUID(grant.tool_id),
            )
            if "resource_link_id" in filters:
                query = query.where(LtiLineItemRow.link_id == _uuid(filters["resource_link_id"]))
            if "tag" in filters:
                query = query.where(LtiLineItemRow.tag == filters["tag"])
            if "resource_id" in filters:
                query = query.where(LtiLineItemRow.resource_id == filters["resource_id"])
            return list(await session.scalars(query.order_by(LtiLineItemRow.created_at)))

    async def line_item(self, grant: ServiceGrant, course_id: str, item_id: str) -> LtiLineItemRow:
        require(grant, LINEITEM, LINEITEM_READONLY)
        async with self.sessions() as session:
            return await self._item(session, grant, course_id, item_id)

    async def create_line_item(
        self, grant: ServiceGrant, course_id: str, body: Mapping[str, Any]
    ) -> LtiLineItemRow:
        require(grant, LINEITEM)
        maximum = _number(body, "scoreMaximum", required=True)
        if not maximum:
            raise ServiceRefused(400, "BAD_USER_INPUT", "scoreMaximum must be above 0.")
        async with self.sessions.begin() as session:
            course = await self._context(session, grant, course_id)
            link_id = await _resource_link(session, grant, course, body)
            count = len(await self.line_items(grant, course_id, {}))
            if count >= MAX_LINE_ITEMS:
                raise ServiceRefused(400, "BAD_USER_INPUT", "Too many line items in this context.")
            item = LtiLineItemRow(
                id=uuid.uuid4(),
                tool_id=uuid.UUID(grant.tool_id),
                course_id=course,
                link_id=link_id,
                label=_text(body, "label", 200, required=True),
                score_maximum=maximum,
                resource_id=_text(body, "resourceId", 255),
                tag=_text(body, "tag", 255),
            )
            session.add(item)
        return item

    async def update_line_item(
        self, grant: ServiceGrant, course_id: str, item_id: str, body: Mapping[str, Any]
    ) -> LtiLineItemRow:
        """AGS 2.0 §3.2.5: the tool's own line item, replaced by the body (a missing
        resourceLinkId leaves the link as it is). A graded link's line item is the
        instructor's: its label, scoreMaximum and link stay (403 on a change); tag and
        resourceId are the tool's."""
        require(grant, LINEITEM)
        maximum = _number(body, "scoreMaximum", required=True)
        if not maximum:
            raise ServiceRefused(400, "BAD_USER_INPUT", "scoreMaximum must be above 0.")
        label = _text(body, "label", 200, required=True)
        async with self.sessions.begin() as session:
            item = await self._item(session, grant, course_id, item_id)
            link_id = await _resource_link(session, grant, item.course_id, body) or item.link_id
            if item.made_by_platform and (
                (label, maximum, link_id) != (item.label, item.score_maximum, item.link_id)
            ):
                raise ServiceRefused(
                    403,
                    "FORBIDDEN",
                    "This line item is a graded link's: its label, scoreMaximum and "
                    "resourceLinkId are set by the course's instructors.",
                )
            item.label = str(label)
            item.score_maximum = maximum
            item.link_id = link_id
            item.resource_id = _text(body, "resourceId", 255)
            item.tag = _text(body, "tag", 255)
        return item

    async def delete_line_item(self, grant: ServiceGrant, course_id: str, item_id: str) -> None:
        """AGS 2.0 §3.2.6: the tool's own line item and its scores; a graded link's line
        item goes only with its link (403)."""
        require(grant, LINEITEM)
        async with self.sessions.begin() as session:
            item = await self._item(session, grant, course_id, item_id)
            if item.made_by_platform:
                raise ServiceRefused(
                    403, "FORBIDDEN", "This line item is a graded link's; it goes with the link."
                )
            await session.delete(item)

    async def post_score(
        self, grant: ServiceGrant, course_id: str, item_id: str, body: Mapping[str, Any]
    ) -> None:
        require(grant, SCORE)
        subject = _text(body, "userId", 64, required=True)
        activity = body.get("activityProgress")
        grading = body.get("gradingProgress")
        if activity not in ACTIVITY or grading not in GRADING:
            raise ServiceRefused(
                400, "BAD_USER_INPUT", "activityProgress and gradingProgress must be LTI values."
            )
        given = _number(body, "scoreGiven")
        maximum = _number(body, "scoreMaximum", required=given is not None)
        if given is not None and not maximum:
            raise ServiceRefused(400, "BAD_USER_INPUT", "scoreMaximum must be above 0.")
        try:
            timestamp = datetime.fromisoformat(str(body.get("timestamp")))
        except ValueError:
            raise ServiceRefused(400, "BAD_USER_INPUT", "timestamp must be ISO 8601.") from None
        if timestamp.tzinfo is None:
            raise ServiceRefused(400, "BAD_USER_INPUT", "timestamp must carry its time zone.")
        comment = _text(body, "comment", 10_000)
        async with self.sessions.begin() as session:
            item = await self._item(session, grant, course_id, item_id)
            user_id = await session.scalar(
                select(LtiSubjectRow.user_id).where(LtiSubjectRow.subject == subject)
            )
            if user_id is None:
                raise ServiceRefused(
                    400, "BAD_USER_INPUT", "userId is not a user of this platform."
                )
            row = await session.get(LtiScoreRow, (item.id, user_id), with_for_update=True)
            if row is not None and row.timestamp >= timestamp:
                raise ServiceRefused(409, "CONFLICT", "A score as recent or newer is recorded.")
            if row is None:
                row = LtiScoreRow(line_item_id=item.id, user_id=user_id)
                session.add(row)
            row.score_given = given
            row.score_maximum = maximum
            row.activity_progress = str(activity)
            row.grading_progress = str(grading)
            row.comment = comment
            row.timestamp = timestamp

    async def results(
        self, grant: ServiceGrant, course_id: str, item_id: str
    ) -> tuple[LtiLineItemRow, list[tuple[LtiScoreRow, str]]]:
        require(grant, RESULT_READONLY)
        async with self.sessions() as session:
            item = await self._item(session, grant, course_id, item_id)
            rows = await session.execute(
                select(LtiScoreRow, LtiSubjectRow.subject)
                .join(LtiSubjectRow, LtiSubjectRow.user_id == LtiScoreRow.user_id)
                .where(LtiScoreRow.line_item_id == item.id)
            )
            return item, [(score, subject) for score, subject in rows]

    async def grades_of_course(
        self, course_id: uuid.UUID, user_ids: Sequence[uuid.UUID] | None
    ) -> list[tuple[LtiScoreRow, LtiLineItemRow, LtiLinkRow | None]]:
        """Scores in the course (of ``user_ids`` only, when given), each with its line item
        and the link that line item is tied to (its release rule), for the graph."""
        async with self.sessions() as session:
            query = (
                select(LtiScoreRow, LtiLineItemRow, LtiLinkRow)
                .join(LtiLineItemRow, LtiLineItemRow.id == LtiScoreRow.line_item_id)
                .outerjoin(LtiLinkRow, LtiLinkRow.id == LtiLineItemRow.link_id)
                .where(LtiLineItemRow.course_id == course_id)
                .order_by(LtiLineItemRow.created_at, LtiScoreRow.user_id)
            )
            if user_ids is not None:
                query = query.where(LtiScoreRow.user_id.in_(user_ids))
            return [(score, item, link) for score, item, link in await session.execute(query)]

    async def scores(
        self, keys: Sequence[tuple[uuid.UUID, uuid.UUID]]
    ) -> dict[tuple[uuid.UUID, uuid.UUID], LtiScoreRow]:
        """Scores by (line item, user), for a request's loader."""
        if not keys:
            return {}
        async with self.sessions() as session:
            rows = await session.scalars(
                select(LtiScoreRow).where(
                    tuple_(LtiScoreRow.line_item_id, LtiScoreRow.user_id).in_(list(keys))
                )
            )
            return {(row.line_item_id, row.user_id): row for row in rows}
