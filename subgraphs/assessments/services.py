"""The assessments subgraph's service layer, built once at startup from the runtime."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from common.graphql.app import ServiceRuntime
from subgraphs.assessments.bank import QuestionBank
from subgraphs.assessments.plagiarism.service import PlagiarismService
from subgraphs.assessments.service import AssessmentsService


@dataclass(frozen=True, slots=True)
class AssessmentsServices:
    assessments: AssessmentsService
    bank: QuestionBank
    plagiarism: PlagiarismService


def build_services(runtime: ServiceRuntime) -> AssessmentsServices:
    grace = timedelta(seconds=runtime.settings.submission_grace_seconds)
    return AssessmentsServices(
        assessments=AssessmentsService(runtime.sessions, grace=grace),
        bank=QuestionBank(runtime.sessions),
        plagiarism=PlagiarismService(runtime.sessions),
    )
