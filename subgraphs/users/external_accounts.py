"""Which account a provider's identity signs in to, linking or opening one when it is new.

The link is the provider's (issuer, subject) pair, never the email: an email address can
change hands at a provider, a subject cannot. A first sign-in links to the account with the
same email only when the provider says it verified that email; otherwise someone could
register an unverified address at a lax provider and walk into its owner's account here.
With no such account, a verified email opens a new student account without a password.
"""

from __future__ import annotations

import uuid

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from common import clock
from common.errors import BadUserInput, Unauthenticated
from subgraphs.users import audit, validation
from subgraphs.users.accounts import open_account
from subgraphs.users.audit import SecurityEventKind as Kind
from subgraphs.users.external_sign_in import ExternalIdentity
from subgraphs.users.models import ExternalIdentityRow, UserRow


async def account_for(
    session: AsyncSession, identity: ExternalIdentity, address: str | None
) -> UserRow:
    """The user the identity signs in as, locked for the rest of the transaction."""
    now = clock.now()
    link = await session.scalar(
        select(ExternalIdentityRow)
        .where(
            ExternalIdentityRow.issuer == identity.issuer,
            ExternalIdentityRow.subject == identity.subject,
        )
        .with_for_update()
    )
    if link is not None:
        link.last_sign_in_at = now
        link.email = identity.email
        return await session.get_one(UserRow, link.user_id, with_for_update=True)
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
            method=f"oidc:{identity.provider}",
        )
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
    )
    return user


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
