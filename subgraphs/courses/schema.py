"""GraphQL surface of the courses subgraph: Query and Mutation, composed from
each aggregate's parts (course_schema, content_schema, category_schema, similar_schema)."""

from __future__ import annotations

import strawberry

from common.graphql.schema import ServiceSchema
from subgraphs.courses.cartridge.schema import CartridgeMutations, CartridgeQueries
from subgraphs.courses.category_schema import CategoryMutations, CategoryQueries
from subgraphs.courses.content_schema import ContentMutations, ContentQueries, Lesson
from subgraphs.courses.course_schema import Course, CourseMutations, CourseQueries, User
from subgraphs.courses.lti.schema import LtiMutations, LtiQueries
from subgraphs.courses.similar_schema import SimilarCourseQueries


@strawberry.type
class Query(
    CourseQueries,
    CategoryQueries,
    ContentQueries,
    SimilarCourseQueries,
    CartridgeQueries,
    LtiQueries,
):
    pass


@strawberry.type
class Mutation(
    CourseMutations, ContentMutations, CategoryMutations, CartridgeMutations, LtiMutations
):
    pass


schema = ServiceSchema(query=Query, mutation=Mutation, types=[User, Course, Lesson])
