"""Accounts for integration tests: fresh users registered through the router, roles granted."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg

from common.db.engine import dsn, role_name
from common.settings import Settings
from tests.support import GraphQLClient

PASSWORD = "correct-horse-battery"
AUTH_FIELDS = "accessToken refreshToken expiresIn tokenType user { id email name roles }"
REGISTER = f"""
mutation($input: RegisterInput!) {{ register(input: $input) {{ {AUTH_FIELDS} }} }}
"""
LOGIN = f"mutation($input: LoginInput!) {{ login(input: $input) {{ {AUTH_FIELDS} }} }}"


@dataclass
class Account:
    id: str
    email: str
    access_token: str
    refresh_token: str


def account_of(payload: dict[str, Any]) -> Account:
    return Account(
        payload["user"]["id"],
        payload["user"]["email"],
        payload["accessToken"],
        payload["refreshToken"],
    )


async def register(users: GraphQLClient, name: str = "Test Learner") -> Account:
    email = f"learner-{uuid.uuid4().hex[:12]}@example.org"
    data = await users.data(
        REGISTER, {"input": {"email": email, "password": PASSWORD, "name": name}}
    )
    return account_of(data["register"])


async def login(users: GraphQLClient, email: str, password: str = PASSWORD) -> dict[str, Any]:
    return await users.execute(LOGIN, {"input": {"email": email, "password": password}})


async def as_users_service(settings: Settings, statement: str, *arguments: object) -> None:
    """Run one SQL statement as the users subgraph's database role (to set up what no API
    does: roles granted, time passed)."""
    url = dsn(settings, role_name("users"), settings.pg_password("users"), driver="postgresql")
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(statement, *arguments)
    finally:
        await conn.close()


async def grant_roles(settings: Settings, user_id: str, roles: list[str]) -> None:
    await as_users_service(
        settings, "UPDATE users.users SET roles = $1 WHERE id = $2", roles, uuid.UUID(user_id)
    )


async def account_with_roles(
    users: GraphQLClient, settings: Settings, roles: list[str], name: str
) -> Account:
    """A new account holding roles, signed in again so its token carries them."""
    account = await register(users, name=name)
    await grant_roles(settings, account.id, roles)
    body = await login(users, account.email)
    return account_of(body["data"]["login"])
