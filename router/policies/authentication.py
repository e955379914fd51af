"""Who is calling: bearer access tokens verified against the identity provider's JWKS.

Keys are fetched from the JWKS URL, cached, and fetched again when a token names an unknown
`kid`. Only RS256 is accepted (no `alg: none`, no HMAC made with the public key); issuer,
audience and expiry are checked with a small clock skew. A verified token is remembered
(bounded, until it expires), so a client's next requests skip the signature check.
"""

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
from redis.asyncio import Redis

from common.auth.jwks import JwksCache
from common.auth.revocations import RevocationList
from common.auth.tokens import TokenVerifier
from common.errors import Unauthenticated
from router.lru import LRU

VERIFIED_TOKENS = 4096


@dataclass(frozen=True, slots=True)
class JwtConfig:
    jwks_url: str
    issuer: str
    audience: str
    leeway_seconds: int = 30
    # Redis where the identity provider lists users whose tokens ended early
    # (common/auth/revocations.py); None: tokens are good until they expire.
    revocations_url: str | None = None


class AuthenticationFailed(Exception):
    """The credentials cannot be trusted; the message says why (never the token)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class Caller:
    authorization: str  # the Authorization header value to forward: "Bearer <token>"
    subject: str
    expires_at: float | None
    scopes: frozenset[str] = frozenset()
    claims: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, token: str, claims: Mapping[str, Any]) -> "Caller":
        """`scope` (space-separated) or `scp` (a list) name the scopes, as OAuth 2 does."""
        exp = claims.get("exp")
        scope = claims.get("scope", claims.get("scp", ""))
        scopes = scope.split() if isinstance(scope, str) else [str(s) for s in scope or ()]
        return cls(
            f"Bearer {token}",
            str(claims.get("sub", "")),
            float(exp) if isinstance(exp, int | float) else None,
            frozenset(scopes),
            claims,
        )


class Authenticator:
    def __init__(self, config: JwtConfig) -> None:
        self._http = httpx.AsyncClient()
        self._redis = Redis.from_url(config.revocations_url) if config.revocations_url else None
        self._verifier = TokenVerifier(
            JwksCache(config.jwks_url, self._http),
            issuer=config.issuer,
            audience=config.audience,
            leeway_seconds=config.leeway_seconds,
            revocations=RevocationList(self._redis) if self._redis else None,
        )
        self._leeway = config.leeway_seconds
        self._verified: LRU[str, Caller] = LRU(VERIFIED_TOKENS)

    async def start(self) -> None:
        """Follow the revocation list, if there is one."""
        if self._verifier.revocations is not None:
            await self._verifier.revocations.start()

    async def verify(self, authorization: str | None) -> Caller:
        if not authorization:
            raise AuthenticationFailed("Sign in first: an access token is required.")
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise AuthenticationFailed("The credentials must be 'Bearer <access token>'.")
        try:
            known = self._verified.get(token)
            if known is not None and (
                known.expires_at is None or known.expires_at + self._leeway > time.time()
            ):
                self._verifier.check_not_revoked(known.claims)
                return known
            claims = await self._verifier.claims(token)
        except Unauthenticated as failure:
            raise AuthenticationFailed(failure.message) from None
        caller = Caller.of(token, claims)
        self._verified.put(token, caller)
        return caller

    def on_revoked(self, caller: Caller, ended: Callable[[], None]) -> Callable[[], None]:
        """Have ``ended`` called if the caller's token is revoked (common/auth/revocations.py);
        returns what cancels that. Without a revocation list, it is never called."""
        revocations = self._verifier.revocations
        if revocations is None:
            return lambda: None
        return revocations.watch(caller.claims, ended)

    async def identify(self, authorization: str | None) -> Caller | None:
        """The caller of an HTTP request: None without credentials, refused if they are bad."""
        return await self.verify(authorization) if authorization else None

    async def aclose(self) -> None:
        if self._verifier.revocations is not None:
            await self._verifier.revocations.aclose()
        if self._redis is not None:
            await self._redis.aclose()
        await self._http.aclose()


__all__ = ["AuthenticationFailed", "Authenticator", "Caller", "JwtConfig"]
