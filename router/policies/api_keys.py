"""API keys at the router: traded at the identity provider for a short-lived access token.

An integration sends ``X-API-Key: <key>`` (or ``Authorization: ApiKey <key>``). The router
posts the key to the users subgraph's exchange endpoint, which checks it (looked up by its
hash, not revoked, not expired, its owner still there) and answers with an access token
carrying the key's scopes; the router verifies that token like any other and forwards it to
the subgraphs, which verify it again. Tokens are remembered by the key's SHA-256 for at most
``cache_seconds``, so a revoked key stops working within that time; the key itself is never
logged or kept.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from router.lru import LRU
from router.policies.authentication import AuthenticationFailed, Authenticator, Caller

MAX_KEY_LENGTH = 200
REMEMBERED_KEYS = 1024


class ApiKeysUnavailable(Exception):
    """The exchange endpoint could not be reached: the key is neither good nor bad yet."""


class ApiKeysRateLimited(AuthenticationFailed):
    """The exchange endpoint refuses keys from this client address for now (too many
    refused); ``retry_after``: whole seconds to wait."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class ApiKeyConfig:
    exchange_url: str
    cache_seconds: float = 60.0
    timeout_seconds: float = 5.0


def api_key_from(headers: Mapping[str, str]) -> str | None:
    """The key a request presents, if any (header names are lower case)."""
    key = headers.get("x-api-key")
    if key:
        return key.strip()
    scheme, _, value = headers.get("authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "apikey" else None


class ApiKeys:
    def __init__(self, config: ApiKeyConfig, authenticator: Authenticator) -> None:
        self._config = config
        self._authenticator = authenticator
        self._http = httpx.AsyncClient(timeout=config.timeout_seconds)
        self._remembered: LRU[str, tuple[Caller, float]] = LRU(REMEMBERED_KEYS)

    async def caller(self, key: str, forwarded_for: str | None) -> Caller:
        if not key or len(key) > MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
            raise AuthenticationFailed("The API key is not valid.")
        digest = hashlib.sha256(key.encode()).hexdigest()
        remembered = self._remembered.get(digest)
        if remembered is not None and remembered[1] > time.monotonic():
            return remembered[0]
        headers = {"authorization": f"ApiKey {key}"}
        if forwarded_for:
            headers["x-forwarded-for"] = forwarded_for
        try:
            response = await self._http.post(self._config.exchange_url, headers=headers)
        except httpx.HTTPError as failure:
            raise ApiKeysUnavailable(type(failure).__name__) from None
        if response.status_code >= 500:
            raise ApiKeysUnavailable(f"HTTP {response.status_code}")
        if response.status_code == 429:
            wait = response.headers.get("retry-after", "")
            seconds = int(wait) if wait.isdigit() else 1
            raise ApiKeysRateLimited(
                f"Too many refused API keys from your network address; "
                f"try again in {seconds} seconds.",
                seconds,
            )
        try:
            body = response.json()
        except ValueError:
            raise ApiKeysUnavailable("not JSON") from None
        token = body.get("access_token") if isinstance(body, dict) else None
        if response.status_code != 200 or not isinstance(token, str):
            reason = body.get("error_description") if isinstance(body, dict) else None
            raise AuthenticationFailed(str(reason or "The API key is not valid."))
        caller = await self._authenticator.verify(f"Bearer {token}")
        lifetime = self._config.cache_seconds
        if caller.expires_at is not None:
            lifetime = min(lifetime, caller.expires_at - time.time() - 5)
        if lifetime > 0:
            self._remembered.put(digest, (caller, time.monotonic() + lifetime))
        return caller

    async def aclose(self) -> None:
        await self._http.aclose()
