"""Events the assessments domain consumes: user.deleted (see erasure.py); its own
submission.submitted and plagiarism.recheck_requested (see plagiarism/checker.py)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping

from sqlalchemy.ext.asyncio import AsyncSession

from common.ai import embeddings
from common.data_exports import export_handler
from common.events.consumer import Handler
from common.events.envelope import Event
from subgraphs.assessments.erasure import erase_user
from subgraphs.assessments.export import user_sections
from subgraphs.assessments.models import EVENTS
from subgraphs.assessments.plagiarism.checker import check_assessment, check_attempt
from subgraphs.assessments.services import AssessmentsServices

log = logging.getLogger(__name__)


def handlers(_: AssessmentsServices) -> Mapping[str, Handler]:
    if not embeddings.available():
        log.warning(
            "plagiarism: sentence-transformers or the all-MiniLM-L6-v2 package is not installed "
            "(the `ai` extra): essays are checked by fingerprints only, no paraphrase detection"
        )

    async def user_deleted(session: AsyncSession, event: Event) -> None:
        await erase_user(session, uuid.UUID(event.data["user_id"]))

    async def submission_submitted(session: AsyncSession, event: Event) -> None:
        await check_attempt(session, uuid.UUID(event.data["attempt_id"]))

    async def recheck_requested(session: AsyncSession, event: Event) -> None:
        await check_assessment(session, uuid.UUID(event.data["assessment_id"]))

    return {
        "user.deleted": user_deleted,
        "submission.submitted": submission_submitted,
        "plagiarism.recheck_requested": recheck_requested,
        "user.export_requested": export_handler("assessments", EVENTS.outbox, user_sections),
    }
