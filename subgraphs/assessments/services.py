"""The assessments subgraph's service layer, built once at startup from the runtime."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from common.grading import GraderClient
from common.graphql.app import ServiceRuntime
from subgraphs.assessments.adaptive.calibrating import Calibrator
from subgraphs.assessments.bank import QuestionBank
from subgraphs.assessments.plagiarism.service import PlagiarismService
from subgraphs.assessments.service import AssessmentsService


@dataclass(frozen=True, slots=True)
class AssessmentsServices:
    assessments: AssessmentsService
    bank: QuestionBank
    plagiarism: PlagiarismService
    calibrator: Calibrator


def build_services(runtime: ServiceRuntime) -> AssessmentsServices:
    settings = runtime.settings
    grace = timedelta(seconds=settings.submission_grace_seconds)
    grader = GraderClient(settings.amqp_url, settings.grader_queue, settings.grader_timeout_seconds)
    return AssessmentsServices(
        assessments=AssessmentsService(runtime.sessions, grader=grader, grace=grace),
        bank=QuestionBank(runtime.sessions),
        plagiarism=PlagiarismService(runtime.sessions),
        calibrator=Calibrator(
            runtime.sessions,
            runtime.settings.irt_min_responses,
            runtime.settings.calibration_interval_seconds,
        ),
    )


def scheduled_jobs(
    services: AssessmentsServices,
) -> Sequence[Callable[[], Coroutine[Any, Any, None]]]:
    """The worker's item calibration, every LMS_CALIBRATION_INTERVAL_SECONDS (0: none)."""
    return [services.calibrator.run_schedule] if services.calibrator.interval_seconds else []
