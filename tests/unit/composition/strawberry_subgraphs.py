"""Three small Strawberry federation subgraphs of a learning platform, for composition tests."""

from __future__ import annotations

import enum

import strawberry
from strawberry.federation.schema_directives import Override


@strawberry.enum(name="Role")
class Role(enum.Enum):
    STUDENT = "student"
    INSTRUCTOR = "instructor"
    ADMIN = "admin"


@strawberry.federation.type(keys=["id"], name="User")
class UsersUser:
    id: strawberry.ID
    name: str = strawberry.federation.field(shareable=True)
    email: str = strawberry.federation.field(authenticated=True)
    roles: list[Role]
    internal_note: str | None = strawberry.federation.field(inaccessible=True)


@strawberry.input(name="UserFilter")
class UserFilter:
    role: Role | None = None
    name_contains: str | None = None


def _me() -> UsersUser | None:
    return None


@strawberry.type(name="Query")
class UsersQuery:
    me: UsersUser | None = strawberry.field(resolver=_me, description="The signed-in user.")

    @strawberry.field
    def users(self, filter: UserFilter | None = None, first: int = 10) -> list[UsersUser]:
        return []


@strawberry.federation.type(keys=["id"], name="User")
class CoursesUser:
    id: strawberry.ID
    name: str = strawberry.federation.field(external=True)
    display_name: str = strawberry.federation.field(resolver=lambda: "", requires=["name"])

    @strawberry.field
    def taught_courses(self) -> list[CoursesCourse]:
        return []


@strawberry.federation.type(keys=["id"], name="Course")
class CoursesCourse:
    """A course in the catalogue."""

    id: strawberry.ID
    title: str = strawberry.federation.field(tags=["catalog"])
    price_cents: int = strawberry.federation.field(requires_scopes=[["courses:read"]])
    enrollment_count: int = 0
    instructor: CoursesUser


@strawberry.type(name="Query")
class CoursesQuery:
    @strawberry.field
    def courses(self) -> list[CoursesCourse]:
        return []

    @strawberry.field
    def course(self, id: strawberry.ID) -> CoursesCourse | None:
        return None


@strawberry.type(name="Mutation")
class CoursesMutation:
    @strawberry.field
    def publish_course(self, title: str, roles: list[Role] | None = None) -> CoursesCourse:
        raise NotImplementedError


@strawberry.federation.type(keys=["id"], name="Course")
class EnrollmentsCourse:
    id: strawberry.ID
    enrollment_count: int = strawberry.federation.field(
        override=Override(override_from="courses", label="percent(25)")
    )


@strawberry.federation.type(keys=["id"], name="User")
class EnrollmentsUser:
    id: strawberry.ID

    @strawberry.field
    def enrollments(self) -> list[Enrollment]:
        return []


@strawberry.federation.type(keys=["id"], name="Enrollment")
class Enrollment:
    id: strawberry.ID
    course: EnrollmentsCourse
    student: EnrollmentsUser
    progress: float = strawberry.federation.field(policy=[["enrolled"]], default=0.0)


@strawberry.type(name="Query")
class EnrollmentsQuery:
    @strawberry.field
    def enrollment(self, id: strawberry.ID) -> Enrollment | None:
        return None


def users_schema(version: str = "2.11") -> strawberry.federation.Schema:
    return strawberry.federation.Schema(query=UsersQuery, federation_version=version)  # type: ignore[arg-type]


def courses_schema(version: str = "2.11") -> strawberry.federation.Schema:
    return strawberry.federation.Schema(
        query=CoursesQuery,
        mutation=CoursesMutation,
        federation_version=version,  # type: ignore[arg-type]
    )


def enrollments_schema(version: str = "2.11") -> strawberry.federation.Schema:
    return strawberry.federation.Schema(query=EnrollmentsQuery, federation_version=version)  # type: ignore[arg-type]


SCHEMAS = {"courses": courses_schema, "enrollments": enrollments_schema, "users": users_schema}
