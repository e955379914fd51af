"""`apq:` (automatic persisted queries) and `persisted_queries:` (safelisting), in Apollo
Router's shape."""

from pathlib import Path
from typing import Annotated

from pydantic import Field, model_validator

from router.config.base import Duration, PositiveInt, Section


class RedisCache(Section):
    """The APQ cache shared by every router replica (one Redis; Redis Cluster is not
    supported, so `urls` holds one URL)."""

    urls: Annotated[tuple[str, ...], Field(min_length=1, max_length=1)] = Field(
        description="the Redis URL (one: Redis Cluster is not supported)"
    )
    ttl: Duration | None = Field(
        default=None, description="how long a query is kept (none: always)"
    )
    namespace: str = Field(
        default="router", description="prefix of the keys (`<namespace>:apq:<sha256>`)"
    )
    timeout: Duration = Field(
        default=0.5, description="Redis's time to answer; past it the router uses its memory alone"
    )


class InMemoryCache(Section):
    limit: PositiveInt = Field(default=512, description="queries kept in each router process")


class Cache(Section):
    in_memory: InMemoryCache = InMemoryCache()
    redis: RedisCache | None = None


class ApqRouter(Section):
    cache: Cache = Cache()


class ApqSection(Section):
    enabled: bool = Field(
        default=True, description="off: a hash is answered `PERSISTED_QUERY_NOT_SUPPORTED`"
    )
    router: ApqRouter = ApqRouter()


class Safelist(Section):
    enabled: bool = Field(
        default=False,
        description="refuse bodies the manifests do not hold (`QUERY_NOT_IN_SAFELIST`)",
    )
    require_id: bool = Field(
        default=False, description="refuse every body: operations by manifest id only"
    )

    @model_validator(mode="after")
    def _id_needs_safelist(self) -> "Safelist":
        if self.require_id and not self.enabled:
            raise ValueError("`require_id` needs `enabled: true`")
        return self


class PersistedQueriesSection(Section):
    enabled: bool = Field(default=False, description="operations by manifest id")
    log_unknown: bool = Field(
        default=False, description="log each operation not in the manifests (name and hash)"
    )
    safelist: Safelist = Safelist()
    local_manifests: tuple[Path, ...] = Field(
        default=(), description="Apollo persisted query manifests, read again on every reload"
    )

    @model_validator(mode="after")
    def _needs_enabled(self) -> "PersistedQueriesSection":
        if not self.enabled and (self.safelist.enabled or self.log_unknown):
            raise ValueError("`safelist` and `log_unknown` need `enabled: true`")
        return self
