"""Registering LTI tools (administrators) and placing them in courses (their instructors)."""

from __future__ import annotations

import json
import re
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from joserfc.errors import JoseError
from joserfc.jwk import RSAKey
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from common import clock
from common.auth import Principal
from common.errors import BadUserInput, Forbidden, NotFound
from common.validation import text, url
from subgraphs.courses import access
from subgraphs.courses.lti.graded import Grading, checked, line_item_of
from subgraphs.courses.lti.models import LtiLineItemRow, LtiLinkRow, LtiToolRow
from subgraphs.courses.models import ModuleRow

MAX_REDIRECT_URIS = 10
MAX_DEPLOYMENTS = 20
MAX_KEY_CHARACTERS = 10_000
MAX_LINKS_PER_MODULE = 200
DEPLOYMENT_ID = re.compile(r"[\x21-\x7e]{1,255}")  # printable ASCII, as the spec allows


@dataclass(frozen=True, slots=True)
class ToolDraft:
    name: str
    login_url: str
    redirect_uris: Sequence[str]
    target_link_uri: str
    jwks_url: str | None = None
    public_key: str | None = None
    deployment_ids: Sequence[str] = ()
    shares_name: bool = False
    shares_email: bool = False


@dataclass(frozen=True, slots=True)
class Placement:
    """A link to place: its title, a page of the tool (None: the tool's own), and its
    grading when it is a graded item (`prefix`: how the input names the grading part)."""

    title: str
    target_link_uri: str | None = None
    grading: Grading | None = None
    prefix: str = "grading"


def _tool_url(value: str, field: str) -> str:
    # https, or http to loopback (a tool on this machine, in development and tests)
    return url(value, field=field, loopback_http=True)


def public_jwk(value: str) -> dict[str, Any]:
    """The tool's RSA public key, given as PEM or as a JWK (JSON), kept as a public JWK."""
    if len(value) > MAX_KEY_CHARACTERS:
        raise BadUserInput("publicKey is too long.", field="publicKey")
    try:
        given: str | dict[str, Any] = json.loads(value) if value.lstrip().startswith("{") else value
        key = RSAKey.import_key(given)
        key.ensure_kid()
        if key.is_private:
            raise BadUserInput(
                "publicKey holds a private key: give the tool's public key only.",
                field="publicKey",
            )
    except (JoseError, ValueError, TypeError):
        raise BadUserInput(
            "publicKey must be an RSA public key, as PEM or as a JWK.", field="publicKey"
        ) from None
    return dict(key.as_dict(private=False))


def _deployments(values: Sequence[str]) -> list[str]:
    chosen = list(dict.fromkeys(values)) or [uuid.uuid4().hex]
    if len(chosen) > MAX_DEPLOYMENTS or not all(DEPLOYMENT_ID.fullmatch(v) for v in chosen):
        raise BadUserInput(
            f"deploymentIds: at most {MAX_DEPLOYMENTS}, each 1 to 255 printable characters.",
            field="deploymentIds",
        )
    return chosen


def require_admin(principal: Principal) -> None:
    if not principal.is_admin:
        raise Forbidden("Only administrators can register LTI tools.")


