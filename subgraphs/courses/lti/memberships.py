"""Names and Role Provisioning Services 2.0: a tool lists the members of a course it is
placed in (its instructors, then its active learners), each under the opaque subject its
launches carry, paginated.

Learners live in the enrollments subgraph, and names and e-mail addresses in users: both
are asked by courses as itself (common/auth/service_identity.py, scopes
enrollments:rosters and users:contacts), since a tool is no user whose token could be
forwarded. The grant decides what is asked: the course must be the tool's context (as for
AGS, another course answers NOT_FOUND), and names and addresses are fetched only when the
tool's registration shares them.

Pages follow a keyset cursor, so a page reads only what it serves: the roster is the
course's instructors (from its row: the position among them), then its active learners in
the enrollments service's own order (its cursor, passed through). The cursor is opaque to
the tool and checked when it comes back: anything but one we made is refused (400), never
passed on to enrollments.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from common.auth.service_identity import ServiceIdentity
from common.errors import BadUserInput
from common.graphql.peers import PeerClient
from common.pagination import MAX_PAGE_SIZE, Cursor
from subgraphs.courses.lti import vocabulary as lti
from subgraphs.courses.lti.grades import ServiceRefused, require, tool_context
from subgraphs.courses.lti.launch import subjects_of
from subgraphs.courses.lti.models import LtiToolRow
from subgraphs.courses.lti.service_tokens import MEMBERSHIP_READONLY, ServiceGrant
from subgraphs.courses.models import CourseRow

DEFAULT_LIMIT = 100
MAX_LIMIT = 500
MAX_CURSOR = 1024  # ours are under 200 characters
MAX_ROSTER_ASKS = 1000  # bounds the loop that skips learners who also teach
ROSTER = """
query($r: [_Any!]!, $first: Int!, $after: String) {
  _entities(representations: $r) {
    ... on Course { enrollments(first: $first, after: $after, status: ACTIVE) {
      edges { node { user { id } } } pageInfo { hasNextPage endCursor } } }
  }
}
"""


@dataclass(frozen=True, slots=True)
class Position:
    """Where a page starts: at the `teacher`-th instructor, or (teacher None) at the learner
    after enrollments' cursor `after` (None: the first learner)."""

    teacher: int | None = 0
    after: str | None = None

    def encode(self) -> str:
        payload = ["t", self.teacher] if self.teacher is not None else ["l", self.after]
        # base32 in lower case: pylti1p3 lower-cases the whole Link header it follows
        return base64.b32encode(json.dumps(payload).encode()).decode().lower().rstrip("=")

    @classmethod
    def decode(cls, value: str) -> Position:
        try:
            if len(value) > MAX_CURSOR:
                raise ValueError(value)
            kind, at = json.loads(base64.b32decode(value.upper() + "=" * (-len(value) % 8)))
            if kind == "t" and isinstance(at, int) and not isinstance(at, bool) and at >= 0:
                return cls(teacher=at)
            if kind == "l" and (at is None or isinstance(at, str)):
                if at is not None:
                    Cursor.decode(at)  # enrollments' keyset cursor (common/db/pagination.py)
                return cls(teacher=None, after=at)
        except (ValueError, TypeError, binascii.Error, BadUserInput):
            pass
        raise ServiceRefused(
            400, "BAD_USER_INPUT", "cursor is not one this service gave; follow the next link."
        )


@dataclass(frozen=True, slots=True)
class MembersPage:
    context: dict[str, Any]
    members: list[dict[str, Any]]
    following: Position | None


def _bounded(query: Mapping[str, str], name: str, default: int, high: int) -> int:
    raw = query.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or len(raw) > 9 or not 0 <= int(raw) <= high:
        raise ServiceRefused(400, "BAD_USER_INPUT", f"{name} must be an integer 0 to {high}.")
    return int(raw)


