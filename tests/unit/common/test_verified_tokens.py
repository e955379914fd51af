"""A verifier remembers the tokens it verified, without trusting them longer than a full
check would: expiry still refuses them, and so does a key taken out of the key set."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest
from joserfc.jwk import RSAKey

from common.auth import Role, TokenIssuer, TokenVerifier, tokens
from common.auth.keys import KEY_PARAMETERS
from common.auth.tokens import InvalidToken

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


def _verifier(keys: Keys) -> TokenVerifier:
    return TokenVerifier(keys, issuer=ISSUER, audience=AUDIENCE, leeway_seconds=LEEWAY)


def test_a_remembered_token_still_expires(key: RSAKey) -> None:
    verifier = _verifier(Keys(key))
    token = _token(key, ttl_seconds=1)
    first = asyncio.run(verifier.verify(token))
    assert first.expires_at is not None
    assert asyncio.run(verifier.verify(token)) == first
    time.sleep(max(0.0, first.expires_at + LEEWAY + 1.05 - time.time()))
    with pytest.raises(InvalidToken, match="The access token has expired"):
        asyncio.run(verifier.verify(token))


def test_a_remembered_token_is_checked_again_against_the_key_set(
    key: RSAKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tokens, "REVERIFY_SECONDS", 0.01)
    keys = Keys(key)
    verifier = _verifier(keys)
    token = _token(key, ttl_seconds=600)
    asyncio.run(verifier.verify(token))
    keys.keys.clear()  # the key is retired
    time.sleep(0.02)
    with pytest.raises(InvalidToken, match="signed with an unknown key"):
        asyncio.run(verifier.verify(token))


def test_a_refused_token_is_not_remembered(key: RSAKey) -> None:
    verifier = _verifier(Keys(key))
    token = _token(key, ttl_seconds=600)
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    for _ in range(2):
        with pytest.raises(InvalidToken, match="signature is invalid"):
            asyncio.run(verifier.verify(forged))
