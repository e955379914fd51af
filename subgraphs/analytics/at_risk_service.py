"""At-risk prediction as a service of the analytics subgraph: training a new model version
from the finished enrollments (activated only when good enough), scoring every active
enrollment with the active model, the instructors' digest of learners newly at risk (an
event the notifications worker turns into a notification), and reading the scores.

Activation rule: a model is made active when it was trained from at least
`min_enrollments` finished enrollments (5 of each outcome among them) and its
cross-validated AUC is at least `min_auc`; otherwise it is stored, inactive, and the
previous one stays. Callers' rights are checked by the resolvers (guards.py).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from common import clock
from common.cancellation import stop_if_cancelled
from common.events.envelope import Event
from common.events.outbox import emit
from common.graphql.catalog import ServiceDirectory
from subgraphs.analytics.at_risk.explanations import predict_cohort
from subgraphs.analytics.at_risk.model import AtRiskModel
from subgraphs.analytics.at_risk.snapshots import Example
from subgraphs.analytics.at_risk_history import course_history, course_ids, training_examples
from subgraphs.analytics.models import (
    EVENTS,
    SCHEMA,
    AtRiskModelRow,
    AtRiskRunRow,
    AtRiskScoreRow,
)

FLAG: Final = 0.5  # at risk: more likely than not to fail or not complete
HIGH: Final = 0.75
DIGEST_LOCK: Final = 0x61747273  # advisory lock key of the digest ("atrs")
CHECK_SECONDS: Final = 600  # how often the worker looks whether a job is due
DIGEST_EVENT: Final = "analytics.at_risk_digest"
log = logging.getLogger(__name__)


class NotEnoughData(ValueError):
    """The finished enrollments cannot train a model, with why in one line."""


class TrainingUnavailable(RuntimeError):
    """This installation cannot train (scikit-learn, the `analytics` extra, is missing)."""


@dataclass(frozen=True, slots=True)
class AtRiskPolicy:
    min_auc: float
    min_enrollments: int
    retrain_hours: int
    rescore_hours: int
    digest_hours: int
    visible_to_learners: bool


@dataclass(frozen=True, slots=True)
class Trained:
    version: int
    active: bool
    training_size: int
    metrics: dict[str, float]
    why_inactive: str | None


def level_of(probability: float) -> str:
    return "HIGH" if probability >= HIGH else "MEDIUM" if probability >= FLAG else "LOW"


class AtRiskService:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        policy: AtRiskPolicy,
        directory: ServiceDirectory | None,
    ) -> None:
        self._sessions = sessions
        self.policy = policy
        self._directory = directory  # for the digest: the courses' instructors

    # --- training ------------------------------------------------------------------------

    async def examples(self, now: datetime) -> list[Example]:
        made: list[Example] = []
        async with self._sessions() as session:
            for course_id in await course_ids(session):
                history = await course_history(session, course_id, now)
                made.extend(training_examples(history, now.date()))
        return made

    async def train(self) -> Trained:
        """A new model version from the finished enrollments, active if good enough;
        NotEnoughData when they are too few."""
        try:
            from subgraphs.analytics.at_risk.training import TrainingError, train
        except ModuleNotFoundError as missing:
            package = (missing.name or "scikit-learn").partition(".")[0]
            raise TrainingUnavailable(
                f"training needs the `analytics` extra ({package} is missing): "
                "pip install -c constraints.txt '.[analytics]' (the image: EXTRAS=analytics)"
            ) from None

        now = clock.now()
        found = await self.examples(now)
        enrollments = {e.enrollment_id: e.at_risk for e in found}
        if len(enrollments) < self.policy.min_enrollments:
            raise NotEnoughData(
                f"training needs at least {self.policy.min_enrollments} finished enrollments "
                f"(completed, or not seen for 60 days); found {len(enrollments)}"
            )
        try:
            model = await asyncio.to_thread(train, found, now)
        except TrainingError as error:
            raise NotEnoughData(str(error)) from None
        auc = model.metrics["cv_auc"]
        why = (
            None
            if auc >= self.policy.min_auc
            else f"its cross-validated AUC {auc:.3f} is below {self.policy.min_auc}"
        )
        async with self._sessions() as session, session.begin():
            await session.execute(text(f'LOCK TABLE "{SCHEMA}".at_risk_models IN EXCLUSIVE MODE'))
            latest = await session.scalar(select(func.max(AtRiskModelRow.version)))
            version = int(latest or 0) + 1
            if why is None:
                await session.execute(update(AtRiskModelRow).values(active=False))
            session.add(
                AtRiskModelRow(
                    id=uuid.uuid4(),
                    version=version,
                    digest=model.version,
                    trained_at=now,
                    training_size=model.training_size,
                    metrics=model.metrics,
                    model=model.to_json(),
                    active=why is None,
                )
            )
        return Trained(version, why is None, model.training_size, model.metrics, why)

    async def _retrain(self) -> Trained:
        trained = await self.train()
        if trained.active:
            await self.rescore()
        return trained

    async def active_model(self) -> tuple[int, AtRiskModel] | None:
        async with self._sessions() as session:
            row = await session.scalar(select(AtRiskModelRow).where(AtRiskModelRow.active))
        return None if row is None else (row.version, AtRiskModel.from_json(row.model))

    # --- scoring -------------------------------------------------------------------------

    async def rescore(self) -> int:
        """Every active enrollment scored by the active model (none without one); the
        scores of enrollments no longer active go. Returns how many were scored."""
        active = await self.active_model()
        if active is None:
            return 0
        version, model = active
        now = clock.now()
        scored = 0
        async with self._sessions() as session:
            courses = await course_ids(session)
        for course_id in courses:
            async with self._sessions() as session, session.begin():
                history = [
                    h for h in await course_history(session, course_id, now) if h.at_risk is None
                ]
                predictions = predict_cohort(model, [h.enrollment for h in history], now.date())
                previous = {
                    row.user_id: row
                    for row in await session.scalars(
                        select(AtRiskScoreRow)
                        .where(AtRiskScoreRow.course_id == course_id)
                        .with_for_update()
                    )
                }
                rows = []
                for h, prediction in zip(history, predictions, strict=True):
                    before = previous.get(h.user_id)
                    flagged = prediction.probability >= FLAG
                    still = flagged and before is not None and before.flagged_at is not None
                    rows.append(
                        {
                            "user_id": h.user_id,
                            "course_id": course_id,
                            "probability": prediction.probability,
                            "reasons": [reason.text for reason in prediction.reasons],
                            "model_version": version,
                            "scored_at": now,
                            "flagged_at": (before.flagged_at if still and before else now)
                            if flagged
                            else None,
                            "reported_at": before.reported_at if still and before else None,
                        }
                    )
                gone = set(previous) - {h.user_id for h in history}
                if gone:
                    await session.execute(
                        delete(AtRiskScoreRow).where(
                            AtRiskScoreRow.course_id == course_id, AtRiskScoreRow.user_id.in_(gone)
                        )
                    )
                if rows:
                    statement = insert(AtRiskScoreRow).values(rows)
                    await session.execute(
                        statement.on_conflict_do_update(
                            index_elements=["user_id", "course_id"],
                            set_={
                                name: statement.excluded[name]
                                for name in (
                                    "probability",
                                    "reasons",
                                    "model_version",
                                    "scored_at",
                                    "flagged_at",
                                    "reported_at",
                                )
                            },
                        )
                    )
                scored += len(rows)
        return scored

    # --- the instructors' digest -----------------------------------------------------------

    async def send_digests(self) -> int:
        """For every course with learners flagged since its last digest, one event naming
        them (and its instructors) to the notifications worker, in the transaction that marks
        them reported: a learner is in one digest per time they are flagged. Returns the
        number of digests."""
        if self._directory is None:
            raise RuntimeError("the digest needs the courses subgraph (a ServiceDirectory)")
        sent = 0
        async with self._sessions() as session, session.begin():
            await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": DIGEST_LOCK})
            new = (
                await session.scalars(
                    select(AtRiskScoreRow)
                    .where(
                        AtRiskScoreRow.flagged_at.is_not(None),
                        AtRiskScoreRow.reported_at.is_(None),
                    )
                    .order_by(AtRiskScoreRow.course_id, AtRiskScoreRow.probability.desc())
                )
            ).all()
            by_course: dict[uuid.UUID, list[AtRiskScoreRow]] = {}
            for row in new:
                by_course.setdefault(row.course_id, []).append(row)
            now = clock.now()
            for course_id, rows in by_course.items():
                course = await self._directory.course(course_id)
                learners = [
                    row
                    for row in rows
                    if course is not None and row.user_id not in course.instructor_ids
                ]
                if course is not None and course.instructor_ids and learners:
                    instructors = sorted(course.instructor_ids)
                    event = _digest_event(course_id, course.title, instructors, learners)
                    await emit(session, EVENTS.outbox, event)
                    sent += 1
                await session.execute(
                    update(AtRiskScoreRow)
                    .where(
                        AtRiskScoreRow.course_id == course_id,
                        AtRiskScoreRow.user_id.in_([row.user_id for row in rows]),
                    )
                    .values(reported_at=now)
                )
        return sent

    # --- reading -------------------------------------------------------------------------

    async def course_scores(
        self,
        course_id: uuid.UUID,
        min_probability: float,
        limit: int,
        instructors: Collection[uuid.UUID] = (),
    ) -> list[AtRiskScoreRow]:
        """The course's scored enrollments from `min_probability` up, riskiest first (only
        those scored by the active model; not its `instructors`, whose own activity in the
        course the store records like a learner's)."""
        async with self._sessions() as session:
            found = await session.scalars(
                select(AtRiskScoreRow)
                .join(AtRiskModelRow, AtRiskModelRow.version == AtRiskScoreRow.model_version)
                .where(
                    AtRiskModelRow.active,
                    AtRiskScoreRow.course_id == course_id,
                    AtRiskScoreRow.probability >= min_probability,
                    AtRiskScoreRow.user_id.not_in(list(instructors)),
                )
                .order_by(AtRiskScoreRow.probability.desc(), AtRiskScoreRow.user_id)
                .limit(limit)
            )
            return list(found.all())

    async def learner_score(
        self, user_id: uuid.UUID, course_id: uuid.UUID
    ) -> AtRiskScoreRow | None:
        async with self._sessions() as session:
            found: AtRiskScoreRow | None = await session.scalar(
                select(AtRiskScoreRow)
                .join(AtRiskModelRow, AtRiskModelRow.version == AtRiskScoreRow.model_version)
                .where(
                    AtRiskModelRow.active,
                    AtRiskScoreRow.user_id == user_id,
                    AtRiskScoreRow.course_id == course_id,
                )
            )
            return found

    async def active_version(self) -> int | None:
        async with self._sessions() as session:
            found = await session.scalar(
                select(AtRiskModelRow.version).where(AtRiskModelRow.active)
            )
        return None if found is None else int(found)

    # --- the worker's schedule -------------------------------------------------------------

    async def claim_if_due(self, job: str, hours: int) -> bool:
        """Whether `job` last ran `hours` ago or more (or never); if so, it is marked as
        running now, so that another worker does not start it too."""
        now = clock.now()
        async with self._sessions() as session, session.begin():
            statement = insert(AtRiskRunRow).values(job=job, ran_at=now)
            claimed = await session.execute(
                statement.on_conflict_do_update(
                    index_elements=["job"],
                    set_={"ran_at": now},
                    where=AtRiskRunRow.ran_at <= now - timedelta(hours=hours),
                ).returning(AtRiskRunRow.job)
            )
            return claimed.scalar_one_or_none() is not None

    async def keep_schedule(self) -> None:
        """Train every `retrain_hours`, score every `rescore_hours` (and right after a
        training), send the digest every `digest_hours`; forever, checked every ten minutes.
        A job that fails is logged and tried again at its next turn."""
        jobs: Sequence[tuple[str, int, Callable[[], Awaitable[object]]]] = (
            ("train", self.policy.retrain_hours, self._retrain),
            ("score", self.policy.rescore_hours, self.rescore),
            ("digest", self.policy.digest_hours, self.send_digests),
        )
        while True:
            for job, hours, run in jobs:
                try:
                    if await self.claim_if_due(job, hours):
                        log.info("at-risk job done", extra={"job": job, "result": str(await run())})
                except (NotEnoughData, TrainingUnavailable) as error:
                    log.info("at-risk model not trained", extra={"reason": str(error)})
                except Exception:
                    stop_if_cancelled()
                    log.exception("at-risk job failed", extra={"job": job})
            await asyncio.sleep(CHECK_SECONDS)


def _digest_event(
    course_id: uuid.UUID, title: str, instructors: list[uuid.UUID], rows: list[AtRiskScoreRow]
) -> Event:
    return Event(
        DIGEST_EVENT,
        {
            "course_id": str(course_id),
            "course_title": title,
            "instructor_ids": [str(item) for item in instructors],
            "learners": [
                {
                    "user_id": str(row.user_id),
                    "probability": round(row.probability, 3),
                    "reasons": list(row.reasons),
                }
                for row in rows
            ],
        },
        "analytics",
    )
