"""`apq:` (automatic persisted queries) and `persisted_queries:` (safelisting), in Apollo
Router's shape."""

from pathlib import Path

from router.config.base import Duration, PositiveInt, Section


class RedisCache(Section):
    urls: tuple[str, ...]
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


class PersistedQueriesSection(Section):
    enabled: bool = False
    log_unknown: bool = False
    safelist: Safelist = Safelist()
    local_manifests: tuple[Path, ...] = ()
