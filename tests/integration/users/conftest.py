"""Accounts for the users tests: each test gets fresh ones, so tests never share state."""

from __future__ import annotations

import pytest

from common.settings import Settings
from tests.accounts import Account, account_with_roles, register
from tests.support import GraphQLClient


@pytest.fixture
async def learner(users: GraphQLClient) -> Account:
    return await register(users)


@pytest.fixture
async def other_learner(users: GraphQLClient) -> Account:
    return await register(users, name="Other Learner")


@pytest.fixture
async def admin(users: GraphQLClient, migrated: Settings) -> Account:
    return await account_with_roles(users, migrated, ["ADMIN", "STUDENT"], "Test Admin")
