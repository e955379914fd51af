"""Access tokens ended before they expire: the revocation list every verifier keeps.

An access token is trusted on its signature alone for its 15 minutes, so ending a user's
sessions (signing out everywhere, a password or role change, a reused refresh token, the
account deleted) would leave their access tokens working until they expire. Instead the
users subgraph records the moment in Redis, under ``lms:auth:revoked:<user id>`` for as long
as a token can live, and announces it on the channel ``lms:auth:revocations``. Every
verifier (the router, each subgraph) holds the list in memory, loaded at start and after
any reconnection, and kept current from the channel, so checking a token is a dict lookup,
not a round trip. A token of that user issued before that moment is refused (tokens carry
``iat`` to the millisecond), so a sign-in right after signing out everywhere works.

`RevocationList` is what the router's `Revocations` interface asks for
(router/policies/revocations.py); `lms router serve --revocations-redis` plugs it in.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import math
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from redis.asyncio import Redis
from redis.exceptions import RedisError

CHANNEL: Final = "lms:auth:revocations"
KEY_PREFIX: Final = "lms:auth:revoked:"
RETRY_SECONDS: Final = 1.0
READY_SECONDS: Final = 5.0
MAX_REMEMBERED: Final = 10_000  # beyond this, entries older than a day are dropped
ENDED: Final = (
    "This session has ended (signed out everywhere, password or roles changed, or account "
    "deleted); sign in again."
)
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TokenRevoker:
    """What the users subgraph calls when a user's sessions end."""

    redis: Redis
    keep_seconds: int  # as long as an access token can live, clock skew included

    async def revoke(self, user_id: uuid.UUID) -> None:
        """End every access token of the user issued before now (best effort: on a Redis
        failure the tokens still expire on their own, and the failure is logged)."""
        moment = round(time.time(), 3)
        try:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.set(f"{KEY_PREFIX}{user_id}", moment, ex=max(self.keep_seconds, 1))
                pipe.publish(CHANNEL, f"{user_id} {moment}")
                await pipe.execute()
        except RedisError as error:
            log.error(
                "token revocation not recorded",
                extra={"user": str(user_id), "error": str(error)},
            )


class RevocationList:
    """Users whose tokens issued before a moment are refused, mirrored from Redis."""

    def __init__(self, redis: Redis, *, owns_redis: bool = False) -> None:
        self._redis = redis
        self._owns_redis = owns_redis
        self._not_before: dict[str, float] = {}
        self._loaded = asyncio.Event()
        self._watchers: dict[str, dict[int, tuple[Mapping[str, Any], Callable[[], None]]]] = {}
        self._handles = itertools.count()
        self._following: asyncio.Task[None] | None = None

    @classmethod
    def from_url(cls, url: str) -> RevocationList:
        """A list with its own Redis client, closed with it (the router's)."""
        return cls(Redis.from_url(url), owns_redis=True)

    async def start(self) -> None:
        """Follow the list in the background, after waiting (a bounded while) for its first
        load, so a fresh process starts informed."""
        if self._following is None:
            self._following = asyncio.create_task(self._run(), name="revocations")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._loaded.wait(), READY_SECONDS)

    async def aclose(self) -> None:
        if self._following is not None:
            self._following.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._following
            self._following = None
        if self._owns_redis:
            await self._redis.aclose()

    def is_revoked(self, claims: Mapping[str, Any]) -> bool:
        moment = self._not_before.get(str(claims.get("sub", "")))
        if moment is None:
            return False
        issued = claims.get("iat")
        return not isinstance(issued, int | float) or issued < moment

    def watch(self, claims: Mapping[str, Any], ended: Callable[[], None]) -> Callable[[], None]:
        """Call ``ended`` once, when the token of these claims is revoked (a long-lived
        connection authenticated by it must end then); returns what stops watching."""
        subject = str(claims.get("sub", ""))
        watchers = self._watchers.setdefault(subject, {})
        handle = next(self._handles)
        watchers[handle] = (claims, ended)

        def unwatch() -> None:
            remaining = self._watchers.get(subject, {})
            remaining.pop(handle, None)
            if not remaining:
                self._watchers.pop(subject, None)

        return unwatch

    async def _run(self) -> None:
        """Follow the channel until closed, reloading after each reconnection."""
        while True:
            try:
                await self._follow()
            except (RedisError, OSError) as error:
                log.warning("revocation list: Redis lost, retrying", extra={"error": str(error)})
                await asyncio.sleep(RETRY_SECONDS)

    async def _follow(self) -> None:
        async with self._redis.pubsub(ignore_subscribe_messages=True) as pubsub:
            await pubsub.subscribe(CHANNEL)  # before loading: nothing falls in between
            await self._load()
            self._loaded.set()
            async for message in pubsub.listen():
                if message.get("type") == "message":
                    self._remember(message.get("data"))

    async def _load(self) -> None:
        async for key in self._redis.scan_iter(match=f"{KEY_PREFIX}*", count=500):
            value = await self._redis.get(key)
            if value is not None:
                self._remember(f"{_text(key).removeprefix(KEY_PREFIX)} {_text(value)}")
        self._forget_old()

    def _remember(self, data: object) -> None:
        subject, _, moment = _text(data).partition(" ")
        try:
            when = float(moment)
        except ValueError:
            return
        if not math.isfinite(when):
            return
        self._not_before[subject] = max(when, self._not_before.get(subject, 0))
        if len(self._not_before) > MAX_REMEMBERED:
            self._forget_old()
        for handle, (claims, ended) in list(self._watchers.get(subject, {}).items()):
            if self.is_revoked(claims):
                self._watchers[subject].pop(handle, None)
                ended()

    def _forget_old(self, horizon_seconds: int = 24 * 3600) -> None:
        """Entries outlive every token they could refuse after a day (tokens live minutes)."""
        cutoff = time.time() - horizon_seconds
        for subject, moment in list(self._not_before.items()):
            if moment < cutoff:
                del self._not_before[subject]


def _text(value: object) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)
