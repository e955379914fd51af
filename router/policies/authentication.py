"""Who is calling: bearer access tokens verified against the identity provider's JWKS.

Keys are fetched from the JWKS URL, cached, and fetched again when a token names an unknown
`kid`. Only RS256 is accepted (no `alg: none`, no HMAC made with the public key); issuer,
audience and expiry are checked with a small clock skew.
"""

from dataclasses import dataclass

import httpx

from common.auth.jwks import JwksCache
from common.auth.tokens import TokenVerifier
from common.auth.websocket import authorization_from
from common.errors import Unauthenticated


@dataclass(frozen=True, slots=True)
class JwtConfig:
    jwks_url: str
    issuer: str
    audience: str
    leeway_seconds: int = 30


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


class Authenticator:
    def __init__(self, config: JwtConfig) -> None:
        self._http = httpx.AsyncClient()
        self._verifier = TokenVerifier(
            JwksCache(config.jwks_url, self._http),
            issuer=config.issuer,
            audience=config.audience,
            leeway_seconds=config.leeway_seconds,
        )

    async def verify(self, authorization: str | None) -> Caller:
        if not authorization:
            raise AuthenticationFailed("Sign in first: an access token is required.")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthenticationFailed("The credentials must be 'Bearer <access token>'.")
        try:
            claims = await self._verifier.claims(token.strip())
        except Unauthenticated as failure:
            raise AuthenticationFailed(failure.message) from None
        exp = claims.get("exp")
        return Caller(
            f"Bearer {token.strip()}",
            str(claims.get("sub", "")),
            float(exp) if isinstance(exp, int | float) else None,
        )

    async def aclose(self) -> None:
        await self._http.aclose()


__all__ = ["AuthenticationFailed", "Authenticator", "Caller", "JwtConfig", "authorization_from"]
