"""The loopback OpenID provider speaks the real protocol to Authlib's own client.

Also: it refuses what a real provider refuses, and every `Misbehaviour` switch visibly
changes what it serves, so relying-party tests built on it cannot pass vacuously.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
import warnings
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from authlib.oidc.discovery import OpenIDProviderMetadata
from joserfc import jwt
from joserfc.errors import BadSignatureError, ExpiredTokenError, InvalidClaimError
from joserfc.jwk import KeySet, RSAKey
from joserfc.jws import extract_compact

from tests.oidc_provider import Misbehaviour, OpenIDProvider, ProviderUser

with warnings.catch_warnings():
    # Authlib 1.9 warns on import when it falls back from httpx2 to httpx, which we pin.
    warnings.filterwarnings("ignore", "The httpx module is deprecated", DeprecationWarning)
    from authlib.integrations.httpx_client import AsyncOAuth2Client, OAuthError

ISSUER = "http://127.0.0.1:9411"
CLIENT_ID = "lms-users"
CLIENT_SECRET = "client-secret-for-tests"
REDIRECT_URI = "http://127.0.0.1:8001/auth/oidc/callback"
ALICE = ProviderUser("alice-0001", "alice@example.com", True, "Alice Liddell")
KEY = RSAKey.generate_key(2048, auto_kid=True)  # once per module: generation is the slow part


@pytest.fixture
def provider() -> OpenIDProvider:
    provider = OpenIDProvider(ISSUER, CLIENT_ID, CLIENT_SECRET, [REDIRECT_URI], signing_key=KEY)
    provider.add_user(ALICE)
    return provider


def relying_party(
    provider: OpenIDProvider, *, scope: str = "openid email profile", **options: Any
) -> AsyncOAuth2Client:
    return AsyncOAuth2Client(
        CLIENT_ID,
        CLIENT_SECRET,
        code_challenge_method="S256",
        scope=scope,
        redirect_uri=REDIRECT_URI,
        transport=httpx.ASGITransport(app=provider.app),
        base_url=ISSUER,
        **options,
    )


@pytest.fixture
async def rp(provider: OpenIDProvider) -> AsyncIterator[AsyncOAuth2Client]:
    async with relying_party(provider) as client:
        yield client


async def plain_get(rp: AsyncOAuth2Client, url: str, **options: Any) -> httpx.Response:
    """A GET without the client's access token (Authlib's `get` has no way to say so)."""
    response: httpx.Response = await rp.request("GET", url, withhold_token=True, **options)
    return response


class Attempt:
    """One trip through the authorization endpoint, with what the relying party remembers."""

    def __init__(self, response: httpx.Response, state: str, nonce: str, verifier: str) -> None:
        self.response = response
        self.state = state
        self.nonce = nonce
        self.verifier = verifier
        location = response.headers.get("location", "")
        self.redirected_to = location.split("?")[0]
        self.params = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


async def authorize(
    rp: AsyncOAuth2Client, *, login_hint: str = "alice@example.com", **params: Any
) -> Attempt:
    nonce = params.pop("nonce", secrets.token_urlsafe(16))
    verifier = secrets.token_urlsafe(48)
    if "code_verifier" not in params:
        params["code_verifier"] = verifier
    if nonce is not None:
        params["nonce"] = nonce
    url, state = rp.create_authorization_url(f"{ISSUER}/authorize", login_hint=login_hint, **params)
    response = await plain_get(rp, url)
    return Attempt(response, state, nonce, verifier)


async def redeem(rp: AsyncOAuth2Client, attempt: Attempt, **params: Any) -> dict[str, Any]:
    params.setdefault("code_verifier", attempt.verifier)
    token: dict[str, Any] = await rp.fetch_token(
        f"{ISSUER}/token", code=attempt.params["code"], **params
    )
    return token


async def token_error(rp: AsyncOAuth2Client, attempt: Attempt, **params: Any) -> str:
    with pytest.raises(OAuthError) as refused:
        await redeem(rp, attempt, **params)
    return str(refused.value.error)


async def sign_in(rp: AsyncOAuth2Client) -> tuple[Attempt, dict[str, Any]]:
    attempt = await authorize(rp)
    assert attempt.response.status_code == 302, attempt.response.text
    return attempt, await redeem(rp, attempt)


async def jwks(rp: AsyncOAuth2Client) -> KeySet:
    return KeySet.import_key_set((await plain_get(rp, f"{ISSUER}/jwks")).json())


def validate(claims: dict[str, Any], nonce: str) -> None:
    """What a relying party must check in an ID token besides the signature."""
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": ISSUER},
        aud={"essential": True, "value": CLIENT_ID},
        nonce={"essential": True, "value": nonce},
        sub={"essential": True},
        exp={"essential": True},
        iat={"essential": True},
    ).validate(claims)


def at_hash(access_token: str) -> str:
    digest = hashlib.sha256(access_token.encode()).digest()
    return base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()


async def test_discovery_publishes_valid_metadata_for_the_issuer(
    rp: AsyncOAuth2Client,
) -> None:
    response = await plain_get(rp, f"{ISSUER}/.well-known/openid-configuration")
    metadata = OpenIDProviderMetadata(response.json())
    metadata.validate()
    assert metadata["issuer"] == ISSUER
    assert metadata["authorization_endpoint"] == f"{ISSUER}/authorize"
    assert metadata["token_endpoint"] == f"{ISSUER}/token"
    assert metadata["jwks_uri"] == f"{ISSUER}/jwks"
    assert metadata["userinfo_endpoint"] == f"{ISSUER}/userinfo"
    assert metadata["response_types_supported"] == ["code"]
    assert metadata["id_token_signing_alg_values_supported"] == ["RS256"]
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert set(metadata["token_endpoint_auth_methods_supported"]) == {
        "client_secret_basic",
        "client_secret_post",
    }


@pytest.mark.parametrize("auth_method", ["client_secret_basic", "client_secret_post"])
async def test_a_sign_in_yields_a_signed_id_token_for_the_user(
    provider: OpenIDProvider, auth_method: str
) -> None:
    async with relying_party(provider, token_endpoint_auth_method=auth_method) as rp:
        attempt, token = await sign_in(rp)
        assert attempt.redirected_to == REDIRECT_URI
        assert attempt.params["state"] == attempt.state
        assert token["token_type"] == "Bearer"
        assert token["expires_in"] > 0
        assert token["scope"] == "openid email profile"

        keys = await jwks(rp)
        id_token = jwt.decode(token["id_token"], keys, algorithms=["RS256"])
        assert id_token.header["kid"] == KEY.kid
        validate(id_token.claims, attempt.nonce)
        claims = id_token.claims
        assert claims["aud"] == [CLIENT_ID]
        assert claims["sub"] == ALICE.subject
        assert claims["email"] == ALICE.email
        assert claims["email_verified"] is True
        assert claims["name"] == ALICE.name
        assert claims["at_hash"] == at_hash(token["access_token"])
        assert claims["iat"] <= time.time() < claims["exp"]
        assert claims["auth_time"] <= time.time()

        userinfo = await rp.get(f"{ISSUER}/userinfo")
        assert userinfo.json() == {
            "sub": ALICE.subject,
            "name": ALICE.name,
            "email": ALICE.email,
            "email_verified": True,
        }

    sent = provider.token_requests[-1]
    assert sent["grant_type"] == "authorization_code"
    assert sent["code_verifier"] == attempt.verifier
    assert sent["redirect_uri"] == REDIRECT_URI
    assert ("client_secret" in sent) is (auth_method == "client_secret_post")


async def test_claims_follow_the_scopes_and_the_subject_works_as_a_login_hint(
    provider: OpenIDProvider,
) -> None:
    async with relying_party(provider, scope="openid") as rp:
        attempt = await authorize(rp, login_hint=ALICE.subject)
        token = await redeem(rp, attempt)
        claims = jwt.decode(token["id_token"], await jwks(rp), algorithms=["RS256"]).claims
    assert claims["sub"] == ALICE.subject
    assert not {"email", "email_verified", "name"} & claims.keys()


async def test_a_code_is_single_use(rp: AsyncOAuth2Client) -> None:
    attempt, _ = await sign_in(rp)
    assert await token_error(rp, attempt) == "invalid_grant"


async def test_a_code_expires(provider: OpenIDProvider, rp: AsyncOAuth2Client) -> None:
    provider.code_lifetime = 0
    attempt = await authorize(rp)
    assert await token_error(rp, attempt) == "invalid_grant"


async def test_a_wrong_code_verifier_is_refused_and_burns_the_code(rp: AsyncOAuth2Client) -> None:
    attempt = await authorize(rp)
    wrong = secrets.token_urlsafe(48)
    assert await token_error(rp, attempt, code_verifier=wrong) == "invalid_grant"
    assert await token_error(rp, attempt) == "invalid_grant"


async def test_a_missing_code_verifier_is_refused(rp: AsyncOAuth2Client) -> None:
    attempt = await authorize(rp)
    assert await token_error(rp, attempt, code_verifier=None) == "invalid_request"


async def test_an_authorization_request_without_s256_pkce_is_refused(
    provider: OpenIDProvider, rp: AsyncOAuth2Client
) -> None:
    without = await authorize(rp, code_verifier=None)
    assert without.redirected_to == REDIRECT_URI
    assert without.params["error"] == "invalid_request"
    assert "code_challenge" in without.params["error_description"]
    assert without.params["state"] == without.state
    assert "code" not in without.params

    plain = await authorize(
        rp, code_verifier=None, code_challenge="a" * 43, code_challenge_method="plain"
    )
    assert plain.params["error"] == "invalid_request"
    assert "S256" in plain.params["error_description"]


async def test_a_wrong_client_secret_is_refused(provider: OpenIDProvider) -> None:
    async with relying_party(provider) as rp:
        attempt = await authorize(rp)
    async with relying_party(provider) as impostor:
        impostor.client_secret = "guessed"
        assert await token_error(impostor, attempt) == "invalid_client"


async def test_an_unregistered_redirect_uri_or_client_is_never_redirected_to(
    provider: OpenIDProvider, rp: AsyncOAuth2Client
) -> None:
    elsewhere = await authorize(rp, redirect_uri="http://127.0.0.1:6666/steal")
    assert elsewhere.response.status_code == 400
    assert "location" not in elsewhere.response.headers
    assert elsewhere.response.json()["error"] == "invalid_request"

    async with relying_party(provider) as stranger:
        stranger.client_id = "not-registered"
        unknown = await authorize(stranger)
    assert unknown.response.status_code == 400
    assert "location" not in unknown.response.headers
    assert unknown.response.json()["error"] == "invalid_client"


async def test_an_unknown_login_hint_is_access_denied(rp: AsyncOAuth2Client) -> None:
    attempt = await authorize(rp, login_hint="mallory@example.com")
    assert attempt.response.status_code == 302
    assert attempt.redirected_to == REDIRECT_URI
    assert attempt.params["error"] == "access_denied"
    assert attempt.params["state"] == attempt.state
    assert "code" not in attempt.params


async def test_openid_scope_and_a_fresh_nonce_are_required(provider: OpenIDProvider) -> None:
    async with relying_party(provider) as rp:
        no_nonce = await authorize(rp, nonce=None)
        assert no_nonce.params["error"] == "invalid_request"
        assert "nonce" in no_nonce.params["error_description"]
        first = await authorize(rp, nonce="used-once")
        assert "code" in first.params
        replayed = await authorize(rp, nonce="used-once")
        assert replayed.params["error"] == "invalid_request"
        assert "Replay" in replayed.params["error_description"]
    async with relying_party(provider, scope="email profile") as plain_oauth:
        assert (await authorize(plain_oauth)).params["error"] == "invalid_scope"


async def test_userinfo_wants_a_valid_bearer_token(rp: AsyncOAuth2Client) -> None:
    response = await plain_get(rp, f"{ISSUER}/userinfo", headers={"Authorization": "Bearer forged"})
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


# --- Each lie changes exactly what it claims to, and an honest check catches it. ---


async def _id_token(rp: AsyncOAuth2Client) -> tuple[str, Attempt]:
    attempt, token = await sign_in(rp)
    return token["id_token"], attempt


async def test_a_foreign_nonce_is_caught_by_nonce_validation(
    provider: OpenIDProvider, rp: AsyncOAuth2Client
) -> None:
    provider.misbehaviour.id_token_nonce = "someone-elses-nonce"
    id_token, attempt = await _id_token(rp)
    claims = jwt.decode(id_token, await jwks(rp), algorithms=["RS256"]).claims
    assert claims["nonce"] == "someone-elses-nonce" != attempt.nonce
    with pytest.raises(InvalidClaimError, match="nonce"):
        validate(claims, attempt.nonce)


async def test_a_foreign_audience_is_caught_by_audience_validation(
    provider: OpenIDProvider, rp: AsyncOAuth2Client
) -> None:
    provider.misbehaviour.id_token_audience = "another-client"
    id_token, attempt = await _id_token(rp)
    claims = jwt.decode(id_token, await jwks(rp), algorithms=["RS256"]).claims
    assert claims["aud"] == ["another-client"]
    with pytest.raises(InvalidClaimError, match="aud"):
        validate(claims, attempt.nonce)


async def test_a_foreign_issuer_is_caught_by_issuer_validation(
    provider: OpenIDProvider, rp: AsyncOAuth2Client
) -> None:
    provider.misbehaviour.id_token_issuer = "http://127.0.0.1:1/impostor"
    id_token, attempt = await _id_token(rp)
    claims = jwt.decode(id_token, await jwks(rp), algorithms=["RS256"]).claims
    assert claims["iss"] == "http://127.0.0.1:1/impostor"
    with pytest.raises(InvalidClaimError, match="iss"):
        validate(claims, attempt.nonce)


async def test_an_expired_id_token_is_caught_by_expiry_validation(
    provider: OpenIDProvider, rp: AsyncOAuth2Client
) -> None:
    provider.misbehaviour.id_token_expired = True
    id_token, attempt = await _id_token(rp)
    claims = jwt.decode(id_token, await jwks(rp), algorithms=["RS256"]).claims
    now = time.time()
    assert claims["iat"] < claims["exp"] <= now - 3000
    assert claims["auth_time"] <= claims["iat"]
    with pytest.raises(ExpiredTokenError):
        validate(claims, attempt.nonce)


async def test_a_foreign_signing_key_is_caught_by_signature_verification(
    provider: OpenIDProvider, rp: AsyncOAuth2Client
) -> None:
    provider.misbehaviour.foreign_signing_key = True
    id_token, _ = await _id_token(rp)
    keys = await jwks(rp)
    assert [key.kid for key in keys] == [KEY.kid]
    with pytest.raises(BadSignatureError):
        jwt.decode(id_token, keys, algorithms=["RS256"])
    assert extract_compact(id_token.encode()).protected["kid"] == KEY.kid


async def test_a_foreign_discovery_issuer_changes_only_the_issuer(
    provider: OpenIDProvider, rp: AsyncOAuth2Client
) -> None:
    provider.misbehaviour.discovery_issuer = "http://127.0.0.1:1/impostor"
    url = f"{ISSUER}/.well-known/openid-configuration"
    metadata = (await plain_get(rp, url)).json()
    assert metadata["issuer"] == "http://127.0.0.1:1/impostor"
    assert metadata["token_endpoint"] == f"{ISSUER}/token"


async def test_resetting_the_misbehaviour_restores_honest_tokens(
    provider: OpenIDProvider, rp: AsyncOAuth2Client
) -> None:
    provider.misbehaviour = Misbehaviour(id_token_issuer="x", foreign_signing_key=True)
    provider.misbehaviour = Misbehaviour()
    attempt, token = await sign_in(rp)
    claims = jwt.decode(token["id_token"], await jwks(rp), algorithms=["RS256"]).claims
    validate(claims, attempt.nonce)
