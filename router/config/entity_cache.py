"""`preview_entity_cache:`: subgraph answers cached per entity and per root field in Redis
shared by every replica, with a bounded in-process layer in front, and the client response's
`Cache-Control` computed from the subgraphs' (Apollo Router's shape where it has the key)."""

from typing import Annotated

from pydantic import Field

from router.config.base import Duration, PositiveInt, Section


class EntityCacheRedis(Section):
    urls: Annotated[tuple[str, ...], Field(min_length=1, max_length=1)] = Field(
        description="the Redis URL (one: Redis Cluster is not supported)"
    )
    timeout: Duration = Field(
        default=0.5, description="Redis's time to answer; past it the fetch goes to the subgraph"
    )
    namespace: str = Field(
        default="router", description="prefix of the keys (`<namespace>:cache:...`)"
    )


class SubgraphCache(Section):
    enabled: bool = Field(default=True, description="cache this subgraph's answers")
    ttl: Duration | None = Field(
        default=None,
        description="the longest an answer is kept (none: its `Cache-Control` max-age)",
    )


class AllSubgraphsCache(SubgraphCache):
    redis: EntityCacheRedis | None = Field(
        default=None, description="the cache every replica shares (none: in this process only)"
    )


class SubgraphsCache(Section):
    all: AllSubgraphsCache = AllSubgraphsCache()
    subgraphs: dict[str, SubgraphCache] = Field(
        default={}, description="per subgraph, over `all` (key by key)"
    )


class Invalidation(Section):
    channel: str = Field(
        default="lms:cache:invalidate",
        description="this router's own: the Redis pub/sub channel of invalidation messages",
    )


class InMemory(Section):
    limit: PositiveInt = Field(
        default=4096,
        description="this router's own: entries kept in each router process, in front of Redis",
    )


class EntityCacheSection(Section):
    enabled: bool = Field(
        default=False,
        description="cache subgraph answers and send the response's `Cache-Control` and `Vary`",
    )
    subgraph: SubgraphsCache = SubgraphsCache()
    invalidation: Invalidation = Invalidation()
    in_memory: InMemory = InMemory()
    types: dict[str, bool] = Field(
        default={},
        description="this router's own: per type name, whether its entities are cached",
    )

    def subgraph_cache(self, name: str) -> SubgraphCache:
        """What applies to one subgraph: `all`, with `subgraphs.<name>`'s keys over it."""
        own = self.subgraph.subgraphs.get(name)
        every = self.subgraph.all
        if own is None:
            return every
        return SubgraphCache(
            enabled=own.enabled if "enabled" in own.model_fields_set else every.enabled,
            ttl=own.ttl if "ttl" in own.model_fields_set else every.ttl,
        )
