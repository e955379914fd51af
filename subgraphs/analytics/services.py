"""The analytics subgraph's service layer, built once at startup from the runtime, and the
worker's jobs: partition upkeep and the at-risk schedule (train, score, digest)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any, Final

import httpx

from common import clock
from common.auth.quota import Quota
from common.auth.service_identity import ServiceIdentity
from common.graphql.app import ServiceRuntime
from common.graphql.catalog import ServiceDirectory
from common.graphql.peers import PeerClient
from common.settings import Settings
from subgraphs.analytics.at_risk_service import AtRiskPolicy, AtRiskService
from subgraphs.analytics.course_cache import CourseFactsCache
from subgraphs.analytics.course_stats import CourseStats
from subgraphs.analytics.partitions import Partitions
from subgraphs.analytics.recommendations.recommender import Recommender
from subgraphs.analytics.service import AnalyticsService

MAINTENANCE_SECONDS: Final = 3600  # partitions ahead and retention, checked hourly
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class AnalyticsServices:
    analytics: AnalyticsService
    recommender: Recommender
    at_risk: AtRiskService
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


def at_risk_policy(settings: Settings) -> AtRiskPolicy:
    return AtRiskPolicy(
        min_auc=settings.at_risk_min_auc,
        min_enrollments=settings.at_risk_min_enrollments,
        retrain_hours=settings.at_risk_retrain_hours,
        rescore_hours=settings.at_risk_rescore_hours,
        digest_hours=settings.at_risk_digest_hours,
        visible_to_learners=settings.at_risk_visible_to_learners,
    )


def service_directory(settings: Settings, http: httpx.AsyncClient) -> ServiceDirectory:
    """Courses as the analytics service itself reads them (for the digest's instructors)."""
    return ServiceDirectory(
        courses=PeerClient(http, "courses", settings.service_url("courses")),
        users=PeerClient(http, "users", settings.service_url("users")),
        identity=ServiceIdentity(settings, "analytics", http),
    )


def build_services(runtime: ServiceRuntime) -> AnalyticsServices:
    settings = runtime.settings
    return AnalyticsServices(
        analytics=AnalyticsService(
            runtime.sessions,
            Partitions(runtime.sessions),
            Quota(runtime.redis, "activity", settings.activities_per_user_minute, 60),
        ),
        recommender=Recommender(runtime.sessions),
        at_risk=AtRiskService(
            runtime.sessions,
            at_risk_policy(settings),
            service_directory(settings, runtime.http),
        ),
        course_stats=CourseStats(runtime.sessions),
        course_facts=CourseFactsCache(settings.analytics_course_cache_seconds),
        activity_base=settings.public_service_url("analytics"),
        retention_days=settings.analytics_retention_days,
    )


def worker_jobs(
    services: AnalyticsServices,
) -> Sequence[Callable[[], Coroutine[Any, Any, None]]]:
    return [services.maintain_partitions, services.at_risk.keep_schedule]
