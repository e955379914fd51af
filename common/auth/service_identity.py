"""A subgraph acting on its own behalf (not a caller's): its client credentials traded at the
users subgraph for a short-lived access token (OAuth 2 client-credentials grant), for peer
calls.

Background work (delivering a notification, say) has no caller whose token could be
forwarded, yet must read what a caller could not (a recipient's e-mail address). The token
carries only the scopes the users subgraph grants this service (common/auth/principal.py,
SERVICE_CLIENT_SCOPES), no role; it is kept until shortly before it expires. No service but
users holds the platform's signing key.
"""

from __future__ import annotations

import asyncio
import time
from urllib.parse import quote_plus

import httpx

from common.errors import DomainError
from common.settings import Settings

RENEW_BEFORE_SECONDS = 30
TIMEOUT_SECONDS = 5.0


class ServiceTokenUnavailable(DomainError):
    """The users subgraph did not give this service a token; work that needs one is retried."""


class ServiceIdentity:
    def __init__(self, settings: Settings, service: str, http: httpx.AsyncClient) -> None:
        self.client_id = service
        self._secret = settings.client_secret(service)
        self._url = settings.token_url
        self._http = http
        self._token = ""
        self._renew_at = 0.0
        self._lock = asyncio.Lock()

    async def authorization(self) -> str:
        """An Authorization header value for a peer call."""
        async with self._lock:  # one exchange at a time; the others wait for its token
            if time.monotonic() >= self._renew_at:
                self._token, expires_in = await self._exchange()
                renew_after = max(expires_in - RENEW_BEFORE_SECONDS, expires_in / 2)
                self._renew_at = time.monotonic() + renew_after
            return f"Bearer {self._token}"

    async def _exchange(self) -> tuple[str, float]:
        try:
            response = await self._http.post(
                self._url,
                data={"grant_type": "client_credentials"},
                # RFC 6749 2.3.1: both form-encoded before they are joined for Basic
                auth=(quote_plus(self.client_id), quote_plus(self._secret)),
                timeout=TIMEOUT_SECONDS,
            )
        except httpx.HTTPError:
            raise ServiceTokenUnavailable("The users service is unavailable; try again.") from None
        try:
            answer = response.json()
            if response.status_code != httpx.codes.OK:
                refusal = f"{answer['error']}: {answer.get('error_description', '')}"
                raise ServiceTokenUnavailable(f"The users service refused a token ({refusal}).")
            return str(answer["access_token"]), float(answer["expires_in"])
        except (ValueError, KeyError, TypeError):
            raise ServiceTokenUnavailable("The users service answered no token.") from None
