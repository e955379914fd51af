"""Access tokens ended before they expire: the revocation list every verifier keeps.

An access token is trusted on its signature alone for its 15 minutes, so ending a user's
sessions (signing out everywhere, a password or role change, a reused refresh token, the
account deleted) would leave their access tokens working until they expire. Instead the
users subgraph records the moment in PostgreSQL, its source of truth
(subgraphs/users/revocations.py), and writes it to Redis, under ``lms:auth:revoked:<user
id>`` for as long as a token can live, announcing it on the channel
``lms:auth:revocations``. Every verifier (the router, each subgraph) holds the list in
memory, loaded at start and after any reconnection, and kept current from the channel, so
checking a token is a dict lookup, not a round trip. A token of that user issued before that
moment is refused (tokens carry ``iat`` to the millisecond), so a sign-in right after
signing out everywhere works. One session ended alone (`revokeSession`, `logout`) is listed
the same way under ``sid:<session id>``: every token carrying that ``sid`` claim is refused.

Redis may lose what it was told (down when a session ended, restarted empty): the users
subgraph then writes PostgreSQL's whole list to it again and sets a new value under
``lms:auth:revocations:generation``; a verifier that sees the generation change (it looks
every `CHECK_SECONDS`) loads the list again.

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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from redis.asyncio import Redis
from redis.exceptions import RedisError

CHANNEL: Final = "lms:auth:revocations"
KEY_PREFIX: Final = "lms:auth:revoked:"
GENERATION_KEY: Final = "lms:auth:revocations:generation"
CHECK_SECONDS: Final = 1.0  # how often a verifier looks whether the list was written again
RETRY_SECONDS: Final = 1.0
READY_SECONDS: Final = 5.0
SESSION_PREFIX: Final = "sid:"  # a session's entry, beside its user's (never a user id)
MAX_REMEMBERED: Final = 10_000  # beyond this, entries older than a day are dropped
ENDED: Final = (
    "This session has ended (signed out everywhere, password or roles changed, or account "
    "deleted); sign in again."
)
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Revocation:
    """The user's access tokens issued before `moment` are refused for `keep_seconds`;
    with `session_id`, only those of that session."""

    user_id: uuid.UUID
    moment: float
    keep_seconds: float
    session_id: uuid.UUID | None = None

    @property
    def subject(self) -> str:
        """What the list knows it by: the user, or the session."""
        if self.session_id is None:
            return str(self.user_id)
        return f"{SESSION_PREFIX}{self.session_id}"


@dataclass(frozen=True, slots=True)
class TokenRevoker:
    """How the users subgraph writes revocations to Redis and announces them."""

    redis: Redis
    keep_seconds: int  # as long as an access token can live, clock skew included

    async def publish(
        self, revocations: Sequence[Revocation], *, new_generation: bool = False
    ) -> None:
        """Write and announce these revocations (and, with `new_generation`, tell every
        verifier to load the whole list again); raises RedisError or OSError."""
        async with self.redis.pipeline(transaction=True) as pipe:
            for revocation in revocations:
                keep = max(math.ceil(revocation.keep_seconds), 1)
                pipe.set(f"{KEY_PREFIX}{revocation.subject}", revocation.moment, ex=keep)
                pipe.publish(CHANNEL, f"{revocation.subject} {revocation.moment}")
            if new_generation:
                pipe.set(GENERATION_KEY, uuid.uuid4().hex)
            await pipe.execute()

    async def has_generation(self) -> bool:
        """Whether Redis still holds a list written whole (raises when it cannot answer)."""
        return bool(await self.redis.exists(GENERATION_KEY))


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
        user, *session = _subjects(claims)
        if session and session[0] in self._not_before:
            return True  # an ended session makes no tokens after its end: none counts
        moment = self._not_before.get(user)
        if moment is None:
            return False
        issued = claims.get("iat")
        return not isinstance(issued, int | float) or issued < moment

    def watch(self, claims: Mapping[str, Any], ended: Callable[[], None]) -> Callable[[], None]:
        """Call ``ended`` once, when the token of these claims is revoked (a long-lived
        connection authenticated by it must end then); returns what stops watching."""
        subjects = _subjects(claims)
        handle = next(self._handles)
        for subject in subjects:
            self._watchers.setdefault(subject, {})[handle] = (claims, ended)

        def unwatch() -> None:
            for subject in subjects:
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
            generation = await self._load()
            self._loaded.set()
            checked = time.monotonic()
            while True:
                message = await pubsub.get_message(timeout=CHECK_SECONDS)
                if message is not None and message.get("type") == "message":
                    self._remember(message.get("data"))
                if time.monotonic() - checked >= CHECK_SECONDS:
                    checked = time.monotonic()
                    if await self._redis.get(GENERATION_KEY) != generation:
                        generation = await self._load()

    async def _load(self) -> object:
        """Load every revocation Redis holds; answers the generation loaded."""
        generation = await self._redis.get(GENERATION_KEY)  # before: a newer one reloads
        async for key in self._redis.scan_iter(match=f"{KEY_PREFIX}*", count=500):
            value = await self._redis.get(key)
            if value is not None:
                self._remember(f"{_text(key).removeprefix(KEY_PREFIX)} {_text(value)}")
        self._forget_old()
        return generation

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
                for watched in _subjects(claims):
                    self._watchers.get(watched, {}).pop(handle, None)
                ended()

    def _forget_old(self, horizon_seconds: int = 24 * 3600) -> None:
        """Entries outlive every token they could refuse after a day (tokens live minutes)."""
        cutoff = time.time() - horizon_seconds
        for subject, moment in list(self._not_before.items()):
            if moment < cutoff:
                del self._not_before[subject]


def _subjects(claims: Mapping[str, Any]) -> list[str]:
    """The entries a token's claims are refused by: its user's, and its session's if any."""
    subjects = [str(claims.get("sub", ""))]
    session = claims.get("sid")
    if isinstance(session, str) and session:
        subjects.append(f"{SESSION_PREFIX}{session}")
    return subjects


def _text(value: object) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)
