"""The assessments subgraph's service layer, built once at startup from the runtime."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta

from common.graphql.app import ServiceRuntime
from common.settings import Settings
from subgraphs.assessments.adaptive.calibrating import Calibrator
from subgraphs.assessments.bank import QuestionBank
from subgraphs.assessments.service import AssessmentsService


@dataclass(frozen=True, slots=True)
class AssessmentsServices:
    assessments: AssessmentsService
    bank: QuestionBank
    calibrator: Calibrator


def build_services(runtime: ServiceRuntime) -> AssessmentsServices:
    grace = timedelta(seconds=runtime.settings.submission_grace_seconds)
    return AssessmentsServices(
        assessments=AssessmentsService(runtime.sessions, grace=grace),
        bank=QuestionBank(runtime.sessions),
        calibrator=Calibrator(runtime.sessions, runtime.settings.irt_min_responses),
    )


def scheduled_jobs(
    services: AssessmentsServices, settings: Settings
) -> Mapping[str, Callable[[], Awaitable[None]]]:
    """The worker's item calibration, every LMS_CALIBRATION_INTERVAL_SECONDS (0: none)."""
    interval = settings.calibration_interval_seconds
    if not interval:
        return {}
    return {"calibration": functools.partial(services.calibrator.run_schedule, interval)}
