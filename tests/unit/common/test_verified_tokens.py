"""A verifier remembers the tokens it verified, without trusting them longer than a full
check would: expiry still refuses them, and so does a key taken out of the key set."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from joserfc.jwk import RSAKey

from common.auth import Role, TokenIssuer, TokenVerifier
from common.auth.keys import KEY_PARAMETERS
from common.auth.tokens import REVERIFY_SECONDS, InvalidToken
from tests.clock import MovableClock

ISSUER, AUDIENCE = "https://lms.test", "lms"
LEEWAY = 1  # iat is to the millisecond, the check to the second


class Keys:
    def __init__(self, key: RSAKey) -> None:
        self.keys = {key.kid: key}

    async def key_for(self, kid: str) -> RSAKey | None:
        return self.keys.get(kid)


@pytest.fixture(scope="module")
def key() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={**KEY_PARAMETERS, "kid": "k1"}, private=True)


def _token(key: RSAKey, ttl_seconds: int) -> str:
    issuer = TokenIssuer(key, issuer=ISSUER, audience=AUDIENCE, ttl_seconds=ttl_seconds)
    return issuer.issue(uuid.uuid4(), frozenset({Role.STUDENT}))


def _verifier(keys: Keys, clock: MovableClock | None = None) -> TokenVerifier:
    return TokenVerifier(
        keys,
        issuer=ISSUER,
        audience=AUDIENCE,
        leeway_seconds=LEEWAY,
        clock=clock or MovableClock(),
    )


def test_a_remembered_token_still_expires(key: RSAKey) -> None:
    clock = MovableClock()
    verifier = _verifier(Keys(key), clock)
    token = _token(key, ttl_seconds=10)
    first = asyncio.run(verifier.verify(token))
    assert first.expires_at is not None
    clock.advance(first.expires_at + LEEWAY - clock() - 0.5)  # within the leeway still
    assert asyncio.run(verifier.verify(token)) == first
    clock.advance(1.5)
    with pytest.raises(InvalidToken, match="The access token has expired"):
        asyncio.run(verifier.verify(token))


def test_a_remembered_token_is_checked_again_against_the_key_set(key: RSAKey) -> None:
    clock, keys = MovableClock(), Keys(key)
    verifier = _verifier(keys, clock)
    token = _token(key, ttl_seconds=600)
    asyncio.run(verifier.verify(token))
    keys.keys.clear()  # the key is retired
    assert asyncio.run(verifier.verify(token)).user_id  # remembered for a while yet
    clock.advance(REVERIFY_SECONDS + 1)
    with pytest.raises(InvalidToken, match="signed with an unknown key"):
        asyncio.run(verifier.verify(token))


def test_a_refused_token_is_not_remembered(key: RSAKey) -> None:
    verifier = _verifier(Keys(key))
    token = _token(key, ttl_seconds=600)
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    for _ in range(2):
        with pytest.raises(InvalidToken, match="signature is invalid"):
            asyncio.run(verifier.verify(forged))
