"""Names and Role Provisioning Services 2.0: a tool lists the members of a course it is
placed in (its instructors, then its active learners), each under the opaque subject its
launches carry, paginated.

Learners live in the enrollments subgraph, and names and e-mail addresses in users: both
are asked by courses as itself (common/auth/service_identity.py, scopes
enrollments:rosters and users:contacts), since a tool is no user whose token could be
forwarded. The grant decides what is asked: the course must be the tool's context (as for
AGS, another course answers NOT_FOUND), and names and addresses are fetched only when the
tool's registration shares them.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from common.auth.service_identity import ServiceIdentity
from common.graphql.peers import PeerClient
from subgraphs.courses.lti import vocabulary as lti
from subgraphs.courses.lti.grades import ServiceRefused, require, tool_context
from subgraphs.courses.lti.launch import subjects_of
from subgraphs.courses.lti.models import LtiToolRow
from subgraphs.courses.lti.service_tokens import MEMBERSHIP_READONLY, ServiceGrant
from subgraphs.courses.models import CourseRow

DEFAULT_LIMIT = 100
MAX_LIMIT = 500
MAX_ROSTER_PAGES = 1000  # 100,000 learners; bounds the loop
ROSTER = """
query($r: [_Any!]!, $after: String) {
  _entities(representations: $r) {
    ... on Course { enrollments(first: 100, after: $after, status: ACTIVE) {
      edges { node { user { id } } } pageInfo { hasNextPage endCursor } } }
  }
}
"""


@dataclass(frozen=True, slots=True)
class MembersPage:
    context: dict[str, Any]
    members: list[dict[str, Any]]
    next_offset: int | None


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

    async def _learners(self, course_id: uuid.UUID) -> list[uuid.UUID]:
        learners: list[uuid.UUID] = []
        after: str | None = None
        for _ in range(MAX_ROSTER_PAGES):
            data = await self.enrollments.query(
                ROSTER,
                {"r": [{"__typename": "Course", "id": str(course_id)}], "after": after},
                authorization=await self.identity.authorization(),
            )
            entity = (data.get("_entities") or [None])[0]
            if entity is None:
                break
            page = entity["enrollments"]
            learners.extend(uuid.UUID(edge["node"]["user"]["id"]) for edge in page["edges"])
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
        return learners

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
        offset = _bounded(query, "offset", 0, 10_000_000)
        async with self.sessions() as session:
            course_key = await tool_context(session, grant, course_id)
            course = await session.get(CourseRow, course_key)
            tool = await session.get(LtiToolRow, uuid.UUID(grant.tool_id))
        if course is None or tool is None:  # deleted since the token was issued
            raise ServiceRefused(404, "NOT_FOUND", "No such context for this tool.")
        teachers = list(dict.fromkeys([course.instructor_id, *course.co_instructor_ids]))
        learners = [each for each in await self._learners(course.id) if each not in teachers]
        roster = [(each, lti.INSTRUCTOR) for each in teachers]
        roster += [(each, lti.LEARNER) for each in dict.fromkeys(learners)]
        chosen = roster[offset : offset + limit]
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
        following = offset + limit
        return MembersPage(
            context={"id": str(course.id), "label": course.slug, "title": course.title},
            members=members,
            next_offset=following if following < len(roster) else None,
        )