class LtiTools:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def register(self, principal: Principal, draft: ToolDraft) -> LtiToolRow:
        require_admin(principal)
        if not draft.redirect_uris or len(draft.redirect_uris) > MAX_REDIRECT_URIS:
            raise BadUserInput(
                f"redirectUris: 1 to {MAX_REDIRECT_URIS} URLs.", field="redirectUris"
            )
        if (draft.jwks_url is None) == (draft.public_key is None):
            raise BadUserInput(
                "Give the tool's jwksUrl or its publicKey (one of them).", field="jwksUrl"
            )
        row = LtiToolRow(
            id=uuid.uuid4(),
            name=text(draft.name, field="name", low=1, high=200),
            client_id=secrets.token_urlsafe(24),
            deployment_ids=_deployments(draft.deployment_ids),
            login_url=_tool_url(draft.login_url, "loginUrl"),
            redirect_uris=list(
                dict.fromkeys(_tool_url(each, "redirectUris") for each in draft.redirect_uris)
            ),
            target_link_uri=_tool_url(draft.target_link_uri, "targetLinkUri"),
            jwks_url=None if draft.jwks_url is None else _tool_url(draft.jwks_url, "jwksUrl"),
            public_jwk=None if draft.public_key is None else public_jwk(draft.public_key),
            shares_name=draft.shares_name,
            shares_email=draft.shares_email,
            created_by=principal.user_id,
        )
        async with self.sessions.begin() as session:
            session.add(row)
        return row

    async def all(self, principal: Principal) -> list[LtiToolRow]:
        require_admin(principal)
        async with self.sessions() as session:
            return list(await session.scalars(select(LtiToolRow).order_by(LtiToolRow.name)))

    async def tools_by_ids(self, ids: Sequence[uuid.UUID]) -> list[LtiToolRow | None]:
        async with self.sessions() as session:
            rows = {
                row.id: row
                for row in await session.scalars(select(LtiToolRow).where(LtiToolRow.id.in_(ids)))
            }
        return [rows.get(each) for each in ids]

    async def by_client_id(self, client_id: str) -> LtiToolRow | None:
        async with self.sessions() as session:
            row: LtiToolRow | None = await session.scalar(
                select(LtiToolRow).where(LtiToolRow.client_id == client_id)
            )
            return row

    async def delete(self, principal: Principal, tool_id: uuid.UUID) -> None:
        require_admin(principal)
        async with self.sessions.begin() as session:
            row = await session.get(LtiToolRow, tool_id)
            if row is None:
                raise NotFound(f"No LTI tool has id {tool_id}.", field="id")
            await session.delete(row)

    # Placements

    async def place(
        self,
        principal: Principal,
        module_id: uuid.UUID,
        tool_id: uuid.UUID,
        placement: Placement,
        *,
        deployment_id: str | None = None,
    ) -> LtiLinkRow:
        """A resource link to the tool at the end of the module; its instructors' to make
        (every instructor may place any registered tool: registration is the vetting)."""
        [link] = await self.place_all(
            principal, module_id, tool_id, [placement], deployment_id=deployment_id
        )
        return link

    async def place_all(
        self,
        principal: Principal,
        module_id: uuid.UUID,
        tool_id: uuid.UUID,
        placements: Sequence[Placement],
        *,
        deployment_id: str | None = None,
    ) -> list[LtiLinkRow]:
        """Links placed in order, all or none (a deep linking response's content items); a
        graded one with the line item the platform makes for it (graded.py)."""
        placed: list[LtiLinkRow] = []
        async with self.sessions.begin() as session:
            module: ModuleRow = await access.editable_module(session, principal, module_id)
            tool = await session.get(LtiToolRow, tool_id)
            if tool is None:
                raise NotFound(f"No LTI tool has id {tool_id}.", field="toolId")
            deployment = deployment_id or tool.deployment_ids[0]
            if deployment not in tool.deployment_ids:
                raise BadUserInput(
                    "deploymentId is not one of the tool's deployments.", field="deploymentId"
                )
            count = await session.scalar(
                select(func.count()).where(LtiLinkRow.module_id == module_id)
            )
            if (count or 0) + len(placements) > MAX_LINKS_PER_MODULE:
                raise BadUserInput(f"A module can have at most {MAX_LINKS_PER_MODULE} LTI links.")
            for offset, placement in enumerate(placements):
                link = LtiLinkRow(
                    id=uuid.uuid4(),
                    tool_id=tool.id,
                    deployment_id=deployment,
                    course_id=module.course_id,
                    module_id=module.id,
                    title=text(placement.title, field="title", low=1, high=200),
                    target_link_uri=tool.target_link_uri
                    if placement.target_link_uri is None
                    else _tool_url(placement.target_link_uri, "targetLinkUri"),
                    position=(count or 0) + offset,
                    created_by=principal.user_id,
                )
                session.add(link)
                placed.append(link)
                if placement.grading is not None:
                    settled = checked(placement.grading, link.title, prefix=placement.prefix)
                    link.graded = True
                    link.release_immediately = settled.release_immediately
                    link.due_at = settled.due_at
                    await session.flush()  # the link before the line item that names it
                    session.add(line_item_of(link, settled))
        return placed

    async def release_grades(self, principal: Principal, link_id: uuid.UUID) -> LtiLinkRow:
        """Release a graded link's grades to its learners (the course's instructors and
        administrators); releasing again keeps the first release's time."""
        async with self.sessions.begin() as session:
            link = await session.get(LtiLinkRow, link_id, with_for_update=True)
            if link is None:
                raise NotFound(f"No LTI link has id {link_id}.", field="linkId")
            try:
                await access.editable_module(session, principal, link.module_id)
            except NotFound:
                raise NotFound(f"No LTI link has id {link_id}.", field="linkId") from None
            if not link.graded:
                raise BadUserInput("This LTI link is not graded.", field="linkId")
            link.grades_released_at = link.grades_released_at or clock.now()
        return link

    async def platform_line_items(
        self, link_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, LtiLineItemRow]:
        """The line item the platform made for each graded link among `link_ids`."""
        async with self.sessions() as session:
            return {
                row.link_id: row
                for row in await session.scalars(
                    select(LtiLineItemRow).where(
                        LtiLineItemRow.link_id.in_(link_ids), LtiLineItemRow.made_by_platform
                    )
                )
                if row.link_id is not None
            }

    async def remove(self, principal: Principal, link_id: uuid.UUID) -> uuid.UUID:
        async with self.sessions.begin() as session:
            link = await session.get(LtiLinkRow, link_id)
            if link is None:
                raise NotFound(f"No LTI link has id {link_id}.", field="id")
            await access.editable_module(session, principal, link.module_id)
            await session.delete(link)
        return link.course_id

    async def module_course(self, module_id: uuid.UUID) -> uuid.UUID | None:
        """The course a module belongs to, or None for no such module."""
        async with self.sessions() as session:
            return await session.scalar(
                select(ModuleRow.course_id).where(ModuleRow.id == module_id)
            )

    async def link(self, link_id: uuid.UUID) -> LtiLinkRow | None:
        async with self.sessions() as session:
            return await session.get(LtiLinkRow, link_id)

    async def links_of_courses(self, course_ids: Sequence[uuid.UUID]) -> list[LtiLinkRow]:
        async with self.sessions() as session:
            return list(
                await session.scalars(
                    select(LtiLinkRow)
                    .where(LtiLinkRow.course_id.in_(course_ids))
                    .order_by(LtiLinkRow.module_id, LtiLinkRow.position)
                )
            )


