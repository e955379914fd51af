"""Which account a provider's identity signs in to, linking or opening one when it is new.

The link is the provider's (issuer, subject) pair, never the email: an email address can
change hands at a provider, a subject cannot. A first sign-in links to the account with the
same email only when the provider says it verified that email (otherwise someone could
register an unverified address at a lax provider and walk into its owner's account here),
only when the provider is trusted to (``LMS_OIDC_<NAME>_LINK_BY_EMAIL``, off by default), and
never for an account with a role beyond STUDENT or a second factor, whatever the provider:
one provider's word must not be worth an administrator's session. Those sign-ins fail with
ACCOUNT_LINK_REQUIRED; the owner links the provider from their account, signed in
(`link`, reached by ``startExternalIdentityLink`` and ``linkExternalIdentity``). With no
account of that email, a verified email opens a new student account without a password
(given, too, the roles a SAML IdP's attributes map to: STUDENT or INSTRUCTOR, never more).
"""

from __future__ import annotations

import uuid

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from common import clock
from common.auth import Role
from common.errors import BadUserInput, Conflict, Unauthenticated
from subgraphs.users import audit, validation
from subgraphs.users.accounts import open_account
from subgraphs.users.audit import SecurityEventKind as Kind
from subgraphs.users.external_sign_in import ExternalIdentity
from subgraphs.users.mfa import Factors
from subgraphs.users.models import ExternalIdentityRow, UserRow

LINK_REQUIRED_MESSAGE = (
    "An account with this email already exists, and it is not linked to {provider}: sign in "
    "to it as usual, then link {provider} from the account (startExternalIdentityLink)."
)


class LinkRequired(Unauthenticated):
    """The email is an existing account's that only its owner, signed in, may link
    (ACCOUNT_LINK_REQUIRED at the GraphQL edge)."""

    def __init__(self, provider: str) -> None:
        super().__init__(LINK_REQUIRED_MESSAGE.format(provider=provider))
        self.provider = provider


async def account_for(
    session: AsyncSession,
    identity: ExternalIdentity,
    address: str | None,
    *,
    link_by_email: bool,
    factors: Factors,
) -> UserRow:
    """The user the identity signs in as, locked for the rest of the transaction."""
    now = clock.now()
    known = await _link_of(session, identity)
    if known is not None:
        known.last_sign_in_at = now
        known.email = identity.email
        return await session.get_one(UserRow, known.user_id, with_for_update=True)
    if identity.email is None or not identity.email_verified:
        raise Unauthenticated(
            f"{identity.provider} has not verified an email address for this account, so it "
            "cannot be matched to an account here; verify it there, or sign in with a password."
        )
    email = _acceptable_email(identity)
    user = await session.scalar(select(UserRow).where(UserRow.email == email).with_for_update())
    if user is None:
        user = await open_account(
            session,
            email=email,
            name=_display_name(identity, email),
            password_hash=None,
            address=address,
            method=f"{identity.protocol}:{identity.provider}",
            verified=True,  # the provider verified it (checked above)
        )
        if identity.roles:  # a SAML IdP's mapped roles, given to a new account only
            user.roles = sorted({Role.STUDENT.value, *identity.roles})
    elif (
        not link_by_email
        or set(user.roles) - {Role.STUDENT.value}
        or await factors.enabled(session, user.id, lock=False) is not None
    ):
        raise LinkRequired(identity.provider)
    await link(session, user, identity, address, confirmed=False)
    return user


async def link(
    session: AsyncSession,
    user: UserRow,
    identity: ExternalIdentity,
    address: str | None,
    *,
    confirmed: bool,
) -> None:
    """Let the identity sign in as the user from now on (`confirmed`: by the user, signed
    in, rather than by its email)."""
    existing = await _link_of(session, identity)
    if existing is not None:
        whose = "your" if existing.user_id == user.id else "another"
        raise Conflict(f"This {identity.provider} account is already linked to {whose} account.")
    now = clock.now()
    session.add(
        ExternalIdentityRow(
            id=uuid.uuid4(),
            user_id=user.id,
            provider=identity.provider,
            issuer=identity.issuer,
            subject=identity.subject,
            email=identity.email,
            linked_at=now,
            last_sign_in_at=now,
        )
    )
    await session.flush()  # a racing first sign-in of the same identity fails here
    audit.record(
        session,
        Kind.EXTERNAL_IDENTITY_LINKED,
        actor=user.id,
        subject=user.id,
        address=address,
        provider=identity.provider,
        confirmed_by_user=confirmed,
    )


async def _link_of(session: AsyncSession, identity: ExternalIdentity) -> ExternalIdentityRow | None:
    return await session.scalar(
        select(ExternalIdentityRow)
        .where(
            ExternalIdentityRow.issuer == identity.issuer,
            ExternalIdentityRow.subject == identity.subject,
        )
        .with_for_update()
    )


async def unlink(session: AsyncSession, user: UserRow, provider: str, address: str | None) -> None:
    """Forget the user's identity at a provider, unless it is their only way to sign in."""
    links = list(
        await session.scalars(
            select(ExternalIdentityRow)
            .where(ExternalIdentityRow.user_id == user.id)
            .with_for_update()
        )
    )
    doomed = [link for link in links if link.provider == provider]
    if not doomed:
        raise BadUserInput(f"This account is not linked to {provider[:40]!r}.", field="provider")
    if user.password_hash is None and len(doomed) == len(links):
        raise BadUserInput(
            "This is the only way this account signs in; it cannot be unlinked.", field="provider"
        )
    await session.execute(
        delete(ExternalIdentityRow).where(ExternalIdentityRow.id.in_([link.id for link in doomed]))
    )
    audit.record(
        session,
        Kind.EXTERNAL_IDENTITY_UNLINKED,
        actor=user.id,
        subject=user.id,
        address=address,
        provider=provider,
    )


async def identities_of(
    session: AsyncSession, user_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[ExternalIdentityRow]]:
    found: dict[uuid.UUID, list[ExternalIdentityRow]] = {}
    rows = await session.scalars(
        select(ExternalIdentityRow)
        .where(ExternalIdentityRow.user_id.in_(user_ids))
        .order_by(ExternalIdentityRow.user_id, ExternalIdentityRow.linked_at)
    )
    for row in rows:
        found.setdefault(row.user_id, []).append(row)
    return found


def _acceptable_email(identity: ExternalIdentity) -> str:
    assert identity.email is not None
    try:
        return validation.email(identity.email)
    except BadUserInput:
        raise Unauthenticated(
            f"The email address {identity.provider} gives is not one this platform accepts."
        ) from None


def _display_name(identity: ExternalIdentity, email: str) -> str:
    for candidate in (identity.name, email.partition("@")[0]):
        try:
            return validation.name((candidate or "")[: validation.MAX_NAME])
        except BadUserInput:
            continue
    return "New learner"
