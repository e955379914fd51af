"""The entity and root-field cache the executor consults (`preview_entity_cache`).

A root field's answer is kept per subgraph, operation and variables; an entity per type,
representation and selection (the fetch's operation); each in one scope: public, or one
user's (the verified token's `sub`) when the subgraph said `private`. A look-up asks both
scopes at once. Answers are kept for their `Cache-Control` max-age (at most the subgraph's
configured `ttl`); answers without a cacheable policy, and private answers to anonymous
callers, are not kept. A root field's public answer is shared among anonymous callers only
(a signed-in caller's root answers are kept in their own scope: `RequestCache._shares`).
Concurrent misses of one key in one process send one request (`once`)."""

import asyncio
import hashlib
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import Counter

from router import jsonio
from router.cache.invalidation import Listener
from router.cache.policy import CachePolicy, answer_policy
from router.cache.store import EntityStore, Entry, SharedCache
from router.cache.tags import AnswerTags
from router.config.entity_cache import EntityCacheSection, SubgraphCache
from router.metrics import REGISTRY

PUBLIC = "public"

LOOKUPS = Counter(
    "router_entity_cache_lookups",
    "Entity cache look-ups (an entity, or a root fetch's answer), by result",
    ["result"],
    registry=REGISTRY,
)
HIT = LOOKUPS.labels("hit")
MISS = LOOKUPS.labels("miss")


def digest(*parts: bytes | str) -> str:
    hashed = hashlib.blake2b(digest_size=16)
    for part in parts:
        hashed.update(part.encode() if isinstance(part, str) else part)
        hashed.update(b"\0")
    return hashed.hexdigest()


@dataclass(frozen=True, slots=True)
class Hit:
    value: Any
    policy: CachePolicy


class EntityCache:
    """What lives as long as the configuration: the store and the per-subgraph settings."""

    def __init__(self, section: EntityCacheSection) -> None:
        self.section = section
        redis = section.subgraph.all.redis
        self.store = EntityStore(
            section.in_memory.limit, SharedCache(redis) if redis is not None else None
        )
        self.listener = (
            None
            if redis is None
            else Listener(self.store, redis.urls[0], redis.namespace, section.invalidation.channel)
        )
        self._subgraphs: dict[str, SubgraphCache | None] = {}
        self._flights: dict[str, asyncio.Future[dict[str, Any]]] = {}

    def subgraph(self, service: str) -> SubgraphCache | None:
        """The subgraph's settings, or None where its answers are not cached."""
        try:
            return self._subgraphs[service]
        except KeyError:
            own = self.section.subgraph_cache(service)
            made = self._subgraphs[service] = own if own.enabled else None
            return made

    def caches_type(self, typename: str) -> bool:
        return self.section.types.get(typename, True)

    async def once(self, key: str, call: Callable[[], Awaitable[dict[str, Any]]]) -> dict[str, Any]:
        """`call`'s answer, shared by the callers that ask for `key` while it runs (each
        but the first gets a copy: the executor changes what it is given)."""
        flight = self._flights.get(key)
        if flight is not None:
            answer = await asyncio.shield(flight)
            return dict(jsonio.loads(jsonio.dumps(answer)))
        flight = self._flights[key] = asyncio.ensure_future(call())
        flight.add_done_callback(lambda done: self._land(key, done))
        return await asyncio.shield(flight)

    def _land(self, key: str, flight: "asyncio.Future[dict[str, Any]]") -> None:
        if self._flights.get(key) is flight:
            del self._flights[key]
        if not flight.cancelled():
            flight.exception()  # read, so that an unread failure is not reported

    def start(self) -> None:
        """Listen to invalidation messages (in the running event loop)."""
        if self.listener is not None:
            self.listener.start()

    async def aclose(self) -> None:
        if self.listener is not None:
            await self.listener.aclose()
        await self.store.aclose()


@dataclass
class RequestCache:
    """One request's view of the cache: its caller's scope, and the policies of the answers
    it was made of (fetched or cached), for the response's `Cache-Control`."""

    cache: EntityCache
    subject: str | None
    answer_tags: AnswerTags
    policies: list[CachePolicy | None] = field(default_factory=list)
    # the caller's own scope (a digest of the token's subject), worked out once per request
    user: str | None = field(init=False)

    def __post_init__(self) -> None:
        self.user = None if not self.subject else "user:" + digest(self.subject)

    def note(self, response: dict[str, Any]) -> CachePolicy | None:
        policy = answer_policy(response)
        self.policies.append(policy)
        return policy

    def flight(self, key: str) -> str:
        return f"{key}:{self.user or PUBLIC}"

    def _shares(self, root: bool) -> bool:
        """Whether this request may use (and add to) the public scope. A root field's answer
        is shared among anonymous callers only: a list or a look-up may hold what only its
        signed-in caller sees (their drafts), which the public answer another caller was
        given leaves out, however that answer was marked. A signed-in caller's root answers
        are their own; entities (one object by its key) are shared as their policy says."""
        return not (root and self.subject)

    async def lookup(self, keys: Sequence[str], *, root: bool = False) -> list[Hit | None]:
        user = self.user
        shares = self._shares(root)
        scoped = [f"{key}:{PUBLIC}" for key in keys] if shares else []
        if user is not None:
            scoped += [f"{key}:{user}" for key in keys]
        entries = await self.cache.store.get_many(scoped)
        now = time.time()
        hits: list[Hit | None] = []
        offset = len(keys) if shares else 0
        for index in range(len(keys)):
            public = entries[index] if shares else None
            private = entries[offset + index] if user is not None else None
            # the caller's own answer first: it is the more particular one
            hit = _hit(private, True, now) or _hit(public, False, now)
            if hit is not None:
                self.policies.append(hit.policy)
            hits.append(hit)
        found = sum(hit is not None for hit in hits)
        HIT.inc(found)
        MISS.inc(len(hits) - found)
        return hits

    async def keep(
        self,
        items: Sequence[tuple[str, Any, frozenset[str]]],
        policy: CachePolicy | None,
        settings: SubgraphCache,
        *,
        root: bool = False,
    ) -> None:
        """Keep each (key, value, tags) of one answer whose policy is `policy`."""
        if policy is None or not items:
            return
        scope = PUBLIC
        if policy.private or not self._shares(root):
            if self.user is None:
                return
            scope = self.user
        ttl = policy.max_age if settings.ttl is None else min(policy.max_age, int(settings.ttl))
        if ttl <= 0:
            return
        expires = time.time() + ttl
        await self.cache.store.put_many(
            [(f"{key}:{scope}", Entry(jsonio.dumps(v), expires, tags)) for key, v, tags in items]
        )


def _hit(entry: Entry | None, private: bool, now: float) -> Hit | None:
    if entry is None:
        return None
    try:
        value = jsonio.loads(entry.value)
    except ValueError:
        return None
    return Hit(value, CachePolicy(entry.ttl(now), private))
