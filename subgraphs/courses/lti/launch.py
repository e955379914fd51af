"""The LTI 1.3 launch: OIDC third-party-initiated login, then the platform's authorization
answer (an RS256 ID token with the LTI claims, posted by the browser to the tool).

``start`` runs for the signed-in user (a GraphQL mutation): it settles everything the
launch says (roles, context, the user's opaque subject) and keeps it in Redis for five
minutes under a random ``lti_message_hint``. The tool sends the browser back to
``/lti/authorize`` with that hint; ``complete`` takes it out of Redis (GETDEL: single use, so
a replayed authorization request finds nothing), checks the request against the tool's
registration and the hint, and signs the ID token. The hint is the proof of who launched:
our browsers hold bearer tokens, not a cookie session the authorization request could carry.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from joserfc import jwt
from joserfc.jwk import RSAKey
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from common.auth import Principal
from common.auth.keys import SIGNING_ALGORITHM
from common.errors import DomainError, ErrorCode
from subgraphs.courses.lti import vocabulary as lti
from subgraphs.courses.lti.models import LtiLineItemRow, LtiLinkRow, LtiSubjectRow, LtiToolRow
from subgraphs.courses.lti.service_tokens import GRADE_SCOPES
from subgraphs.courses.models import CourseRow

HINT_SECONDS = 300
DEEP_LINK_SECONDS = 3600  # the instructor's time to pick content in the tool
ID_TOKEN_SECONDS = 120
MAX_PARAMETER = 2048
PLATFORM_NAME = "LMS"


class LaunchRefused(DomainError):
    """An authorization request we will not answer with a token; never redirected (the
    redirect URI may be the attacker's), answered as a JSON error with its status."""

    def __init__(self, status: int, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error_code = code


@dataclass(frozen=True, slots=True)
class Presentation:
    document_target: str = "iframe"  # iframe | window
    return_url: str | None = None
    locale: str = "en"


@dataclass(frozen=True, slots=True)
class Initiation:
    """Where the browser goes first: the tool's login initiation URL and its parameters
    (GET the URL, or POST the parameters as a form)."""

    login_url: str
    parameters: dict[str, str]
    expires_in: int

    @property
    def url(self) -> str:
        separator = "&" if "?" in self.login_url else "?"
        return f"{self.login_url}{separator}{urlencode(self.parameters)}"


@dataclass(frozen=True, slots=True)
class Answer:
    """What the browser posts to the tool."""

    redirect_uri: str
    id_token: str
    state: str


def _hint_key(hint: str) -> str:
    return f"lms:lti:launch:{hashlib.sha256(hint.encode()).hexdigest()}"


def deep_link_key(data: str) -> str:
    return f"lms:lti:deep-link:{hashlib.sha256(data.encode()).hexdigest()}"


async def subject_of(session: AsyncSession, user_id: uuid.UUID) -> str:
    """The user's opaque LTI subject, made on first need and never changed."""
    await session.execute(
        insert(LtiSubjectRow)
        .values(user_id=user_id, subject=secrets.token_hex(16))
        .on_conflict_do_nothing(index_elements=[LtiSubjectRow.user_id])
    )
    subject = await session.scalar(
        select(LtiSubjectRow.subject).where(LtiSubjectRow.user_id == user_id)
    )
    assert subject is not None
    return subject


async def subjects_of(session: AsyncSession, user_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
    """Many users' opaque LTI subjects at once (a roster), made where missing."""
    if not user_ids:
        return {}
    await session.execute(
        insert(LtiSubjectRow)
        .values([{"user_id": each, "subject": secrets.token_hex(16)} for each in user_ids])
        .on_conflict_do_nothing(index_elements=[LtiSubjectRow.user_id])
    )
    rows = await session.execute(
        select(LtiSubjectRow.user_id, LtiSubjectRow.subject).where(
            LtiSubjectRow.user_id.in_(user_ids)
        )
    )
    return {row[0]: row[1] for row in rows}


class Launches:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        redis: Redis,
        *,
        issuer: str,
        keys: Callable[[], list[RSAKey]],
    ) -> None:
        self.sessions = sessions
        self.redis = redis
        self.issuer = issuer
        self._keys = keys  # read at the first launch: courses starts without LTI configured

    async def start(
        self,
        principal: Principal,
        link: LtiLinkRow,
        tool: LtiToolRow,
        course: CourseRow,
        *,
        teaches: bool,
        person: Mapping[str, str],
        presentation: Presentation,
    ) -> Initiation:
        """Prepare a resource-link launch of ``link`` by ``principal``, whose read access
        to the course the caller has checked (``teaches``: they are its instructor or an
        administrator; ``person``: their name and email, sent when the tool may see them)."""
        async with self.sessions.begin() as session:
            subject = await subject_of(session, principal.user_id)
            line_item = await session.scalar(
                select(LtiLineItemRow.id)
                .where(LtiLineItemRow.link_id == link.id, LtiLineItemRow.tool_id == tool.id)
                # a graded link's own line item first (graded.py), else the tool's first
                .order_by(LtiLineItemRow.made_by_platform.desc(), LtiLineItemRow.created_at)
                .limit(1)
            )
        line_items = f"{self.issuer}/lti/contexts/{course.id}/lineitems"
        claims: dict[str, Any] = {
            lti.MESSAGE_TYPE: lti.RESOURCE_LINK_REQUEST,
            lti.CLAIM_VERSION: lti.VERSION,
            lti.DEPLOYMENT_ID: link.deployment_id,
            lti.TARGET_LINK_URI: link.target_link_uri,
            lti.RESOURCE_LINK: {"id": str(link.id), "title": link.title},
            lti.ROLES: lti.launch_roles(principal.roles, teaches=teaches),
            **self._course_claims(course, presentation),
            lti.AGS_ENDPOINT: {
                "scope": sorted(GRADE_SCOPES),
                "lineitems": line_items,
                **({"lineitem": f"{line_items}/{line_item}"} if line_item else {}),
            },
            lti.NRPS_CLAIM: {
                "context_memberships_url": f"{self.issuer}/lti/contexts/{course.id}/memberships",
                "service_versions": ["2.0"],
            },
        }
        return await self._initiate(tool, subject, claims, person)

    async def start_deep_linking(
        self,
        principal: Principal,
        tool: LtiToolRow,
        course: CourseRow,
        module_id: uuid.UUID,
        *,
        release_grades_immediately: bool,
        person: Mapping[str, str],
        presentation: Presentation,
    ) -> Initiation:
        """Prepare a Deep Linking 2.0 launch (LtiDeepLinkingRequest) by an instructor of
        ``course`` (checked by the caller): the tool lets them pick content and posts it back
        to ``deep_link_return_url`` with ``data``, an opaque single-use value naming the
        module, the tool, the instructor and the release rule of the graded items the tool
        sends (kept in Redis; see deep_linking.py)."""
        async with self.sessions.begin() as session:
            subject = await subject_of(session, principal.user_id)
        deployment = tool.deployment_ids[0]
        data = secrets.token_urlsafe(32)
        pending = {
            "client_id": tool.client_id,
            "tool_id": str(tool.id),
            "deployment_id": deployment,
            "module_id": str(module_id),
            "user_id": str(principal.user_id),
            "roles": sorted(role.value for role in principal.roles),
            "release_grades_immediately": release_grades_immediately,
        }
        await self.redis.set(deep_link_key(data), json.dumps(pending), ex=DEEP_LINK_SECONDS)
        claims: dict[str, Any] = {
            lti.MESSAGE_TYPE: lti.DEEP_LINKING_REQUEST,
            lti.CLAIM_VERSION: lti.VERSION,
            lti.DEPLOYMENT_ID: deployment,
            lti.TARGET_LINK_URI: tool.target_link_uri,
            lti.ROLES: lti.launch_roles(principal.roles, teaches=True),
            **self._course_claims(course, presentation),
            lti.DEEP_LINKING_SETTINGS: {
                "deep_link_return_url": f"{self.issuer}/lti/deep-linking/return",
                "accept_types": ["ltiResourceLink"],
                "accept_presentation_document_targets": ["iframe", "window"],
                "accept_multiple": True,
                "data": data,
            },
        }
        return await self._initiate(tool, subject, claims, person, deployment=deployment)

    def _course_claims(self, course: CourseRow, presentation: Presentation) -> dict[str, Any]:
        return {
            lti.CONTEXT: {
                "id": str(course.id),
                "label": course.slug,
                "title": course.title,
                "type": [lti.COURSE_OFFERING],
            },
            lti.LAUNCH_PRESENTATION: {
                "document_target": presentation.document_target,
                "locale": presentation.locale,
                **({"return_url": presentation.return_url} if presentation.return_url else {}),
            },
            lti.TOOL_PLATFORM: {
                "guid": self.issuer,
                "name": PLATFORM_NAME,
                "product_family_code": "lms",
                "version": "1",
            },
        }

    async def _initiate(
        self,
        tool: LtiToolRow,
        subject: str,
        claims: dict[str, Any],
        person: Mapping[str, str],
        *,
        deployment: str | None = None,
    ) -> Initiation:
        if tool.shares_name and person.get("name"):
            claims["name"] = person["name"]
        if tool.shares_email and person.get("email"):
            claims["email"] = person["email"]
        hint = secrets.token_urlsafe(32)
        pending = {"client_id": tool.client_id, "subject": subject, "claims": claims}
        await self.redis.set(_hint_key(hint), json.dumps(pending), ex=HINT_SECONDS)
        return Initiation(
            login_url=tool.login_url,
            parameters={
                "iss": self.issuer,
                "login_hint": subject,
                "target_link_uri": claims[lti.TARGET_LINK_URI],
                "lti_message_hint": hint,
                "client_id": tool.client_id,
                "lti_deployment_id": deployment or claims[lti.DEPLOYMENT_ID],
            },
            expires_in=HINT_SECONDS,
        )

    async def complete(self, tool: LtiToolRow | None, request: Mapping[str, str]) -> Answer:
        """Answer an OIDC authentication request (LTI 1.3 §5.1.1.2) from the tool."""
        if tool is None:
            raise LaunchRefused(400, ErrorCode.BAD_USER_INPUT, "client_id is not a known tool.")
        redirect_uri = request["redirect_uri"]
        if redirect_uri not in tool.redirect_uris:
            raise LaunchRefused(
                400, ErrorCode.BAD_USER_INPUT, "redirect_uri is not registered for this tool."
            )
        expected = {
            "scope": "openid",
            "response_type": "id_token",
            "response_mode": "form_post",
            "prompt": "none",
        }
        for name, value in expected.items():
            if request.get(name) != value:
                raise LaunchRefused(400, ErrorCode.BAD_USER_INPUT, f"{name} must be {value}.")
        raw = await self.redis.getdel(_hint_key(request["lti_message_hint"]))
        if raw is None:
            raise LaunchRefused(
                400,
                ErrorCode.BAD_USER_INPUT,
                "This launch has expired or was already used; launch again from the course.",
            )
        pending = json.loads(raw)
        if pending["client_id"] != tool.client_id:
            raise LaunchRefused(403, ErrorCode.FORBIDDEN, "This launch is for another tool.")
        if not secrets.compare_digest(pending["subject"], request["login_hint"]):
            raise LaunchRefused(403, ErrorCode.FORBIDDEN, "login_hint is not the launching user.")
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": tool.client_id,
            "azp": tool.client_id,
            "sub": pending["subject"],
            "iat": now,
            "nbf": now,
            "exp": now + ID_TOKEN_SECONDS,
            "nonce": request["nonce"],
            **pending["claims"],
        }
        try:
            key = self._keys()[0]
        except FileNotFoundError:
            raise LaunchRefused(
                503, ErrorCode.SERVICE_UNAVAILABLE, "LTI launches are not configured here."
            ) from None
        header = {"alg": SIGNING_ALGORITHM, "kid": key.kid, "typ": "JWT"}
        token = jwt.encode(header, claims, key, algorithms=[SIGNING_ALGORITHM])
        return Answer(redirect_uri=redirect_uri, id_token=token, state=request["state"])
