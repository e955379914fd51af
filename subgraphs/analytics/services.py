"""The analytics subgraph's service layer, built once at startup from the runtime, and the
worker's partition upkeep."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any, Final

from common import clock
from common.auth.quota import Quota
from common.graphql.app import ServiceRuntime
from subgraphs.analytics.course_cache import CourseFactsCache
from subgraphs.analytics.course_stats import CourseStats
from subgraphs.analytics.partitions import Partitions
from subgraphs.analytics.service import AnalyticsService

MAINTENANCE_SECONDS: Final = 3600  # partitions ahead and retention, checked hourly
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class AnalyticsServices:
    analytics: AnalyticsService
    course_stats: CourseStats
    course_facts: CourseFactsCache  # courses' answers kept for reads (course_cache.py)
    activity_base: str  # where activity IRIs point (xapi.py)
    retention_days: int

    async def maintain_partitions(self) -> None:
        """Months ahead created and months past the retention dropped, now and hourly."""
        while True:
            dropped = await self.analytics.partitions.maintain(clock.now(), self.retention_days)
            if dropped:
                log.info(
                    "dropped statement partitions", extra={"months": [str(m) for m in dropped]}
                )
            await asyncio.sleep(MAINTENANCE_SECONDS)


def build_services(runtime: ServiceRuntime) -> AnalyticsServices:
    settings = runtime.settings
    return AnalyticsServices(
        analytics=AnalyticsService(
            runtime.sessions,
            Partitions(runtime.sessions),
            Quota(runtime.redis, "activity", settings.activities_per_user_minute, 60),
        ),
        course_stats=CourseStats(runtime.sessions),
        course_facts=CourseFactsCache(settings.analytics_course_cache_seconds),
        activity_base=settings.public_service_url("analytics"),
        retention_days=settings.analytics_retention_days,
    )


def worker_jobs(
    services: AnalyticsServices,
) -> Sequence[Callable[[], Coroutine[Any, Any, None]]]:
    return [services.maintain_partitions]
