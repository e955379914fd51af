"""A subgraph acting on its own behalf (not a caller's): short-lived tokens for peer calls.

Background work (delivering a notification, say) has no caller whose token could be
forwarded, yet must read what only administrators read (a recipient's email address). The
service signs itself a token with the platform key, for a fixed per-service subject, valid
for a minute and renewed before it runs out. It never leaves the server side; issue 9's API
keys and scoped service accounts will narrow it to the fields it needs.
"""

from __future__ import annotations

import time
import uuid

from common.auth.keys import platform_signing_key
from common.auth.principal import Role
from common.auth.tokens import TokenIssuer
from common.settings import Settings

SERVICE_NAMESPACE = uuid.UUID("5e6d1c3a-2b7f-4a8e-9c01-7f3e2d4b5a60")
TTL_SECONDS = 60
RENEW_BEFORE_SECONDS = 15


class ServiceIdentity:
    def __init__(self, settings: Settings, service: str) -> None:
        self.subject = uuid.uuid5(SERVICE_NAMESPACE, service)
        self._issuer = TokenIssuer(
            platform_signing_key(settings),
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            ttl_seconds=TTL_SECONDS,
        )
        self._token = ""
        self._expires = 0.0

    def authorization(self) -> str:
        """An Authorization header value for a peer call."""
        now = time.monotonic()
        if now >= self._expires - RENEW_BEFORE_SECONDS:
            self._token = self._issuer.issue(self.subject, frozenset({Role.ADMIN}))
            self._expires = now + TTL_SECONDS
        return f"Bearer {self._token}"
