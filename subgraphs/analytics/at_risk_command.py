"""`lms analytics …`: the at-risk jobs the analytics worker runs on its schedule, run now
(train a new model version, score the active enrollments, send the instructors' digest)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import httpx

from common.db import create_engine, service_dsn, session_factory
from common.settings import Settings
from subgraphs.analytics.at_risk_service import AtRiskService, Trained
from subgraphs.analytics.services import at_risk_policy, service_directory

T = TypeVar("T")


async def _with_service(settings: Settings, job: Callable[[AtRiskService], Awaitable[T]]) -> T:
    engine = create_engine(service_dsn(settings, "analytics"), pool_size=1)
    try:
        async with httpx.AsyncClient(timeout=30.0) as http:
            service = AtRiskService(
                session_factory(engine),
                at_risk_policy(settings),
                service_directory(settings, http),
            )
            return await job(service)
    finally:
        await engine.dispose()


def describe(trained: Trained) -> str:
    """One line: the version, what it measured, and whether it is now the active one."""
    m = trained.metrics
    measured = (
        f"model version {trained.version} trained from {trained.training_size} finished "
        f"enrollments ({int(m['snapshots'])} weekly snapshots): cross-validated AUC "
        f"{m['cv_auc']:.3f}, Brier {m['cv_brier']:.3f}, calibration error "
        f"{m['cv_calibration_error']:.3f}"
    )
    if trained.active:
        return f"{measured}; active"
    return f"{measured}; not activated: {trained.why_inactive}"


async def train_at_risk(settings: Settings) -> str:
    return describe(await _with_service(settings, lambda service: service.train()))


async def rescore_at_risk(settings: Settings) -> str:
    scored = await _with_service(settings, lambda service: service.rescore())
    return f"scored {scored} active enrollments" if scored else "no active model: nothing scored"


async def send_at_risk_digest(settings: Settings) -> str:
    sent = await _with_service(settings, lambda service: service.send_digests())
    return f"sent {sent} course digests of new at-risk learners"
