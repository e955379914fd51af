"""GraphQL surface of LTI: tool registration (administrators), placements (instructors),
and the launch (learners and instructors of the course)."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from common.errors import Forbidden, NotFound
from common.graphql.access import scopes, signed_in
from common.graphql.cache_control.extension import restrict_cache
from common.graphql.cache_control.hints import PRIVATE
from common.graphql.ids import graphql_id, parse_id
from common.graphql.peers import PeerClient
from common.validation import url
from subgraphs.courses.guards import course_access, require_content_access
from subgraphs.courses.loaders import CoursesInfo
from subgraphs.courses.lti import graded
from subgraphs.courses.lti.graded import Grading
from subgraphs.courses.lti.launch import Initiation, Presentation
from subgraphs.courses.lti.models import LtiLineItemRow, LtiLinkRow, LtiScoreRow, LtiToolRow
from subgraphs.courses.lti.tools import Placement, ToolDraft

ME = "{ me { name email } }"


@strawberry.type(description="An LTI 1.3 tool an administrator registered.")
class LtiTool:
    id: strawberry.ID
    name: str
    client_id: str = strawberry.field(description="Issued by the platform at registration.")
    deployment_ids: list[str]
    login_url: str = strawberry.field(description="The tool's OIDC login initiation URL.")
    redirect_uris: list[str]
    target_link_uri: str
    jwks_url: str | None
    has_public_key: bool = strawberry.field(description="A public key was given, not a URL.")
    shares_name: bool = strawberry.field(description="Launches tell the tool the user's name.")
    shares_email: bool = strawberry.field(description="Launches tell the tool the user's email.")
    created_at: datetime


def tool_of(row: LtiToolRow) -> LtiTool:
    return LtiTool(
        id=graphql_id(row.id),
        name=row.name,
        client_id=row.client_id,
        deployment_ids=list(row.deployment_ids),
        login_url=row.login_url,
        redirect_uris=list(row.redirect_uris),
        target_link_uri=row.target_link_uri,
        jwks_url=row.jwks_url,
        has_public_key=row.public_jwk is not None,
        shares_name=row.shares_name,
        shares_email=row.shares_email,
        created_at=row.created_at,
    )


@strawberry.type(
    description="The gradebook column of a graded LTI link, made by the platform at placement "
    "(an AGS line item the tool posts scores to)."
)
class LtiLineItem:
    id: strawberry.ID
    label: str
    score_maximum: float


@strawberry.type(
    description="A learner's score a tool posted back (LTI Assignment and Grade Services)."
)
class LtiGrade:
    line_item_id: strawberry.ID
    label: str
    link_id: strawberry.ID | None
    user_id: strawberry.ID
    score_given: float | None
    score_maximum: float | None
    percent: float | None = strawberry.field(description="100 * scoreGiven / scoreMaximum.")
    points: float | None = strawberry.field(
        description="The score on the line item's scale: scoreGiven / scoreMaximum * the line "
        "item's scoreMaximum (may exceed it: tools may give extra credit)."
    )
    late: bool = strawberry.field(
        description="Posted after the link's due date (kept all the same)."
    )
    comment: str | None
    activity_progress: str
    grading_progress: str
    timestamp: datetime


def grade_of(score: LtiScoreRow, item: LtiLineItemRow, link: LtiLinkRow | None) -> LtiGrade:
    scaled = (
        None
        if score.score_given is None or not score.score_maximum
        else score.score_given / score.score_maximum
    )
    return LtiGrade(
        line_item_id=graphql_id(item.id),
        label=item.label,
        link_id=None if item.link_id is None else graphql_id(item.link_id),
        user_id=graphql_id(score.user_id),
        score_given=score.score_given,
        score_maximum=score.score_maximum,
        percent=None if scaled is None else round(scaled * 100, 2),
        points=None if scaled is None else round(scaled * item.score_maximum, 4),
        late=graded.late(link, score),
        comment=score.comment,
        activity_progress=score.activity_progress,
        grading_progress=score.grading_progress,
        timestamp=score.timestamp,
    )


@strawberry.type(description="A tool placed in a course module: an LTI resource link.")
class LtiLink:
    id: strawberry.ID
    title: str
    course_id: strawberry.ID
    module_id: strawberry.ID
    position: int
    deployment_id: str
    target_link_uri: str
    graded: bool = strawberry.field(
        description="A graded item: the platform made its line item, the tool posts to it."
    )
    due_at: datetime | None = strawberry.field(
        description="When a graded link is due; later scores are kept and marked late."
    )
    release_grades_immediately: bool = strawberry.field(
        description="A graded link's learners see a FullyGraded score at once; otherwise "
        "when an instructor releases the grades."
    )
    grades_released_at: datetime | None
    created_at: datetime
    row: strawberry.Private[LtiLinkRow]

    @strawberry.field(description="The tool's name.")
    async def tool_name(self, info: CoursesInfo) -> str:
        [tool] = await info.context.service.lti_tools.tools_by_ids([self.row.tool_id])
        return tool.name if tool is not None else ""

    @strawberry.field(description="A graded link's line item; null for an ungraded link.")
    async def line_item(self, info: CoursesInfo) -> LtiLineItem | None:
        row = await info.context.loaders.lti_line_item.load(self.row.id)
        if row is None:
            return None
        return LtiLineItem(id=graphql_id(row.id), label=row.label, score_maximum=row.score_maximum)

    @strawberry.field(
        description="The caller's own grade on a graded link: for a learner, once the tool "
        "says FullyGraded and the grades are released; null before, or when not graded."
    )
    async def my_grade(self, info: CoursesInfo) -> LtiGrade | None:
        principal = info.context.caller()
        if principal is None:
            return None
        restrict_cache(info, PRIVATE)
        item = await info.context.loaders.lti_line_item.load(self.row.id)
        if item is None:
            return None
        score = await info.context.loaders.lti_score.load((item.id, principal.user_id))
        if score is None:
            return None
        _, teaches = await course_access(info, self.row.course_id)
        if not (teaches or graded.released(self.row, score)):
            return None
        return grade_of(score, item, self.row)


def link_of(row: LtiLinkRow) -> LtiLink:
    return LtiLink(
        id=graphql_id(row.id),
        title=row.title,
        course_id=graphql_id(row.course_id),
        module_id=graphql_id(row.module_id),
        position=row.position,
        deployment_id=row.deployment_id,
        target_link_uri=row.target_link_uri,
        graded=row.graded,
        due_at=row.due_at,
        release_grades_immediately=row.release_immediately,
        grades_released_at=row.grades_released_at,
        created_at=row.created_at,
        row=row,
    )


@strawberry.input
class RegisterLtiToolInput:
    name: str
    login_url: str = strawberry.field(description="The tool's OIDC login initiation URL.")
    redirect_uris: list[str] = strawberry.field(description="Where launches may be posted.")
    target_link_uri: str = strawberry.field(description="Launched when a link names none.")
    jwks_url: str | None = strawberry.field(default=None, description="The tool's public keys.")
    public_key: str | None = strawberry.field(
        default=None, description="Or its RSA public key, as PEM or JWK (JSON)."
    )
    deployment_ids: list[str] | None = strawberry.field(
        default=None, description="Its deployments here; one is made when omitted."
    )
    shares_name: bool = False
    shares_email: bool = False


@strawberry.type
class LtiToolPayload:
    tool: LtiTool


@strawberry.input(description="A graded link's line item and the release rule of its grades.")
class LtiGradingInput:
    score_maximum: float = strawberry.field(description="Above 0, at most 10000.")
    label: str | None = strawberry.field(
        default=None, description="The gradebook column's label; the link's title when omitted."
    )
    release_immediately: bool = strawberry.field(
        default=True,
        description="Learners see a FullyGraded score at once; otherwise after releaseLtiGrades.",
    )
    due_at: datetime | None = strawberry.field(
        default=None, description="Shown on the link; later scores are kept, marked late."
    )


@strawberry.input
class AddLtiLinkInput:
    module_id: strawberry.ID
    tool_id: strawberry.ID
    title: str
    target_link_uri: str | None = strawberry.field(
        default=None, description="A page of the tool; the tool's own when omitted."
    )
    deployment_id: str | None = strawberry.field(
        default=None, description="One of the tool's deployments; its first when omitted."
    )
    grading: LtiGradingInput | None = strawberry.field(
        default=None,
        description="Place the tool as a graded item: the platform makes its line item.",
    )


@strawberry.input
class ReleaseLtiGradesInput:
    link_id: strawberry.ID


@strawberry.type
class LtiLinkPayload:
    link: LtiLink


@strawberry.type
class RemoveLtiLinkPayload:
    id: strawberry.ID


@strawberry.enum
class LtiDocumentTarget(Enum):
    IFRAME = "iframe"
    WINDOW = "window"


@strawberry.input
class LaunchLtiLinkInput:
    id: strawberry.ID
    document_target: LtiDocumentTarget = LtiDocumentTarget.IFRAME
    return_url: str | None = strawberry.field(
        default=None, description="Where the tool may send the user back."
    )


@strawberry.input
class StartLtiDeepLinkingInput:
    module_id: strawberry.ID
    tool_id: strawberry.ID
    release_grades_immediately: bool = strawberry.field(
        default=True,
        description="For the graded items the tool sends back (a content item with a "
        "lineItem): learners see a FullyGraded score at once; otherwise after releaseLtiGrades.",
    )
    document_target: LtiDocumentTarget = LtiDocumentTarget.IFRAME
    return_url: str | None = strawberry.field(
        default=None, description="Where the tool may send the user back."
    )


@strawberry.type
class LtiParameter:
    name: str
    value: str


@strawberry.type(
    description="The first step of a launch: send the browser to `initiationUrl` (or POST "
    "`parameters` to `loginUrl`) within `expiresIn` seconds; the launch can be used once."
)
class LtiLaunch:
    initiation_url: str
    login_url: str
    parameters: list[LtiParameter]
    expires_in: int


@strawberry.type(description="What a tool's administrator configures about this platform.")
class LtiPlatform:
    issuer: str
    authorization_url: str = strawberry.field(description="The OIDC authorization endpoint.")
    jwks_url: str = strawberry.field(description="The platform's public keys.")


@strawberry.type
class LtiQueries:
    @strawberry.field(
        extensions=[scopes(["admin"])], description="This platform, as tools know it."
    )
    def lti_platform(self, info: CoursesInfo) -> LtiPlatform:
        info.context.require_principal()
        base = info.context.request.app.state.runtime.settings.public_service_url("courses")
        return LtiPlatform(
            issuer=base,
            authorization_url=f"{base}/lti/authorize",
            jwks_url=f"{base}/.well-known/jwks.json",
        )

    @strawberry.field(
        extensions=[scopes(["admin"])], description="Registered LTI tools (administrators)."
    )
    async def lti_tools(self, info: CoursesInfo) -> list[LtiTool]:
        rows = await info.context.service.lti_tools.all(info.context.require_principal())
        return [tool_of(row) for row in rows]

    @strawberry.field(
        extensions=[signed_in()],
        description="Scores tools posted in a course: all of them for its instructors, a "
        "learner's own once the tool has finished grading (FullyGraded) and, on a graded "
        "link, once its grades are released.",
    )
    async def lti_grades(self, info: CoursesInfo, course_id: strawberry.ID) -> list[LtiGrade]:
        principal = info.context.require_principal()
        course = parse_id(course_id, field="courseId")
        await require_content_access(info, course)
        _, teaches = await course_access(info, course)
        rows = await info.context.service.lti_grades.grades_of_course(
            course, None if teaches else [principal.user_id]
        )
        return [
            grade_of(score, item, link)
            for score, item, link in rows
            if teaches or graded.released(link, score)
        ]

    @strawberry.field(description="The LTI links placed in a course, by module and position.")
    async def lti_links(self, info: CoursesInfo, course_id: strawberry.ID) -> list[LtiLink]:
        course, _ = await course_access(info, parse_id(course_id, field="courseId"))
        rows = await info.context.service.lti_tools.links_of_courses([course.id])
        return [link_of(row) for row in rows]


@strawberry.type
class LtiMutations:
    @strawberry.mutation(
        extensions=[scopes(["admin"])],
        description="Register an LTI 1.3 tool; the answer holds the client id issued to it.",
    )
    async def register_lti_tool(
        self, info: CoursesInfo, input: RegisterLtiToolInput
    ) -> LtiToolPayload:
        draft = ToolDraft(
            name=input.name,
            login_url=input.login_url,
            redirect_uris=input.redirect_uris,
            target_link_uri=input.target_link_uri,
            jwks_url=input.jwks_url,
            public_key=input.public_key,
            deployment_ids=input.deployment_ids or (),
            shares_name=input.shares_name,
            shares_email=input.shares_email,
        )
        row = await info.context.service.lti_tools.register(info.context.require_principal(), draft)
        return LtiToolPayload(tool=tool_of(row))

    @strawberry.mutation(extensions=[scopes(["admin"])], description="Remove a tool and its links.")
    async def delete_lti_tool(self, info: CoursesInfo, id: strawberry.ID) -> RemoveLtiLinkPayload:
        await info.context.service.lti_tools.delete(info.context.require_principal(), parse_id(id))
        return RemoveLtiLinkPayload(id=id)

    @strawberry.mutation(
        extensions=[scopes(["courses:write"], ["admin"])],
        description="Place a registered tool at the end of a module (the course's instructors).",
    )
    async def add_lti_link(self, info: CoursesInfo, input: AddLtiLinkInput) -> LtiLinkPayload:
        row = await info.context.service.lti_tools.place(
            info.context.require_principal(),
            parse_id(input.module_id, field="moduleId"),
            parse_id(input.tool_id, field="toolId"),
            Placement(
                input.title,
                input.target_link_uri,
                grading=None
                if input.grading is None
                else Grading(
                    score_maximum=input.grading.score_maximum,
                    label=input.grading.label,
                    release_immediately=input.grading.release_immediately,
                    due_at=input.grading.due_at,
                ),
            ),
            deployment_id=input.deployment_id,
        )
        return LtiLinkPayload(link=link_of(row))

    @strawberry.mutation(
        extensions=[scopes(["courses:write"], ["admin"])],
        description="Show a graded link's learners their FullyGraded scores (the course's "
        "instructors and administrators).",
    )
    async def release_lti_grades(
        self, info: CoursesInfo, input: ReleaseLtiGradesInput
    ) -> LtiLinkPayload:
        row = await info.context.service.lti_tools.release_grades(
            info.context.require_principal(), parse_id(input.link_id, field="linkId")
        )
        return LtiLinkPayload(link=link_of(row))

    @strawberry.mutation(extensions=[scopes(["courses:write"], ["admin"])])
    async def remove_lti_link(self, info: CoursesInfo, id: strawberry.ID) -> RemoveLtiLinkPayload:
        await info.context.service.lti_tools.remove(info.context.require_principal(), parse_id(id))
        return RemoveLtiLinkPayload(id=id)

    @strawberry.mutation(
        extensions=[scopes(["learning:write"])],
        description="Start an LTI launch of a link, for the course's learners and instructors.",
    )
    async def launch_lti_link(self, info: CoursesInfo, input: LaunchLtiLinkInput) -> LtiLaunch:
        principal = info.context.require_principal()
        service = info.context.service
        link_id = parse_id(input.id)
        link = await service.lti_tools.link(link_id)
        if link is None:
            raise NotFound(f"No LTI link has id {link_id}.", field="id")
        try:
            await require_content_access(info, link.course_id)
        except NotFound:
            raise NotFound(f"No LTI link has id {link_id}.", field="id") from None
        course, teaches = await course_access(info, link.course_id)
        [tool] = await service.lti_tools.tools_by_ids([link.tool_id])
        if tool is None:
            raise NotFound(f"No LTI link has id {link_id}.", field="id")
        initiation = await service.lti_launches.start(
            principal,
            link,
            tool,
            course,
            teaches=teaches,
            person=await _person(info, tool),
            presentation=Presentation(
                document_target=input.document_target.value,
                return_url=None
                if input.return_url is None
                else url(input.return_url, field="returnUrl", loopback_http=True),
            ),
        )
        return _launch_of(initiation)

    @strawberry.mutation(
        extensions=[scopes(["courses:write"], ["admin"])],
        description="Start an LTI Deep Linking launch: the course's instructor picks content in "
        "the tool, and what the tool sends back is added to the module as LTI links.",
    )
    async def start_lti_deep_linking(
        self, info: CoursesInfo, input: StartLtiDeepLinkingInput
    ) -> LtiLaunch:
        principal = info.context.require_principal()
        service = info.context.service
        module_id = parse_id(input.module_id, field="moduleId")
        course_id = await service.lti_tools.module_course(module_id)
        if course_id is None:
            raise NotFound(f"No module has id {module_id}.", field="moduleId")
        try:
            course, teaches = await course_access(info, course_id)
        except NotFound:
            raise NotFound(f"No module has id {module_id}.", field="moduleId") from None
        if not teaches:
            raise Forbidden("Only the course's instructors add content from a tool.")
        tool_id = parse_id(input.tool_id, field="toolId")
        [tool] = await service.lti_tools.tools_by_ids([tool_id])
        if tool is None:
            raise NotFound(f"No LTI tool has id {tool_id}.", field="toolId")
        initiation = await service.lti_launches.start_deep_linking(
            principal,
            tool,
            course,
            module_id,
            release_grades_immediately=input.release_grades_immediately,
            person=await _person(info, tool),
            presentation=Presentation(
                document_target=input.document_target.value,
                return_url=None
                if input.return_url is None
                else url(input.return_url, field="returnUrl", loopback_http=True),
            ),
        )
        return _launch_of(initiation)


async def _person(info: CoursesInfo, tool: LtiToolRow) -> dict[str, str]:
    """The caller's name and email (as the users subgraph tells the caller), when the tool's
    registration shares them."""
    if not (tool.shares_name or tool.shares_email):
        return {}
    runtime = info.context.request.app.state.runtime
    users = PeerClient(runtime.http, "users", runtime.settings.service_url("users"))
    data = await users.query(
        ME, {}, authorization=info.context.request.headers.get("authorization")
    )
    return {key: str(value) for key, value in (data.get("me") or {}).items() if value}


def _launch_of(initiation: Initiation) -> LtiLaunch:
    return LtiLaunch(
        initiation_url=initiation.url,
        login_url=initiation.login_url,
        parameters=[LtiParameter(name=k, value=v) for k, v in initiation.parameters.items()],
        expires_in=initiation.expires_in,
    )
