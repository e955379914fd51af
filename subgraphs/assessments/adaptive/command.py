"""`lms calibrate-items`: calibrate one course's question bank, or every course due."""

from __future__ import annotations

import uuid

from common.db import create_engine, service_dsn, session_factory
from common.settings import Settings
from subgraphs.assessments.adaptive.calibrating import Calibrator


async def calibrate_items(
    settings: Settings, course_id: uuid.UUID | None, min_responses: int | None
) -> list[str]:
    """One line per course calibrated."""
    engine = create_engine(service_dsn(settings, "assessments"), pool_size=1)
    calibrator = Calibrator(session_factory(engine), min_responses or settings.irt_min_responses)
    try:
        reports = (
            [await calibrator.calibrate_course(course_id)]
            if course_id is not None
            else await calibrator.calibrate_due()
        )
    finally:
        await engine.dispose()
    if not reports:
        return ["no course has answers graded since its last calibration"]
    return [
        f"course {r.course_id}: {r.calibrated} items calibrated, {r.on_priors} on priors "
        f"(fewer than {calibrator.min_responses} responses), from {r.responders} attempts"
        for r in reports
    ]
