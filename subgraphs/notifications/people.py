"""Who the notifications domain talks to, asked of the domains that know.

- Recipients (name, email and whether it is verified, locale) come from the users subgraph
  as this service itself, with the scope users:contacts (see common/auth/service_identity.py):
  a sender may not read learners' addresses, but the mail must still go out.
- A course's learners and instructors come from the enrollments and courses subgraphs as
  the caller: only someone allowed to see a course's roster can address it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from common.auth.service_identity import ServiceIdentity
from common.graphql.peers import PeerClient

LOOKUP_CHUNK = 500
ROSTER_PAGE = 100
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
class Person:
    id: uuid.UUID
    name: str
    email: str
    email_verified: bool  # until it is, only the users subgraph's verification mail goes there
    locale: str


class Directory:
    def __init__(
        self, users: PeerClient, enrollments: PeerClient, identity: ServiceIdentity
    ) -> None:
        self.users = users
        self.enrollments = enrollments
        self.identity = identity

    async def people(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Person]:
        """The users among `ids` that exist, with their contact details."""
        found: dict[uuid.UUID, Person] = {}
        unique = list(dict.fromkeys(ids))
        for start in range(0, len(unique), LOOKUP_CHUNK):
            chunk = unique[start : start + LOOKUP_CHUNK]
            entities = await self.users.entities(
                "User",
                [str(item) for item in chunk],
                "id name email emailVerified locale",
                authorization=await self.identity.authorization(),
            )
            for entity in entities:
                if entity is not None:
                    person = Person(
                        id=uuid.UUID(str(entity["id"])),
                        name=str(entity["name"]),
                        email=str(entity["email"]),
                        email_verified=entity.get("emailVerified") is True,
                        locale=str(entity.get("locale") or "en"),
                    )
                    found[person.id] = person
        return found

    async def learners(self, course_id: uuid.UUID, authorization: str | None) -> list[uuid.UUID]:
        """The active learners of a course, asked as the caller (FORBIDDEN unless they may
        see its roster)."""
        learners: list[uuid.UUID] = []
        after: str | None = None
        for _ in range(MAX_ROSTER_PAGES):
            data = await self.enrollments.query(
                ROSTER,
                {"r": [{"__typename": "Course", "id": str(course_id)}], "after": after},
                authorization=authorization,
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
