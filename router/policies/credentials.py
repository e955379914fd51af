"""Who an HTTP request comes from: a bearer access token, or an API key traded for one."""

from __future__ import annotations

from collections.abc import Mapping

from router.policies.api_keys import ApiKeyConfig, ApiKeys, api_key_from
from router.policies.authentication import Authenticator, Caller, JwtConfig


class Credentials:
    def __init__(self, authentication: JwtConfig, api_keys: ApiKeyConfig | None = None) -> None:
        self.authenticator = Authenticator(authentication)
        self._api_keys = ApiKeys(api_keys, self.authenticator) if api_keys else None

    async def caller(self, headers: Mapping[str, str], forwarded_for: str | None) -> Caller | None:
        """The verified caller, None without credentials; raises `AuthenticationFailed` for
        bad ones and `ApiKeysUnavailable` when a key cannot be checked now."""
        if self._api_keys is not None:
            key = api_key_from(headers)
            if key is not None:
                return await self._api_keys.caller(key, forwarded_for)
        return await self.authenticator.identify(headers.get("authorization"))

    async def start(self) -> None:
        await self.authenticator.start()

    async def aclose(self) -> None:
        if self._api_keys is not None:
            await self._api_keys.aclose()
        await self.authenticator.aclose()
