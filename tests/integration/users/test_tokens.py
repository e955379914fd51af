"""Hostile access tokens: expired, forged, alg none, algorithm confusion, wrong audience."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Mapping

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from common.auth import Role, TokenIssuer
from common.auth.jwks import JwksCache
from common.auth.keys import KEY_PARAMETERS, load_signing_key
from common.settings import Settings
from tests.accounts import Account
from tests.support import GraphQLClient, error_codes

ME = "{ me { id } }"


def _b64(value: Mapping[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def _platform_key(settings: Settings) -> RSAKey:
    return load_signing_key(settings.jwt_private_key_file, create=False)


def expired_access_token(settings: Settings, account: Account) -> str:
    """A token of the platform's key for the account, expired beyond the clock skew."""
    return TokenIssuer(
        _platform_key(settings),
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        ttl_seconds=-(settings.clock_skew + 60),
    ).issue(uuid.UUID(account.id), frozenset({Role.STUDENT}))


def _claims(settings: Settings, user_id: str, **overrides: object) -> dict[str, object]:
    now = int(time.time())
    claims: dict[str, object] = {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "sub": user_id,
        "iat": now,
        "exp": now + 600,
        "roles": ["ADMIN"],
    }
    claims.update(overrides)
    return claims


async def _me_error(users: GraphQLClient, token: str) -> tuple[list[str], str]:
    body = await users.execute(ME, token=token)
    # No user comes back: the router refuses a token it cannot verify before any subgraph
    # runs (no data); one only the users subgraph refuses (an invalid subject) nulls `me`.
    assert body.get("data") in (None, {"me": None})
    return error_codes(body), body["errors"][0]["message"]


async def test_expired_token_is_refused_and_says_so(
    users: GraphQLClient, learner: Account, migrated: Settings
) -> None:
    token = expired_access_token(migrated, learner)
    assert await _me_error(users, token) == (["UNAUTHENTICATED"], "The access token has expired.")


async def test_token_signed_by_another_key_with_our_kid_is_refused(
    users: GraphQLClient, learner: Account, migrated: Settings
) -> None:
    forger = RSAKey.generate_key(2048, parameters=KEY_PARAMETERS)
    header = {"alg": "RS256", "kid": _platform_key(migrated).kid}
    token = jwt.encode(header, _claims(migrated, learner.id), forger)
    codes, message = await _me_error(users, token)
    assert codes == ["UNAUTHENTICATED"]
    assert "signature" in message


async def test_token_from_an_unknown_key_is_refused(
    users: GraphQLClient, learner: Account, migrated: Settings
) -> None:
    stranger = RSAKey.generate_key(2048, parameters=KEY_PARAMETERS)
    stranger.ensure_kid()
    token = jwt.encode(
        {"alg": "RS256", "kid": stranger.kid}, _claims(migrated, learner.id), stranger
    )
    assert await _me_error(users, token) == (
        ["UNAUTHENTICATED"],
        "The access token was signed with an unknown key.",
    )


async def test_alg_none_is_refused(
    users: GraphQLClient, learner: Account, migrated: Settings
) -> None:
    token = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims(migrated, learner.id))}."
    codes, message = await _me_error(users, token)
    assert codes == ["UNAUTHENTICATED"]
    assert "RS256" in message


async def test_hs256_signed_with_the_public_key_is_refused(
    users: GraphQLClient, learner: Account, migrated: Settings
) -> None:
    # The classic confusion attack: HMAC keyed with the public PEM that anyone can fetch.
    # Signed by hand, because joserfc (rightly) refuses to build that key.
    public_pem = _platform_key(migrated).as_pem(private=False)
    header = {"alg": "HS256", "typ": "JWT", "kid": _platform_key(migrated).kid}
    signing_input = f"{_b64(header)}.{_b64(_claims(migrated, learner.id))}"
    mac = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    token = f"{signing_input}.{base64.urlsafe_b64encode(mac).decode().rstrip('=')}"
    codes, _ = await _me_error(users, token)
    assert codes == ["UNAUTHENTICATED"]