class Memberships:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        enrollments: PeerClient,
        users: PeerClient,
        identity: ServiceIdentity,
    ) -> None:
        self.sessions = sessions
        self.enrollments = enrollments
        self.users = users
        self.identity = identity

    async def _learners(
        self, course_id: uuid.UUID, after: str | None, wanted: int, teachers: list[uuid.UUID]
    ) -> tuple[list[uuid.UUID], Position | None]:
        """Up to `wanted` active learners after `after` who do not teach the course, and
        where the next page starts (None: no learner after them)."""
        learners: list[uuid.UUID] = []
        for _ in range(MAX_ROSTER_ASKS):
            if len(learners) >= wanted:
                return learners, Position(teacher=None, after=after)
            data = await self.enrollments.query(
                ROSTER,
                {
                    "r": [{"__typename": "Course", "id": str(course_id)}],
                    "first": min(wanted - len(learners), MAX_PAGE_SIZE),
                    "after": after,
                },
                authorization=await self.identity.authorization(),
            )
            entity = (data.get("_entities") or [None])[0]
            if entity is None:
                break
            page = entity["enrollments"]
            found = [uuid.UUID(edge["node"]["user"]["id"]) for edge in page["edges"]]
            learners.extend(each for each in found if each not in teachers)
            after = page["pageInfo"]["endCursor"] or after
            if not page["pageInfo"]["hasNextPage"]:
                break
        return learners, None

    async def _people(self, ids: list[uuid.UUID]) -> dict[uuid.UUID, dict[str, Any]]:
        if not ids:
            return {}
        found = await self.users.entities(
            "User",
            [str(each) for each in ids],
            "id name email",
            authorization=await self.identity.authorization(),
        )
        return {uuid.UUID(str(each["id"])): each for each in found if each is not None}

    async def page(
        self, grant: ServiceGrant, course_id: str, query: Mapping[str, str]
    ) -> MembersPage:
        require(grant, MEMBERSHIP_READONLY)
        limit = _bounded(query, "limit", DEFAULT_LIMIT, MAX_LIMIT) or DEFAULT_LIMIT
        cursor = query.get("cursor")
        position = Position() if cursor is None else Position.decode(cursor)
        async with self.sessions() as session:
            course_key = await tool_context(session, grant, course_id)
            course = await session.get(CourseRow, course_key)
            tool = await session.get(LtiToolRow, uuid.UUID(grant.tool_id))
        if course is None or tool is None:  # deleted since the token was issued
            raise ServiceRefused(404, "NOT_FOUND", "No such context for this tool.")
        teachers = list(dict.fromkeys([course.instructor_id, *course.co_instructor_ids]))
        chosen: list[tuple[uuid.UUID, str]] = []
        following: Position | None = Position(teacher=None)  # the learners from the first
        if position.teacher is not None and position.teacher < len(teachers):
            served = teachers[position.teacher : position.teacher + limit]
            chosen = [(each, lti.INSTRUCTOR) for each in served]
            if position.teacher + len(served) < len(teachers):
                following = Position(teacher=position.teacher + len(served))
        if len(chosen) < limit:
            after = None if position.teacher is not None else position.after
            learners, following = await self._learners(
                course.id, after, limit - len(chosen), teachers
            )
            chosen += [(each, lti.LEARNER) for each in learners]
        async with self.sessions.begin() as session:
            subjects = await subjects_of(session, [user_id for user_id, _ in chosen])
        people = (
            await self._people([user_id for user_id, _ in chosen])
            if tool.shares_name or tool.shares_email
            else {}
        )
        members = []
        for user_id, role in chosen:
            member: dict[str, Any] = {
                "user_id": subjects[user_id],
                "status": "Active",
                "roles": [role],
            }
            person = people.get(user_id, {})
            if tool.shares_name and person.get("name"):
                member["name"] = person["name"]
            if tool.shares_email and person.get("email"):
                member["email"] = person["email"]
            members.append(member)
        return MembersPage(
            context={"id": str(course.id), "label": course.slug, "title": course.title},
            members=members,
            following=following,
        )
