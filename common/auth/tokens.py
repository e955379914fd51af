"""Access tokens: RS256 JWTs issued by the users subgraph, verified by every service.

Verification refuses anything but RS256 (so no ``alg: none`` and no HS256 made with the
public key), unknown ``kid``, wrong issuer or audience, and expiry beyond the allowed skew.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
import uuid
from collections.abc import Mapping
from typing import Any, Protocol

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey

from common.auth.keys import SIGNING_ALGORITHM
from common.auth.principal import (
    ROLE_SCOPES,
    SERVICE_SCOPES,
    Principal,
    Role,
    scopes_for,
    service_subject,
)
from common.auth.revocations import ENDED, RevocationList
from common.clock import Clock
from common.errors import Unauthenticated

MAX_TOKEN_BYTES = 8192
# Verified tokens remembered per verifier: a client sends the same token with every request
# for its lifetime, and checking its RS256 signature again each time is most of the check.
MAX_REMEMBERED_TOKENS = 10_000
# A remembered token's signature is checked again after this long anyway, so a key taken
# out of the key set stops its tokens within a minute, as a fresh process would.
REVERIFY_SECONDS = 60.0


class InvalidToken(Unauthenticated):
    """The bearer token cannot be trusted; the message says why, never the token."""


class KeySource(Protocol):
    async def key_for(self, kid: str) -> RSAKey | None: ...


class StaticKeys:
    """Keys known in-process (the users subgraph verifies with its own key set)."""

    def __init__(self, keys: list[RSAKey]) -> None:
        self._keys = {key.kid: key for key in keys if key.kid is not None}

    async def key_for(self, kid: str) -> RSAKey | None:
        return self._keys.get(kid)


class TokenIssuer:
    def __init__(self, key: RSAKey, *, issuer: str, audience: str, ttl_seconds: int) -> None:
        self._key = key
        self._issuer = issuer
        self._audience = audience
        self.ttl_seconds = ttl_seconds

    def issue(
        self,
        user_id: uuid.UUID,
        roles: frozenset[Role],
        *,
        scopes: frozenset[str] | None = None,
        ttl_seconds: int | None = None,
        api_key: uuid.UUID | None = None,
        session_id: uuid.UUID | None = None,
    ) -> str:
        """A token for a user; ``scopes`` narrows what their roles grant (an API key's);
        ``session_id`` (claim ``sid``) names the sign-in session it belongs to, which can be
        ended alone (common/auth/revocations.py)."""
        granted = scopes_for(roles) if scopes is None else scopes & scopes_for(roles)
        claims = self._claims(user_id, granted, ttl_seconds)
        claims["roles"] = sorted(role.value for role in roles)
        if api_key is not None:
            claims["api_key"] = str(api_key)
        if session_id is not None:
            claims["sid"] = str(session_id)
        return self._sign(claims)

    def issue_service(self, client_id: str, scopes: frozenset[str], ttl_seconds: int) -> str:
        """A token for a service acting for itself (RFC 6749 4.4): its ``client_id``, no
        roles, and only service scopes."""
        claims = self._claims(
            service_subject(client_id), scopes & SERVICE_SCOPES.keys(), ttl_seconds
        )
        claims["client_id"] = client_id
        return self._sign(claims)

    def _claims(
        self, subject: uuid.UUID, scopes: frozenset[str], ttl_seconds: int | None
    ) -> dict[str, Any]:
        issued = time.time()
        now = int(issued)
        return {
            "iss": self._issuer,
            "aud": self._audience,
            "sub": str(subject),
            # to the millisecond: a revocation (common/auth/revocations.py) must tell a token
            # made just before it from a sign-in just after it
            "iat": round(issued, 3),
            "nbf": now,
            "exp": now + (self.ttl_seconds if ttl_seconds is None else ttl_seconds),
            "jti": uuid.uuid4().hex,
            "scope": " ".join(sorted(scopes)),
        }

    def _sign(self, claims: dict[str, Any]) -> str:
        header = {"alg": SIGNING_ALGORITHM, "kid": self._key.kid, "typ": "JWT"}
        return jwt.encode(header, claims, self._key, algorithms=[SIGNING_ALGORITHM])


def _header(token: str) -> dict[str, Any]:
    try:
        encoded = token.split(".", 1)[0]
        decoded = json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
    except (ValueError, binascii.Error):
        raise InvalidToken("The access token is malformed.") from None
    if not isinstance(decoded, dict):
        raise InvalidToken("The access token is malformed.")
    return decoded


class TokenVerifier:
    def __init__(
        self,
        keys: KeySource,
        *,
        issuer: str,
        audience: str,
        leeway_seconds: int = 30,
        revocations: RevocationList | None = None,
        clock: Clock = time.time,
    ) -> None:
        self._keys = keys
        self.revocations = revocations
        self._leeway = leeway_seconds
        # the wall clock (tokens' times are seconds since the epoch), read both by the memory
        # of verified tokens and by the full check, so a test moves it instead of sleeping
        self._clock = clock
        # token → (its claims, until when they may be reused without checking it again)
        self._verified: dict[str, tuple[dict[str, Any], float]] = {}
        self._registry = jwt.JWTClaimsRegistry(
            now=lambda: int(self._clock()),
            leeway=leeway_seconds,
            iss={"essential": True, "value": issuer},
            aud={"essential": True, "value": audience},
            sub={"essential": True},
            exp={"essential": True},
        )

    async def verify(self, token: str) -> Principal:
        return _principal(await self.claims(token))

    async def claims(self, token: str) -> dict[str, Any]:
        """The token's claims once its signature, issuer, audience and times check out.

        A token verified before is taken from memory until it expires (or for
        `REVERIFY_SECONDS`, whichever comes first); its revocation is checked every time."""
        remembered = self._verified.get(token)
        if remembered is not None:
            claims, until = remembered
            if self._clock() <= until:
                self.check_not_revoked(claims)
                return claims
            del self._verified[token]
        claims = await self._verify(token)
        self._remember(token, claims)
        return claims

    def _remember(self, token: str, claims: dict[str, Any]) -> None:
        expires = claims.get("exp")
        if not isinstance(expires, int | float):
            return
        if len(self._verified) >= MAX_REMEMBERED_TOKENS:
            del self._verified[next(iter(self._verified))]  # the oldest
        # past `exp + leeway` the full check answers, and says "expired"
        until = min(float(expires) + self._leeway, self._clock() + REVERIFY_SECONDS)
        self._verified[token] = (claims, until)

    async def _verify(self, token: str) -> dict[str, Any]:
        if len(token) > MAX_TOKEN_BYTES or token.count(".") != 2:
            raise InvalidToken("The access token is malformed.")
        header = _header(token)
        if header.get("alg") != SIGNING_ALGORITHM:
            raise InvalidToken(f"Access tokens must be signed with {SIGNING_ALGORITHM}.")
        kid = header.get("kid")
        key = await self._keys.key_for(kid) if isinstance(kid, str) else None
        if key is None:
            raise InvalidToken("The access token was signed with an unknown key.")
        try:
            decoded = jwt.decode(token, key, algorithms=[SIGNING_ALGORITHM])
            self._registry.validate(decoded.claims)
        except JoseError as error:
            raise InvalidToken(_reason(error)) from None
        self.check_not_revoked(decoded.claims)
        return decoded.claims

    def check_not_revoked(self, claims: Mapping[str, Any]) -> None:
        """For claims verified earlier too (the router remembers verified tokens)."""
        if self.revocations is not None and self.revocations.is_revoked(claims):
            raise InvalidToken(ENDED)


def _reason(error: JoseError) -> str:
    if error.error == "expired_token":
        return "The access token has expired."
    if error.error == "bad_signature":
        return "The access token signature is invalid."
    return f"The access token is invalid: {error.description or error.error}."


def _principal(claims: dict[str, Any]) -> Principal:
    if "client_id" in claims:
        return _service_principal(claims)
    try:
        user_id = uuid.UUID(str(claims["sub"]))
        roles = frozenset(Role(role) for role in claims.get("roles", []))
    except (ValueError, TypeError):
        raise InvalidToken("The access token names an invalid subject or role.") from None
    scopes = frozenset(str(claims.get("scope", "")).split()) & scopes_for(roles)
    # A role counts only with all of its scopes: a narrowly scoped token (an API key's) of
    # an administrator is not an administrator.
    roles = frozenset(r for r in roles if r is Role.STUDENT or ROLE_SCOPES[r] <= scopes)
    return Principal(
        user_id=user_id,
        roles=roles,
        scopes=scopes,
        token_id=str(claims.get("jti", "")),
        expires_at=float(claims["exp"]),
        issued_at=float(issued) if isinstance(issued := claims.get("iat"), int | float) else None,
        session_id=_session_id(claims.get("sid")),
    )


def _session_id(value: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if isinstance(value, str) else None
    except ValueError:
        raise InvalidToken("The access token names an invalid session.") from None


def _service_principal(claims: dict[str, Any]) -> Principal:
    """A service's token: its subject is the client's, it has no roles, and only service
    scopes count (a user's scope in it would be ignored)."""
    client_id = claims["client_id"]
    if not isinstance(client_id, str) or str(claims["sub"]) != str(service_subject(client_id)):
        raise InvalidToken("The access token names an invalid client.")
    if claims.get("roles"):
        raise InvalidToken("A service's access token cannot carry roles.")
    return Principal(
        user_id=service_subject(client_id),
        roles=frozenset(),
        scopes=frozenset(str(claims.get("scope", "")).split()) & SERVICE_SCOPES.keys(),
        token_id=str(claims.get("jti", "")),
        expires_at=float(claims["exp"]),
        client_id=client_id,
    )
