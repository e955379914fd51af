"""GraphQL surface of API keys (administrators only): list, create (the key shown once), revoke."""

from __future__ import annotations

from datetime import datetime

import strawberry

from common.graphql.access import scopes
from common.graphql.ids import graphql_id, parse_id
from common.graphql.relay import PAGED, Connection
from subgraphs.users.api_keys import ApiKeysService
from subgraphs.users.loaders import UsersInfo
from subgraphs.users.models import ApiKeyRow

ADMIN_ONLY = ["admin"]


@strawberry.type(description="A key an integration uses at the router (never the key itself).")
class ApiKey:
    id: strawberry.ID
    name: str
    prefix: str = strawberry.field(description="The key's first characters, to tell it apart.")
    scopes: list[str]
    owner_id: strawberry.ID = strawberry.field(description="The administrator it acts for.")
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None = strawberry.field(description="To the minute.")


def api_key_of(row: ApiKeyRow) -> ApiKey:
    return ApiKey(
        id=graphql_id(row.id),
        name=row.name,
        prefix=row.prefix,
        scopes=list(row.scopes),
        owner_id=graphql_id(row.owner_id),
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        last_used_at=row.last_used_at,
    )


@strawberry.input
class CreateApiKeyInput:
    name: str
    scopes: list[str] = strawberry.field(description="A subset of your own scopes.")
    expires_at: datetime | None = strawberry.field(default=None, description="Never, if omitted.")


@strawberry.type
class CreateApiKeyPayload:
    api_key: ApiKey
    key: str = strawberry.field(
        description="The key: shown this once, stored only as a hash. Send it as X-API-Key."
    )


@strawberry.input
class RevokeApiKeyInput:
    id: strawberry.ID


@strawberry.type
class ApiKeyPayload:
    api_key: ApiKey


def _keys(info: UsersInfo) -> ApiKeysService:
    return info.context.service.users.api_keys


@strawberry.type
class ApiKeyQueries:
    @strawberry.field(
        extensions=[scopes(ADMIN_ONLY)], description="API keys, oldest first.", directives=[PAGED]
    )
    async def api_keys(
        self,
        info: UsersInfo,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[ApiKey]:
        page = await _keys(info).page(info.context.require_principal(), first, after)
        return Connection.from_page(page, api_key_of)


@strawberry.type
class ApiKeyMutations:
    @strawberry.mutation(
        extensions=[scopes(ADMIN_ONLY)], description="A new API key (administrators)."
    )
    async def create_api_key(
        self, info: UsersInfo, input: CreateApiKeyInput
    ) -> CreateApiKeyPayload:
        context = info.context
        created = await _keys(info).create(
            context.require_principal(),
            input.name,
            input.scopes,
            input.expires_at,
            context.client_address,
        )
        return CreateApiKeyPayload(api_key=api_key_of(created.row), key=created.key)

    @strawberry.mutation(
        extensions=[scopes(ADMIN_ONLY)], description="Revoke an API key (at once, for good)."
    )
    async def revoke_api_key(self, info: UsersInfo, input: RevokeApiKeyInput) -> ApiKeyPayload:
        context = info.context
        row = await _keys(info).revoke(
            context.require_principal(), parse_id(input.id, field="id"), context.client_address
        )
        return ApiKeyPayload(api_key=api_key_of(row))
