"""OAuth 2 client-credentials tokens for LTI Advantage services (1EdTech Security Framework
§4.1): the tool proves who it is with a JWT signed by its own key (RFC 7523 client
assertion), and gets a short-lived opaque bearer token for the LTI scopes it asked for.

The assertion must be RS256, signed by a key of the tool's registration (its JWKS URL,
refetched on an unknown kid, or the public key given), with iss = sub = the tool's client
id, our token URL among its audiences, unexpired, and a jti never seen before (kept in
Redis until the assertion expires). The token is bound to the tool: every service checks
that what it touches belongs to that tool's links, hence to its deployments and courses.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import httpx
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey
from redis.asyncio import Redis

from common.auth.jwks import JwksCache
from common.auth.keys import KEY_PARAMETERS, SIGNING_ALGORITHM
from subgraphs.courses.lti.models import LtiToolRow
from subgraphs.courses.lti.tools import LtiTools

ASSERTION_TYPE: Final = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
AGS: Final = "https://purl.imsglobal.org/spec/lti-ags/scope/"
LINEITEM: Final = AGS + "lineitem"
LINEITEM_READONLY: Final = AGS + "lineitem.readonly"
RESULT_READONLY: Final = AGS + "result.readonly"
SCORE: Final = AGS + "score"
MEMBERSHIP_READONLY: Final = (
    "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
)
GRADE_SCOPES: Final = frozenset({LINEITEM, LINEITEM_READONLY, RESULT_READONLY, SCORE})
SCOPES: Final = GRADE_SCOPES | {MEMBERSHIP_READONLY}
TOKEN_SECONDS: Final = 3600
MAX_ASSERTION_SECONDS: Final = 600  # an assertion living longer is refused
LEEWAY_SECONDS: Final = 30
MAX_ASSERTION_BYTES: Final = 8192


class TokenRefused(Exception):
    """An RFC 6749 §5.2 error: ``error`` code, description, HTTP status."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status


@dataclass(frozen=True, slots=True)
class ServiceGrant:
    """What a bearer token lets a tool do."""

    tool_id: str
    client_id: str
    scopes: frozenset[str]


def unverified(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    try:
        header, payload, _ = token.split(".")
        decoded = [
            json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
            for part in (header, payload)
        ]
    except (ValueError, TypeError, binascii.Error):
        raise TokenRefused("invalid_client", "client_assertion is not a JWT.", 401) from None
    if not all(isinstance(part, dict) for part in decoded):
        raise TokenRefused("invalid_client", "client_assertion is not a JWT.", 401)
    return decoded[0], decoded[1]


def _token_key(token: str) -> str:
    return f"lms:lti:access:{hashlib.sha256(token.encode()).hexdigest()}"


class ServiceTokens:
    def __init__(self, tools: LtiTools, redis: Redis, http: httpx.AsyncClient, token_url: str):
        self.tools = tools
        self.redis = redis
        self.http = http
        self.token_url = token_url
        self._jwks: dict[str, JwksCache] = {}

    async def tool_key(self, tool: LtiToolRow, kid: str | None) -> RSAKey | None:
        if tool.public_jwk is not None:
            key = RSAKey.import_key(tool.public_jwk, parameters=KEY_PARAMETERS)
            return key if kid is None or key.kid == kid else None
        if tool.jwks_url is None or kid is None:
            return None
        cache = self._jwks.setdefault(tool.jwks_url, JwksCache(tool.jwks_url, self.http))
        return await cache.key_for(kid)

    async def issue(self, form: Mapping[str, str]) -> dict[str, Any]:
        if form.get("grant_type") != "client_credentials":
            raise TokenRefused("unsupported_grant_type", "grant_type must be client_credentials.")
        if form.get("client_assertion_type") != ASSERTION_TYPE:
            raise TokenRefused(
                "invalid_request", f"client_assertion_type must be {ASSERTION_TYPE}."
            )
        assertion = form.get("client_assertion", "")
        if not assertion or len(assertion) > MAX_ASSERTION_BYTES:
            raise TokenRefused("invalid_request", "client_assertion is missing or too long.")
        header, claimed = unverified(assertion)
        if header.get("alg") != SIGNING_ALGORITHM:
            raise TokenRefused("invalid_client", "client_assertion must be signed with RS256.", 401)
        client_id = claimed.get("iss")
        tool = await self.tools.by_client_id(client_id) if isinstance(client_id, str) else None
        if tool is None:
            raise TokenRefused("invalid_client", "The assertion's issuer is not a known tool.", 401)
        kid = header.get("kid")
        key = await self.tool_key(tool, kid if isinstance(kid, str) else None)
        if key is None:
            raise TokenRefused("invalid_client", "The assertion's key is not the tool's.", 401)
        claims = self._verified(assertion, key, tool.client_id)
        await self._spend(tool.client_id, claims)
        asked = frozenset(form.get("scope", "").split())
        granted = asked & SCOPES
        if not granted:
            raise TokenRefused("invalid_scope", "Ask for one or more LTI Advantage scopes.")
        token = secrets.token_urlsafe(32)
        grant = {"tool_id": str(tool.id), "client_id": tool.client_id, "scopes": sorted(granted)}
        await self.redis.set(_token_key(token), json.dumps(grant), ex=TOKEN_SECONDS)
        return {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": TOKEN_SECONDS,
            "scope": " ".join(sorted(granted)),
        }

    def _verified(self, assertion: str, key: RSAKey, client_id: str) -> dict[str, Any]:
        registry = jwt.JWTClaimsRegistry(
            leeway=LEEWAY_SECONDS,
            iss={"essential": True, "value": client_id},
            sub={"essential": True, "value": client_id},
            exp={"essential": True},
            jti={"essential": True},
        )
        try:
            decoded = jwt.decode(assertion, key, algorithms=[SIGNING_ALGORITHM])
            registry.validate(decoded.claims)
        except JoseError as error:
            reason = "has expired" if error.error == "expired_token" else "did not verify"
            raise TokenRefused("invalid_client", f"The client assertion {reason}.", 401) from None
        claims = decoded.claims
        audience = claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if self.token_url not in audiences:
            raise TokenRefused("invalid_client", "The assertion is not for this token URL.", 401)
        if float(claims["exp"]) > time.time() + MAX_ASSERTION_SECONDS:
            raise TokenRefused("invalid_client", "The assertion lives too long.", 401)
        return claims

    async def _spend(self, client_id: str, claims: Mapping[str, Any]) -> None:
        """A jti is used once: a replayed assertion is refused."""
        digest = hashlib.sha256(f"{client_id}\n{claims['jti']}".encode()).hexdigest()
        ttl = max(1, int(float(claims["exp"]) - time.time()) + LEEWAY_SECONDS)
        if not await self.redis.set(f"lms:lti:jti:{digest}", "1", nx=True, ex=ttl):
            raise TokenRefused("invalid_client", "This client assertion was used already.", 401)

    async def grant(self, authorization: str | None) -> ServiceGrant | None:
        """The grant of a bearer token, or None (missing, unknown or expired)."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token or len(token) > 256:
            return None
        raw = await self.redis.get(_token_key(token))
        if raw is None:
            return None
        stored = json.loads(raw)
        return ServiceGrant(stored["tool_id"], stored["client_id"], frozenset(stored["scopes"]))
