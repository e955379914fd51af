"""GraphQL surface of plagiarism detection: for a course's instructors and administrators
only. A learner asking about their own attempt gets FORBIDDEN, about anyone else's (or a
course they do not teach) NOT_FOUND, as for every other attempt and assessment."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import strawberry

from common.errors import Conflict
from common.graphql.access import scopes, signed_in
from common.graphql.ids import graphql_id, parse_id
from subgraphs.assessments.attempt_schema import User
from subgraphs.assessments.bank import require_manager
from subgraphs.assessments.guards import visible_assessment, visible_attempt
from subgraphs.assessments.loaders import AssessmentsInfo
from subgraphs.assessments.models import AssessmentRow
from subgraphs.assessments.plagiarism.service import (
    AnswerReport,
    DetectionSettings,
    Match,
    clusters,
)
from subgraphs.assessments.plagiarism.thresholds import CODE_THRESHOLD, TEXT_THRESHOLD


class SimilarityKindValue(StrEnum):
    CODE = "CODE"
    TEXT = "TEXT"


SimilarityKind = strawberry.enum(SimilarityKindValue, name="SimilarityKind")


class SimilarityMethodValue(StrEnum):
    FINGERPRINT = "FINGERPRINT"
    EMBEDDING = "EMBEDDING"


SimilarityMethod = strawberry.enum(
    SimilarityMethodValue,
    name="SimilarityMethod",
    description="FINGERPRINT: shared word or token sequences; EMBEDDING: sentences of the same "
    "meaning in other words (paraphrase).",
)


@strawberry.type(
    description="Characters [start, end) of this answer matching [otherStart, otherEnd) of "
    "the other."
)
class MatchedSpan:
    start: int
    end: int
    other_start: int
    other_end: int


@strawberry.type(
    description="Another learner's answer to the same question that resembles this one."
)
class SimilarSubmission:
    attempt_id: strawberry.ID
    learner: User
    score: float = strawberry.field(
        description="0 to 1: the share of the smaller answer found in the other."
    )
    text: str = strawberry.field(description="The other answer, for highlighting its spans.")
    spans: list[MatchedSpan]
    method: SimilarityMethod = strawberry.field(  # type: ignore[valid-type]
        description="The method that gave the score (the higher of the two for essays)."
    )


@strawberry.type(description="One checked code or essay answer of an attempt.")
class AnswerSimilarity:
    question_id: strawberry.ID
    kind: SimilarityKind  # type: ignore[valid-type]
    score: float = strawberry.field(description="Its most similar match's score (0 without one).")
    checked_at: datetime
    text: str
    matches: list[SimilarSubmission] = strawberry.field(
        description="Most similar first (up to 10)."
    )
    stages: list[SimilarityMethod] = strawberry.field(  # type: ignore[valid-type]
        description="The methods the check ran: EMBEDDING for essays when the server has the "
        "sentence-embedding model installed."
    )


@strawberry.type
class SimilarityReport:
    attempt_id: strawberry.ID
    enabled: bool = strawberry.field(description="Detection is on for the attempt's assessment.")
    score: float = strawberry.field(description="The attempt's highest answer score.")
    answers: list[AnswerSimilarity] = strawberry.field(
        description="Its checked answers; empty until the worker has checked the submission."
    )


@strawberry.type
class PlagiarismSettings:
    enabled: bool
    code_threshold: float = strawberry.field(
        description="Code pairs from this score are suspicious."
    )
    text_threshold: float = strawberry.field(
        description="Essay pairs from this score are suspicious."
    )
    excluded_question_ids: list[strawberry.ID]


@strawberry.type(description="Two attempts whose answers to one question resemble each other.")
class SuspiciousPair:
    question_id: strawberry.ID
    kind: SimilarityKind  # type: ignore[valid-type]
    score: float
    attempt_id: strawberry.ID = strawberry.field(description="The attempt of this assessment.")
    learner: User
    other_attempt_id: strawberry.ID = strawberry.field(
        description="Of this assessment, or of another one using the question (an earlier term)."
    )
    other_learner: User
    method: SimilarityMethod  # type: ignore[valid-type]


@strawberry.type(description="Attempts joined by suspicious pairs: a group sharing work.")
class SimilarityCluster:
    attempt_ids: list[strawberry.ID]
    learners: list[User]
    score: float = strawberry.field(description="The highest pair score inside the group.")


@strawberry.type
class PlagiarismReport:
    assessment_id: strawberry.ID
    settings: PlagiarismSettings
    pairs: list[SuspiciousPair] = strawberry.field(description="Most similar first (up to 200).")
    clusters: list[SimilarityCluster] = strawberry.field(description="Largest first.")


def _settings_of(value: DetectionSettings) -> PlagiarismSettings:
    return PlagiarismSettings(
        enabled=value.enabled,
        code_threshold=value.code_threshold,
        text_threshold=value.text_threshold,
        excluded_question_ids=[graphql_id(q) for q in value.excluded_question_ids],
    )


def _match_of(match: Match) -> SimilarSubmission:
    return SimilarSubmission(
        attempt_id=graphql_id(match.attempt_id),
        learner=User(id=graphql_id(match.user_id)),
        score=match.score,
        text=match.text,
        spans=[
            MatchedSpan(start=a, end=b, other_start=c, other_end=d) for a, b, c, d in match.spans
        ],
        method=SimilarityMethodValue(match.method.value),
    )


def _answer_of(report: AnswerReport) -> AnswerSimilarity:
    return AnswerSimilarity(
        question_id=graphql_id(report.question_id),
        kind=SimilarityKindValue(report.kind.value),
        score=report.score,
        checked_at=report.checked_at,
        text=report.text,
        matches=[_match_of(match) for match in report.matches],
        stages=[SimilarityMethodValue(stage.value) for stage in report.stages],
    )


async def _managed_assessment(
    info: AssessmentsInfo, assessment_id: strawberry.ID, action: str
) -> AssessmentRow:
    assessment, course = await visible_assessment(
        info, parse_id(assessment_id, field="assessmentId")
    )
    require_manager(info.context.require_principal(), course, action)
    return assessment


@strawberry.type
class PlagiarismQueries:
    @strawberry.field(
        extensions=[signed_in()],
        description="An attempt's similarity to other submissions (the course's instructors).",
    )
    async def similarity_report(
        self, info: AssessmentsInfo, attempt_id: strawberry.ID
    ) -> SimilarityReport:
        attempt, assessment, course = await visible_attempt(
            info, parse_id(attempt_id, field="attemptId")
        )
        require_manager(info.context.require_principal(), course, "see similarity reports")
        service = info.context.service.plagiarism
        answers = await service.attempt_report(attempt.id)
        return SimilarityReport(
            attempt_id=graphql_id(attempt.id),
            enabled=(await service.settings(assessment.id)).enabled,
            score=max((answer.score for answer in answers), default=0.0),
            answers=[_answer_of(answer) for answer in answers],
        )

    @strawberry.field(
        extensions=[signed_in()],
        description="An assessment's suspicious pairs and clusters (the course's instructors).",
    )
    async def plagiarism_report(
        self, info: AssessmentsInfo, assessment_id: strawberry.ID
    ) -> PlagiarismReport:
        assessment = await _managed_assessment(info, assessment_id, "see plagiarism reports")
        service = info.context.service.plagiarism
        settings = await service.settings(assessment.id)
        pairs = await service.suspicious_pairs(assessment.id, settings)
        return PlagiarismReport(
            assessment_id=graphql_id(assessment.id),
            settings=_settings_of(settings),
            pairs=[
                SuspiciousPair(
                    question_id=graphql_id(p.question_id),
                    kind=SimilarityKindValue(p.kind.value),
                    score=p.score,
                    attempt_id=graphql_id(p.attempt_id),
                    learner=User(id=graphql_id(p.user_id)),
                    other_attempt_id=graphql_id(p.other_attempt_id),
                    other_learner=User(id=graphql_id(p.other_user_id)),
                    method=SimilarityMethodValue(p.method.value),
                )
                for p in pairs
            ],
            clusters=[
                SimilarityCluster(
                    attempt_ids=[graphql_id(a) for a in c.attempt_ids],
                    learners=[User(id=graphql_id(u)) for u in c.user_ids],
                    score=c.score,
                )
                for c in clusters(pairs)
            ],
        )


@strawberry.input(description="Plagiarism detection for one assessment.")
class PlagiarismSettingsInput:
    assessment_id: strawberry.ID
    enabled: bool = True
    code_threshold: float = strawberry.field(default=CODE_THRESHOLD)
    text_threshold: float = strawberry.field(default=TEXT_THRESHOLD)
    excluded_question_ids: list[strawberry.ID] = strawberry.field(
        default_factory=list, description="Questions never checked."
    )


@strawberry.input
class RecheckPlagiarismInput:
    assessment_id: strawberry.ID


@strawberry.type
class PlagiarismSettingsPayload:
    settings: PlagiarismSettings


@strawberry.type
class RecheckPlagiarismPayload:
    queued: bool = strawberry.field(description="The worker will check every submission again.")


@strawberry.type
class PlagiarismMutations:
    @strawberry.mutation(
        extensions=[scopes(["courses:write"], ["admin"])],
        description="Turn plagiarism detection on or off, set its thresholds and excluded "
        "questions (the course's instructors).",
    )
    async def set_plagiarism_settings(
        self, info: AssessmentsInfo, input: PlagiarismSettingsInput
    ) -> PlagiarismSettingsPayload:
        assessment = await _managed_assessment(
            info, input.assessment_id, "change plagiarism detection"
        )
        settings = await info.context.service.plagiarism.configure(
            assessment,
            DetectionSettings(
                enabled=input.enabled,
                code_threshold=input.code_threshold,
                text_threshold=input.text_threshold,
                excluded_question_ids=[
                    parse_id(q, field="excludedQuestionIds") for q in input.excluded_question_ids
                ],
            ),
        )
        return PlagiarismSettingsPayload(settings=_settings_of(settings))

    @strawberry.mutation(
        extensions=[scopes(["courses:write"], ["admin"])],
        description="Check every submission of an assessment again (the course's instructors).",
    )
    async def recheck_plagiarism(
        self, info: AssessmentsInfo, input: RecheckPlagiarismInput
    ) -> RecheckPlagiarismPayload:
        assessment = await _managed_assessment(
            info, input.assessment_id, "re-check its submissions"
        )
        service = info.context.service.plagiarism
        if not (await service.settings(assessment.id)).enabled:
            raise Conflict("Plagiarism detection is off for this assessment.", field="assessmentId")
        await service.request_recheck(assessment)
        return RecheckPlagiarismPayload(queued=True)