@pytest.mark.parametrize(
    ("claim", "value"), [("aud", "another-app"), ("iss", "https://evil.example"), ("sub", "x")]
)
async def test_token_with_wrong_claims_is_refused(
    users: GraphQLClient, learner: Account, migrated: Settings, claim: str, value: str
) -> None:
    key = _platform_key(migrated)
    claims = _claims(migrated, learner.id, **{claim: value})
    token = jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)
    codes, _ = await _me_error(users, token)
    assert codes == ["UNAUTHENTICATED"]


@pytest.mark.parametrize("token", ["garbage", "a.b.c", "x" * 10_000, "eyJhbGciOi.e30.sig"])
async def test_malformed_tokens_are_refused_without_a_stack_trace(
    users: GraphQLClient, token: str
) -> None:
    codes, message = await _me_error(users, token)
    assert codes == ["UNAUTHENTICATED"]
    assert "Traceback" not in message


async def test_wrong_authorization_scheme_is_explained(
    users: GraphQLClient, learner: Account
) -> None:
    response = await users.http.post(
        users.url, json={"query": ME}, headers={"Authorization": f"Token {learner.access_token}"}
    )
    body = response.json()
    assert error_codes(body) == ["UNAUTHENTICATED"]
    assert "Bearer" in body["errors"][0]["message"]


async def test_jwks_publishes_the_verifying_key_and_nothing_private(
    users_url: str, http: httpx.AsyncClient, learner: Account
) -> None:
    response = await http.get(f"{users_url}/.well-known/jwks.json")
    assert response.status_code == 200
    keys = response.json()["keys"]
    header = json.loads(base64.urlsafe_b64decode(learner.access_token.split(".")[0] + "=="))
    assert header["alg"] == "RS256"
    assert [key["kid"] for key in keys] == [header["kid"]]
    assert all("d" not in key and "p" not in key for key in keys)
    assert keys[0]["kty"] == "RSA"


async def test_callers_arriving_during_a_jwks_fetch_wait_for_it(
    users_url: str, http: httpx.AsyncClient, learner: Account
) -> None:
    """A cold cache: the first caller fetches; those arriving meanwhile get the key too,
    rather than an "unknown key" (a burst of new connections after a restart)."""
    cache = JwksCache(f"{users_url}/.well-known/jwks.json", http)
    kid = json.loads(base64.urlsafe_b64decode(learner.access_token.split(".")[0] + "=="))["kid"]
    keys = await asyncio.gather(*(cache.key_for(kid) for _ in range(20)))
    assert all(key is not None and key.kid == kid for key in keys)


async def test_a_subgraph_challenges_callers_it_refuses_with_www_authenticate(
    users_subgraph: GraphQLClient, users_url: str, learner: Account, migrated: Settings
) -> None:
    """RFC 6750: the bare challenge when a token is needed and none was sent, the error and
    its reason when one was sent and refused; none when nothing was refused."""
    http = users_subgraph.http
    anonymous = await http.post(users_subgraph.url, json={"query": ME})
    assert anonymous.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert anonymous.headers["www-authenticate"] == 'Bearer realm="lms"'
    expired = expired_access_token(migrated, learner)
    refused = await http.post(
        users_subgraph.url, json={"query": ME}, headers={"authorization": f"Bearer {expired}"}
    )
    assert refused.headers["www-authenticate"] == (
        'Bearer realm="lms", error="invalid_token", '
        'error_description="The access token has expired."'
    )
    signed_in = await http.post(
        users_subgraph.url,
        json={"query": ME},
        headers={"authorization": f"Bearer {learner.access_token}"},
    )
    assert signed_in.json()["data"] == {"me": {"id": learner.id}}
    assert "www-authenticate" not in signed_in.headers
    bad_key = await http.post(
        f"{users_url}/auth/api-key-token", headers={"authorization": "ApiKey lms_not-a-key"}
    )
    assert bad_key.status_code == 401
    assert bad_key.headers["www-authenticate"] == 'ApiKey realm="lms", error="invalid_client"'
