"""GraphQL surface of QTI: `exportQuestionBank` (a signed download link and what will not
travel) and `importQuestions` (an upload, with a report item by item).

Import is all or nothing by default: a bank moved between systems should not arrive with
holes nobody notices, so one item that does not map imports nothing and the report says
why. `importWhatMaps: true` imports the items that map and reports the others."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.file_uploads import Upload

from common.graphql.access import scopes
from common.graphql.catalog import visible_course
from common.graphql.ids import parse_id
from subgraphs.assessments.assessment_schema import Assessment, assessment_of
from subgraphs.assessments.bank import require_manager
from subgraphs.assessments.loaders import AssessmentsInfo
from subgraphs.assessments.models import AssessmentRow, QuestionRow
from subgraphs.assessments.qti import names
from subgraphs.assessments.qti.cc_assessments import CcResource
from subgraphs.assessments.qti.cc_import import import_all, left_out
from subgraphs.assessments.qti.cc_items import CcItem
from subgraphs.assessments.qti.download import export_link
from subgraphs.assessments.qti.items import ImportedItem
from subgraphs.assessments.qti.package import MAX_PACKAGE_BYTES, export_package, read_contents
from subgraphs.assessments.question_schema import Question, question_of

QtiVersion = strawberry.enum(names.QtiVersion, name="QtiVersion")


@strawberry.type(description="Something about one item that does not travel as it is.")
class QtiItemNote:
    identifier: str = strawberry.field(description="The item's QTI identifier.")
    message: str


@strawberry.type
class QtiExport:
    url: str = strawberry.field(description="A signed link to the zip; it expires.")
    expires_at: datetime
    item_count: int
    notes: list[QtiItemNote] = strawberry.field(
        description='Items that are "not portable": what other systems will not grade alike.'
    )


@strawberry.type(description="What became of one item of an import.")
class QtiItemReport:
    identifier: str
    title: str
    imported: bool
    kind: str | None
    warnings: list[str]
    errors: list[str]


@strawberry.type(
    description="A Common Cartridge QTI 1.2 assessment or question bank of an import, and "
    "what became of each of its items (one that does not map is left out and says why)."
)
class QtiResourceReport:
    identifier: str = strawberry.field(description="Its identifier in the manifest.")
    kind: str = strawberry.field(description="assessment or question-bank.")
    title: str
    imported: bool
    warnings: list[str]
    errors: list[str]
    items: list[QtiItemReport] = strawberry.field(
        description="Its items; kind is the question kind, identifier the item's ident."
    )
    assessment: Assessment | None = strawberry.field(
        description="The assessment it became, when imported."
    )


@strawberry.type
class QtiImportPayload:
    imported: list[Question]
    items: list[QtiItemReport]
    resources: list[QtiResourceReport] = strawberry.field(
        description="Common Cartridge QTI 1.2 resources the package lists (assessments and "
        "question banks), written with the items in one transaction."
    )


@strawberry.type
class QtiQueries:
    @strawberry.field(
        extensions=[scopes(["courses:write"], ["admin"])],
        description="A course's question bank as a QTI content package (its instructors and "
        "admins): a signed, expiring download link.",
    )
    async def export_question_bank(
        self,
        info: AssessmentsInfo,
        course_id: strawberry.ID,
        version: QtiVersion = names.QtiVersion.V2_1,  # type: ignore[valid-type]
    ) -> QtiExport:
        course = await visible_course(
            info.context.loaders.course, parse_id(course_id, field="courseId")
        )
        require_manager(info.context.require_principal(), course, "export its question bank")
        chosen = names.QtiVersion(version)
        rows = await info.context.service.bank.exportable(course.id)
        package = export_package(rows, chosen)  # for its notes; the link builds it afresh
        url, expires_at = export_link(
            info.context.request.app.state.runtime.settings, course.id, chosen
        )
        return QtiExport(
            url=url,
            expires_at=expires_at,
            item_count=package.items,
            notes=[QtiItemNote(identifier=n.identifier, message=n.message) for n in package.notes],
        )


@strawberry.type
class QtiMutations:
    @strawberry.mutation(
        extensions=[scopes(["courses:write"], ["admin"])],
        description="Import a QTI 2.1 or 3.0 package (zip) or item (XML) into a course's bank "
        "(its instructors and admins). All or nothing unless importWhatMaps is true; the "
        "report says, item by item, what mapped and what did not.",
    )
    async def import_questions(
        self,
        info: AssessmentsInfo,
        course_id: strawberry.ID,
        file: Upload,
        import_what_maps: bool = False,
    ) -> QtiImportPayload:
        upload: Any = file  # Starlette's UploadFile
        try:  # the spooled upload is closed whatever happens
            course = await visible_course(
                info.context.loaders.course, parse_id(course_id, field="courseId")
            )
            principal = info.context.require_principal()
            require_manager(principal, course, "import questions into its bank")
            data: bytes = await upload.read(MAX_PACKAGE_BYTES + 1)
        finally:
            await upload.close()
        items, resources = read_contents(data)
        mapped = [item for item in items if item.draft is not None]
        rows: list[QuestionRow] = []
        wanted = (import_what_maps or len(mapped) == len(items)) and not any(
            resource.errors for resource in resources
        )
        made: dict[str, AssessmentRow] = {}
        if resources and wanted:
            left_out(resources)
            imported = await import_all(
                info.context.service.bank.sessions,
                info.context.service.assessments,
                principal,
                course,
                [(item.identifier, item.draft, item.meta) for item in mapped if item.draft],
                resources,
            )
            rows, made = imported.questions, imported.assessments
        elif mapped and wanted:
            rows = await info.context.service.bank.create_many(
                principal, course, [(item.draft, item.meta) for item in mapped if item.draft]
            )
        done = bool(rows) or bool(made) or (bool(resources) and wanted)
        return QtiImportPayload(
            resources=[_resource_report(resource, made, done) for resource in resources],
            imported=[question_of(row, key_visible=True) for row in rows],
            items=[_item_report(item, done, item.errors) for item in items],
        )


def _item_report(item: ImportedItem | CcItem, done: bool, errors: list[str]) -> QtiItemReport:
    return QtiItemReport(
        identifier=item.identifier,
        title=item.title,
        imported=done and item.draft is not None,
        kind=None if item.draft is None else item.draft.kind.value,
        warnings=item.warnings,
        errors=errors,
    )


def _resource_report(
    resource: CcResource, made: dict[str, AssessmentRow], done: bool
) -> QtiResourceReport:
    row = made.get(resource.identifier)
    return QtiResourceReport(
        identifier=resource.identifier,
        kind=resource.kind,
        title=resource.title,
        imported=done and not resource.errors,
        warnings=resource.warnings,
        errors=resource.errors,
        items=[_item_report(item, done, []) for item in resource.items],
        assessment=None if row is None else assessment_of(row),
    )