# For Common Cartridge (subgraphs/courses/cartridge/lti_links.py): inside the caller's
# transaction, so an imported course's links are written with the course or not at all.


async def registered_tools(session: AsyncSession) -> list[LtiToolRow]:
    """Every registered tool, to match a cartridge's links against (no caller check: an
    import only places tools an administrator registered)."""
    return list(await session.scalars(select(LtiToolRow).order_by(LtiToolRow.created_at)))


async def course_links(
    session: AsyncSession, course_id: uuid.UUID
) -> list[tuple[LtiLinkRow, LtiToolRow]]:
    """A course's links with their tools, by module and position (for its export)."""
    rows = await session.execute(
        select(LtiLinkRow, LtiToolRow)
        .join(LtiToolRow, LtiToolRow.id == LtiLinkRow.tool_id)
        .where(LtiLinkRow.course_id == course_id)
        .order_by(LtiLinkRow.module_id, LtiLinkRow.position)
    )
    return [(link, tool) for link, tool in rows]


def placed_link(
    module: ModuleRow,
    tool_id: uuid.UUID,
    deployment_id: str,
    title: str,
    target_link_uri: str,
    position: int,
    by: uuid.UUID,
) -> LtiLinkRow:
    """A link as `place_all` writes it, for a module being written in the same transaction
    (an imported course's); the title and URI are checked as `addLtiLink` checks them."""
    return LtiLinkRow(
        id=uuid.uuid4(),
        tool_id=tool_id,
        deployment_id=deployment_id,
        course_id=module.course_id,
        module_id=module.id,
        title=text(title, field="title", low=1, high=200),
        target_link_uri=_tool_url(target_link_uri, "targetLinkUri"),
        position=position,
        created_by=by,
    )
