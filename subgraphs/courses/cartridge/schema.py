"""GraphQL surface of Common Cartridge: `exportCourseCartridge` (a signed download link and
what does not travel), `importCourseCartridge` (an upload, queued as a job) and
`courseImport` (the job's status, progress and report item by item)."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

import strawberry
from strawberry.file_uploads import Upload

from common.errors import BadUserInput
from common.graphql.access import scopes, signed_in
from common.graphql.ids import graphql_id, parse_id
from subgraphs.courses import access
from subgraphs.courses.cartridge.bank import bank_link
from subgraphs.courses.cartridge.download import export_link
from subgraphs.courses.cartridge.reader import MAX_CARTRIDGE_BYTES
from subgraphs.courses.course_schema import Course, course_of
from subgraphs.courses.loaders import CoursesInfo
from subgraphs.courses.models import CourseImportRow

NOT_CARRIED = [
    "Only each lesson's current content travels, not its version history.",
    "The question bank travels as QTI 2.1 items (imsqti_xmlv2p1, read by systems that read "
    "QTI 2.1); assessments as CC's QTI 1.2 profile (imsqti_xmlv1p2/imscc_xmlv1p3/"
    "assessment) in a folder 'Assessments'. What CC's profile lacks (tolerances, answer "
    "patterns, rubrics, code tests, partial credit, random draws, the kind, passing score "
    "and dates of an assessment) travels in our extension, which other systems ignore.",
    "Co-instructors, the category, the template flag, the status and enrollments stay here; "
    "assessments arrive unpublished.",
    "LTI links travel (after their module's lessons), not the tools' registrations: an "
    "importing platform places a link only with a tool registered there.",
]


@strawberry.type
class CartridgeExport:
    url: str = strawberry.field(description="A signed link to the .imscc file; it expires.")
    expires_at: datetime
    notes: list[str] = strawberry.field(description="What the cartridge does not carry.")


@strawberry.enum
class CourseImportStatus(Enum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


@strawberry.type(description="What became of one item of a cartridge.")
class CartridgeItemReport:
    identifier: str
    title: str
    kind: str = strawberry.field(description="Its resource type (webcontent, imswl_xmlv1p3…).")
    imported: bool
    warnings: list[str]
    errors: list[str]


@strawberry.type(description="A Common Cartridge import, run in the background.")
class CourseImport:
    id: strawberry.ID
    filename: str
    status: CourseImportStatus
    progress: float = strawberry.field(description="0 to 1.")
    error: str | None = strawberry.field(description="Why it failed, when it did.")
    items: list[CartridgeItemReport]
    created_at: datetime
    finished_at: datetime | None
    row: strawberry.Private[CourseImportRow]

    @strawberry.field(description="The imported draft, once the import succeeded.")
    async def course(self, info: CoursesInfo) -> Course | None:
        if self.row.course_id is None:
            return None
        found = await info.context.loaders.course.load(self.row.course_id)
        return None if found is None else course_of(found)


def import_of(row: CourseImportRow) -> CourseImport:
    return CourseImport(
        id=graphql_id(row.id),
        filename=row.filename,
        status=CourseImportStatus(row.status),
        progress=row.progress,
        error=row.error,
        items=[
            CartridgeItemReport(
                identifier=str(item["identifier"]),
                title=str(item["title"]),
                kind=str(item["kind"]),
                imported=bool(item["imported"]),
                warnings=[str(text) for text in item["warnings"]],  # type: ignore[attr-defined]
                errors=[str(text) for text in item["errors"]],  # type: ignore[attr-defined]
            )
            for item in row.items
        ],
        created_at=row.created_at,
        finished_at=row.finished_at,
        row=row,
    )


@strawberry.type
class CourseImportPayload:
    course_import: CourseImport


@strawberry.type
class CartridgeQueries:
    @strawberry.field(
        extensions=[scopes(["courses:write"], ["admin"])],
        description="A course as an IMS Common Cartridge 1.3 (its instructors and admins): a "
        "signed, expiring download link.",
    )
    async def export_course_cartridge(
        self, info: CoursesInfo, course_id: strawberry.ID
    ) -> CartridgeExport:
        parsed = parse_id(course_id, field="courseId")
        course = await info.context.loaders.course.load(parsed)
        access.editable(info.context.require_principal(), course, parsed)
        runtime = info.context.request.app.state.runtime
        link = await bank_link(
            runtime.http,
            runtime.settings,
            parsed,
            info.context.request.headers.get("authorization"),
        )
        url, expires_at = export_link(runtime.settings, parsed, link)
        return CartridgeExport(url=url, expires_at=expires_at, notes=list(NOT_CARRIED))

    @strawberry.field(
        extensions=[signed_in()],
        description="A course import you started (any, for administrators).",
    )
    async def course_import(self, info: CoursesInfo, id: strawberry.ID) -> CourseImport:
        row = await info.context.service.imports.get(info.context.require_principal(), parse_id(id))
        return import_of(row)


@strawberry.type
class CartridgeMutations:
    @strawberry.mutation(
        extensions=[scopes(["courses:write"], ["admin"])],
        description="Import an IMS Common Cartridge (.imscc, 1.0 to 1.3) as a new draft course "
        "of yours (instructors and admins). It runs in the background: follow it with "
        "courseImport. Any item with an error imports nothing.",
    )
    async def import_course_cartridge(self, info: CoursesInfo, file: Upload) -> CourseImportPayload:
        upload: Any = file  # Starlette's UploadFile
        try:  # the spooled upload is closed whatever happens
            principal = info.context.require_principal()
            access.require_author(principal)
            if not callable(getattr(upload, "read", None)):
                raise BadUserInput(
                    "file must be an uploaded file (a multipart request).", field="file"
                )
            filename = str(getattr(upload, "filename", "") or "course.imscc")
            data: bytes = await upload.read(MAX_CARTRIDGE_BYTES + 1)
        finally:
            if callable(getattr(upload, "close", None)):
                await upload.close()
        authorization = info.context.request.headers.get("authorization")
        row = await info.context.service.imports.enqueue(principal, authorization, filename, data)
        return CourseImportPayload(course_import=import_of(row))
