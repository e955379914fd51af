"""Who is calling: bearer access tokens verified against the identity provider's JWKS.

Configured as Apollo Router's `authentication.jwt`: JWKS URLs (keys cached, and fetched
again when a token names an unknown `kid`), the issuer and audience tokens must carry, the
algorithms accepted (RS256 unless told otherwise; asymmetric only), and a small clock skew
(`router/policies/jwt.py`). A verified token is remembered (bounded, until it expires), so a
client's next requests skip the signature check. An optional revocation list
(`router/policies/revocations.py`) refuses tokens ended before they expire.
"""

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from router.lru import LRU
from router.policies.jwks import JwksKeys
from router.policies.jwt import InvalidToken, JwtVerifier, checked_algorithms
from router.policies.revocations import SESSION_ENDED, Revocations

VERIFIED_TOKENS = 4096
REALM = "router"


@dataclass(frozen=True, slots=True)
class JwtConfig:
    jwks_urls: tuple[str, ...]
    issuer: str
    audience: str
    leeway_seconds: int = 30
    algorithms: tuple[str, ...] = ("RS256",)
    # seconds a key set is kept before it is fetched again, and, for a token naming an
    # unknown kid, the least time between two fetches
    jwks_max_age_seconds: float = 300.0
    jwks_refetch_seconds: float = 10.0
    # None: tokens are good until they expire
    revocations: Revocations | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.jwks_urls, tuple) or not self.jwks_urls:
            raise ValueError("jwks_urls is a non-empty tuple of URLs")
        checked_algorithms(self.algorithms)


class AuthenticationFailed(Exception):
    """The credentials cannot be trusted; the message says why (never the token).
    ``token_refused``: credentials were presented and refused (not merely missing or of
    another scheme than Bearer)."""

    def __init__(self, message: str, *, token_refused: bool = True) -> None:
        super().__init__(message)
        self.message = message
        self.token_refused = token_refused


def bearer_challenge(failure: AuthenticationFailed | None = None) -> str:
    """The `WWW-Authenticate` value (RFC 6750 section 3): `error="invalid_token"` and why
    when a token was refused, the bare challenge when a token is needed and none was sent."""
    plain = f'Bearer realm="{REALM}"'
    if failure is None or not failure.token_refused:
        return plain
    # a quoted-string of RFC 6750's error_description characters: printable ASCII, no " or \
    described = "".join(c if " " <= c <= "~" and c not in '"\\' else "'" for c in failure.message)
    return f'{plain}, error="invalid_token", error_description="{described}"'


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
        keys = JwksKeys(
            config.jwks_urls,
            self._http,
            max_age_seconds=config.jwks_max_age_seconds,
            refetch_seconds=config.jwks_refetch_seconds,
        )
        self._verifier = JwtVerifier(
            keys,
            issuer=config.issuer,
            audience=config.audience,
            algorithms=config.algorithms,
            leeway_seconds=config.leeway_seconds,
        )
        self._revocations = config.revocations
        self._leeway = config.leeway_seconds
        self._verified: LRU[str, Caller] = LRU(VERIFIED_TOKENS)

    async def start(self) -> None:
        """Follow the revocation list, if there is one."""
        if self._revocations is not None:
            await self._revocations.start()

    async def verify(self, authorization: str | None) -> Caller:
        if not authorization:
            raise AuthenticationFailed(
                "Sign in first: an access token is required.", token_refused=False
            )
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise AuthenticationFailed(
                "The credentials must be 'Bearer <access token>'.", token_refused=False
            )
        # keyed by the caller's own "Bearer <token>": the token is held once per caller
        known = self._verified.get(f"Bearer {token}")
        if known is None or (
            known.expires_at is not None and known.expires_at + self._leeway <= time.time()
        ):
            try:
                claims = await self._verifier.claims(token)
            except InvalidToken as failure:
                raise AuthenticationFailed(failure.message) from None
            known = Caller.of(token, claims)
            self._verified.put(known.authorization, known)
        if self._revocations is not None and self._revocations.is_revoked(known.claims):
            raise AuthenticationFailed(SESSION_ENDED)
        return known

    def on_revoked(self, caller: Caller, ended: Callable[[], None]) -> Callable[[], None]:
        """Have ``ended`` called if the caller's token is revoked; returns what cancels that.
        Without a revocation list, it is never called."""
        if self._revocations is None:
            return lambda: None
        return self._revocations.watch(caller.claims, ended)

    async def identify(self, authorization: str | None) -> Caller | None:
        """The caller of an HTTP request: None without credentials, refused if they are bad."""
        return await self.verify(authorization) if authorization else None

    async def aclose(self) -> None:
        if self._revocations is not None:
            await self._revocations.aclose()
        await self._http.aclose()


__all__ = ["AuthenticationFailed", "Authenticator", "Caller", "JwtConfig", "bearer_challenge"]
