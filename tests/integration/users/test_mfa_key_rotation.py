"""Rotating LMS_MFA_ENCRYPTION_KEY: secrets move to the new key, and second factors keep
working throughout (subgraphs/users/sealing.py says how)."""

from __future__ import annotations

import base64
import dataclasses
import os
import uuid

import asyncpg
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from common.db.engine import dsn, role_name
from common.settings import Settings
from subgraphs.users.key_rotation import reseal_mfa_secrets
from subgraphs.users.sealing import SecretBox
from tests.accounts import Account
from tests.integration.users.second_factor import enable_mfa, mfa_token, verify
from tests.support import GraphQLClient


async def _sealed(settings: Settings, user_id: str) -> bytes:
    conn = await asyncpg.connect(
        dsn(settings, role_name("users"), settings.pg_password("users"), driver="postgresql")
    )
    try:
        value: bytes = await conn.fetchval(
            "SELECT secret_sealed FROM users.totp_factors WHERE user_id = $1", uuid.UUID(user_id)
        )
        return value
    finally:
        await conn.close()


async def _overwrite(settings: Settings, user_id: str, sealed: bytes) -> None:
    conn = await asyncpg.connect(
        dsn(settings, role_name("users"), settings.pg_password("users"), driver="postgresql")
    )
    try:
        await conn.execute(
            "UPDATE users.totp_factors SET secret_sealed = $1 WHERE user_id = $2",
            sealed,
            uuid.UUID(user_id),
        )
    finally:
        await conn.close()


async def test_rotating_the_key_and_back_keeps_every_second_factor(
    users: GraphQLClient, learner: Account, migrated: Settings
) -> None:
    secured = await enable_mfa(users, learner)
    current = SecretBox.of(migrated)
    assert current.is_current(await _sealed(migrated, learner.id))

    new_key = base64.b64encode(os.urandom(32)).decode()
    rotated = dataclasses.replace(
        migrated,
        mfa_encryption_key=new_key,
        mfa_previous_keys=(migrated.mfa_encryption_key,),
    )
    assert await reseal_mfa_secrets(rotated, batch=2) >= 1  # in batches, each a transaction
    moved = await _sealed(migrated, learner.id)
    assert SecretBox.of(rotated).is_current(moved)
    assert SecretBox.from_base64(new_key).open(moved, uuid.UUID(learner.id).bytes)
    assert await reseal_mfa_secrets(rotated) == 0  # nothing left on the old key

    back = dataclasses.replace(migrated, mfa_previous_keys=(new_key,))
    assert await reseal_mfa_secrets(back) >= 1
    assert current.is_current(await _sealed(migrated, learner.id))
    # the running service (on the original key) accepts the authenticator's codes again
    signed_in = await verify(users, await mfa_token(users, learner.email), code=secured.app.code())
    assert signed_in["data"]["verifyMfa"]["user"]["id"] == learner.id


async def test_a_secret_in_the_first_format_is_sealed_again_when_used(
    users: GraphQLClient, learner: Account, migrated: Settings
) -> None:
    """Values sealed before keys were named (version 1) open, and move on first use."""
    secured = await enable_mfa(users, learner)
    owner = uuid.UUID(learner.id).bytes
    nonce = os.urandom(12)
    key = base64.b64decode(migrated.mfa_encryption_key)
    legacy = b"\x01" + nonce + AESGCM(key).encrypt(nonce, secured.app.secret.encode(), owner)
    await _overwrite(migrated, learner.id, legacy)

    signed_in = await verify(users, await mfa_token(users, learner.email), code=secured.app.code())
    assert signed_in["data"]["verifyMfa"]["user"]["id"] == learner.id
    assert SecretBox.of(migrated).is_current(await _sealed(migrated, learner.id))
