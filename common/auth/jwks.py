"""Public keys fetched from a JWKS URL: cached, refetched when an unknown ``kid`` appears."""

from __future__ import annotations

import asyncio
import logging
import time

import httpx
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, RSAKey

from common.auth.keys import KEY_PARAMETERS

REFETCH_INTERVAL_SECONDS = 10.0
log = logging.getLogger(__name__)


class JwksCache:
    def __init__(
        self, url: str, client: httpx.AsyncClient, *, max_age_seconds: float = 300.0
    ) -> None:
        self._url = url
        self._client = client
        self._max_age = max_age_seconds
        self._keys: dict[str, RSAKey] = {}
        self._fetched_at = float("-inf")
        self._lock = asyncio.Lock()

    async def key_for(self, kid: str) -> RSAKey | None:
        # A fetch in flight may bring the key: wait for it rather than answer "unknown".
        if self._stale_for(kid) or self._lock.locked():
            await self._refresh(kid)
        return self._keys.get(kid)

    def _stale_for(self, kid: str) -> bool:
        age = time.monotonic() - self._fetched_at
        return age > self._max_age or (kid not in self._keys and age > REFETCH_INTERVAL_SECONDS)

    async def _refresh(self, kid: str) -> None:
        async with self._lock:
            if not self._stale_for(kid):  # fetched meanwhile, by whoever held the lock
                return
            self._fetched_at = time.monotonic()
            try:
                response = await self._client.get(self._url, timeout=5.0)
                response.raise_for_status()
                key_set = KeySet.import_key_set(response.json(), parameters=KEY_PARAMETERS)
            except (httpx.HTTPError, ValueError, JoseError) as error:
                # Keep the keys we had; verification fails closed on unknown kids.
                log.warning("jwks refresh failed", extra={"url": self._url, "error": str(error)})
                return
            self._keys = {
                key.kid: key for key in key_set.keys if isinstance(key, RSAKey) and key.kid
            }
