"""GraphQL surface of the assessments subgraph: Query and Mutation, composed
from each aggregate's parts (question_schema, assessment_schema, attempt_schema).

Who sees what: a course's instructors and administrators see everything of its assessments
(answer keys, every attempt, analytics); an enrolled learner sees published assessments,
their own attempts, and their scores, feedback and the correct answers only once grades are
released. Anything else answers NOT_FOUND (it is not acknowledged) or FORBIDDEN.
"""

from __future__ import annotations

import strawberry

from common.graphql.schema import ServiceSchema
from subgraphs.assessments.adaptive.schema import AdaptiveMutations, AdaptiveQueries
from subgraphs.assessments.assessment_schema import (
    Assessment,
    AssessmentMutations,
    AssessmentQueries,
    Course,
)
from subgraphs.assessments.attempt_schema import Attempt, AttemptMutations, AttemptQueries, User
from subgraphs.assessments.plagiarism.schema import PlagiarismMutations, PlagiarismQueries
from subgraphs.assessments.qti.schema import QtiMutations, QtiQueries
from subgraphs.assessments.question_schema import QuestionMutations, QuestionQueries


@strawberry.type
class Query(
    AssessmentQueries,
    AttemptQueries,
    QuestionQueries,
    PlagiarismQueries,
    AdaptiveQueries,
    QtiQueries,
):
    pass


@strawberry.type
class Mutation(
    QuestionMutations,
    AssessmentMutations,
    AttemptMutations,
    PlagiarismMutations,
    AdaptiveMutations,
    QtiMutations,
):
    pass


schema = ServiceSchema(query=Query, mutation=Mutation, types=[User, Course, Assessment, Attempt])
