"""`apq:` (automatic persisted queries) and `persisted_queries:` (safelisting), in Apollo
Router's shape."""

from pathlib import Path
from typing import Annotated

from pydantic import Field, model_validator

from router.config.base import Duration, PositiveInt, Section


class RedisCache(Section):
    """The APQ cache shared by every router replica (one Redis; Redis Cluster is not
    supported, so `urls` holds one URL)."""

    urls: Annotated[tuple[str, ...], Field(min_length=1, max_length=1)]
    ttl: Duration | None = None
    namespace: str = "router"
    timeout: Duration = 0.5


class InMemoryCache(Section):
    limit: PositiveInt = 512


class Cache(Section):
    in_memory: InMemoryCache = InMemoryCache()
    redis: RedisCache | None = None


class ApqRouter(Section):
    cache: Cache = Cache()


class ApqSection(Section):
    enabled: bool = True
    router: ApqRouter = ApqRouter()


class Safelist(Section):
    enabled: bool = False
    require_id: bool = False

    @model_validator(mode="after")
    def _id_needs_safelist(self) -> "Safelist":
        if self.require_id and not self.enabled:
            raise ValueError("`require_id` needs `enabled: true`")
        return self


class PersistedQueriesSection(Section):
    enabled: bool = False
    log_unknown: bool = False
    safelist: Safelist = Safelist()
    local_manifests: tuple[Path, ...] = ()

    @model_validator(mode="after")
    def _needs_enabled(self) -> "PersistedQueriesSection":
        if not self.enabled and (self.safelist.enabled or self.log_unknown):
            raise ValueError("`safelist` and `log_unknown` need `enabled: true`")
        return self
