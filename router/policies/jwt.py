"""Bearer JWTs checked as Apollo Router's `authentication.jwt` does.

A token is trusted when its header names one of the configured algorithms (asymmetric only:
never ``none``, never an HMAC a public key could forge) and a ``kid`` the JWKS holds, its
signature verifies with that key, and its ``iss``, ``aud``, ``sub`` and ``exp`` (with
``leeway_seconds`` of clock skew, ``nbf`` too when present) are right. The reasons given
never repeat the token.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable
from typing import Any, Final, Protocol

from joserfc import jwt
from joserfc.errors import JoseError

from router.policies.jwks import VerificationKey

MAX_TOKEN_BYTES: Final = 8192
ASYMMETRIC_ALGORITHMS: Final = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)


class InvalidToken(Exception):
    """The bearer token cannot be trusted; the message says why, never the token."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class KeySource(Protocol):
    async def key_for(self, kid: str) -> VerificationKey | None: ...


def checked_algorithms(algorithms: Iterable[str]) -> tuple[str, ...]:
    """The algorithms as configured, refusing any that is not asymmetric (a ValueError)."""
    chosen = tuple(dict.fromkeys(algorithms))
    unknown = [name for name in chosen if name not in ASYMMETRIC_ALGORITHMS]
    if unknown or not chosen:
        allowed = ", ".join(sorted(ASYMMETRIC_ALGORITHMS))
        raise ValueError(f"JWT algorithms must be some of {allowed}; got {', '.join(unknown)}")
    return chosen


class JwtVerifier:
    def __init__(
        self,
        keys: KeySource,
        *,
        issuer: str,
        audience: str,
        algorithms: Iterable[str] = ("RS256",),
        leeway_seconds: int = 30,
    ) -> None:
        self._keys = keys
        self._algorithms = checked_algorithms(algorithms)
        self._registry = jwt.JWTClaimsRegistry(
            leeway=leeway_seconds,
            iss={"essential": True, "value": issuer},
            aud={"essential": True, "value": audience},
            sub={"essential": True},
            exp={"essential": True},
        )

    async def claims(self, token: str) -> dict[str, Any]:
        """The token's claims once its signature, issuer, audience and times check out."""
        if len(token) > MAX_TOKEN_BYTES or token.count(".") != 2:
            raise InvalidToken("The access token is malformed.")
        header = _header(token)
        algorithm = header.get("alg")
        if algorithm not in self._algorithms:
            raise InvalidToken(
                f"Access tokens must be signed with {' or '.join(self._algorithms)}."
            )
        kid = header.get("kid")
        key = await self._keys.key_for(kid) if isinstance(kid, str) else None
        if key is None:
            raise InvalidToken("The access token was signed with an unknown key.")
        try:
            decoded = jwt.decode(token, key, algorithms=[str(algorithm)])
            self._registry.validate(decoded.claims)
        except JoseError as error:
            raise InvalidToken(_reason(error)) from None
        except ValueError:  # a key of another type than the algorithm's
            raise InvalidToken("The access token signature is invalid.") from None
        return decoded.claims


def _header(token: str) -> dict[str, Any]:
    try:
        encoded = token.split(".", 1)[0]
        decoded = json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
    except (ValueError, binascii.Error):
        raise InvalidToken("The access token is malformed.") from None
    if not isinstance(decoded, dict):
        raise InvalidToken("The access token is malformed.")
    return decoded


def _reason(error: JoseError) -> str:
    if error.error == "expired_token":
        return "The access token has expired."
    if error.error == "bad_signature":
        return "The access token signature is invalid."
    return f"The access token is invalid: {error.description or error.error}."
