"""Verification keys published at JWKS URLs: cached, and fetched again on an unknown ``kid``.

As Apollo Router's `authentication.jwt.jwks`: every URL's key set is kept, refreshed after
``max_age_seconds``, and fetched again (at most every ``refetch_seconds``) when a token names
a key none of them holds, so a rotated signing key is picked up. A URL that cannot be read
keeps the keys it gave last (verification fails closed on unknown keys). Only asymmetric
keys are kept: a shared secret has no business in a public key set.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence

import httpx
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet, OKPKey, RSAKey

VerificationKey = RSAKey | ECKey | OKPKey
log = logging.getLogger("router")


class JwksKeys:
    def __init__(
        self,
        urls: Sequence[str],
        client: httpx.AsyncClient,
        *,
        max_age_seconds: float = 300.0,
        refetch_seconds: float = 10.0,
    ) -> None:
        self._urls = tuple(urls)
        self._client = client
        self._max_age = max_age_seconds
        self._refetch = refetch_seconds
        self._keys_by_url: dict[str, dict[str, VerificationKey]] = {}
        self._fetched_at = float("-inf")
        self._lock = asyncio.Lock()

    async def key_for(self, kid: str) -> VerificationKey | None:
        # A fetch in flight may bring the key: wait for it rather than answer "unknown".
        if self._stale_for(kid) or self._lock.locked():
            await self._refresh(kid)
        return self._find(kid)

    def _find(self, kid: str) -> VerificationKey | None:
        for keys in self._keys_by_url.values():
            if kid in keys:
                return keys[kid]
        return None

    def _stale_for(self, kid: str) -> bool:
        age = time.monotonic() - self._fetched_at
        return age > self._max_age or (self._find(kid) is None and age > self._refetch)

    async def _refresh(self, kid: str) -> None:
        async with self._lock:
            if not self._stale_for(kid):  # fetched meanwhile, by whoever held the lock
                return
            self._fetched_at = time.monotonic()
            fetched = await asyncio.gather(*(self._fetch(url) for url in self._urls))
            for url, keys in zip(self._urls, fetched, strict=True):
                if keys is not None:
                    self._keys_by_url[url] = keys

    async def _fetch(self, url: str) -> dict[str, VerificationKey] | None:
        try:
            response = await self._client.get(url, timeout=5.0)
            response.raise_for_status()
            key_set = KeySet.import_key_set(response.json())
        except (httpx.HTTPError, ValueError, TypeError, JoseError) as error:
            log.warning("jwks refresh failed", extra={"url": url, "error": str(error)})
            return None
        return {
            key.kid: key
            for key in key_set.keys
            if isinstance(key, RSAKey | ECKey | OKPKey) and key.kid
        }
