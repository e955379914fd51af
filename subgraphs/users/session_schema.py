"""GraphQL surface of sign-in sessions: `User.sessions` (the user and admins) and
`revokeSession`."""

from __future__ import annotations

import uuid
from datetime import datetime

import strawberry

from common.auth import Principal
from common.graphql.access import signed_in
from common.graphql.ids import graphql_id, parse_id
from common.graphql.relay import Connection
from subgraphs.users.loaders import UsersInfo
from subgraphs.users.models import SessionRow
from subgraphs.users.sessions import SessionsService
from subgraphs.users.user_agents import describe


@strawberry.type(description="A signed-in device: one refresh token and its successors.")
class Session:
    id: strawberry.ID
    device: str = strawberry.field(
        description='The browser and system, in words ("Firefox on Windows"), from userAgent.'
    )
    user_agent: str | None = strawberry.field(
        description="The User-Agent header it last sent (at most 512 characters)."
    )
    client_address: str | None = strawberry.field(description="The IP address last used from.")
    created_at: datetime = strawberry.field(description="When it signed in.")
    last_used_at: datetime = strawberry.field(description="When it last signed in or refreshed.")
    expires_at: datetime = strawberry.field(description="When its refresh token expires.")
    current: bool = strawberry.field(description="The session making this request.")


def session_of(row: SessionRow, caller: Principal) -> Session:
    return Session(
        id=graphql_id(row.id),
        device=describe(row.user_agent),
        user_agent=row.user_agent,
        client_address=row.client_address,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        expires_at=row.expires_at,
        current=caller.session_id == row.id,
    )


def user_agent(info: UsersInfo) -> str | None:
    """The User-Agent of the client (the router passes it on to this subgraph)."""
    return info.context.request.headers.get("user-agent")


async def sessions_page(
    info: UsersInfo, user_id: uuid.UUID, first: int | None, after: str | None
) -> Connection[Session]:
    caller = info.context.require_principal()
    page = await _sessions(info).page(caller, user_id, first, after)
    return Connection.from_page(page, lambda row: session_of(row, caller))


@strawberry.input
class RevokeSessionInput:
    id: strawberry.ID


@strawberry.type
class RevokeSessionPayload:
    revoked_session_id: strawberry.ID


def _sessions(info: UsersInfo) -> SessionsService:
    return info.context.service.users.signed_in


@strawberry.type
class SessionMutations:
    @strawberry.mutation(
        extensions=[signed_in()],
        description="End one of your sessions (administrators: anyone's): its refresh token "
        "and its access tokens stop working at once. Your current session too: as logout. "
        "NOT_FOUND for an id that is not one of your live sessions.",
    )
    async def revoke_session(
        self, info: UsersInfo, input: RevokeSessionInput
    ) -> RevokeSessionPayload:
        context = info.context
        revoked = await _sessions(info).revoke(
            context.require_principal(), parse_id(input.id), context.client_address
        )
        return RevokeSessionPayload(revoked_session_id=graphql_id(revoked))
