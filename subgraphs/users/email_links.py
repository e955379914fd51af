"""Links e-mailed to prove control of an address: to verify it (after registration, on a
re-send, for a new address) and to reset the password (which also sets one on an account
that signs in only with an external provider).

A link carries a random token, stored as its SHA-256. It works once, until it expires, only
while it is its user's latest link of its purpose, and only for the address it was sent to:
a link to an address the account no longer has (or no longer asks for) is refused.

An e-mail change keeps the old address until the new one is verified: the account never
stands on an address nobody has shown to read (a typo would lock its owner out of password
resets, and a stolen session could not move the account away without the new mailbox).

Asking for a password reset answers the same, after the same work, for every well-formed
address: the account is looked up, the token stored and the mail sent in the background
(:class:`~subgraphs.users.account_mail.Postman`), throttled per client address and per
address typed, which are known before the account is.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from common import clock
from common.auth import Principal
from common.auth.quota import Quota
from common.auth.throttle import Throttle
from common.errors import BadUserInput, Conflict, Forbidden, NotFound
from common.events.envelope import Event
from common.events.outbox import emit
from common.settings import Settings
from subgraphs.users import audit, validation
from subgraphs.users.account_mail import AccountMail, Postman, reset_mail, verification_mail
from subgraphs.users.audit import SecurityEventKind as Kind
from subgraphs.users.models import EVENTS, EmailTokenRow, UserRow
from subgraphs.users.passwords import digest, verify_password

LINK_UNKNOWN = "This link is not valid; ask for a new one."
LINK_USED = "This link was already used; ask for a new one."
LINK_EXPIRED = "This link has expired; ask for a new one."
LINK_STALE = "This link was sent to an address the account no longer has; ask for a new one."
LINK_FOREIGN = "This link is another account's; sign out to open it."  # not spent


class Purpose(StrEnum):
    VERIFY_EMAIL = "verify_email"
    RESET_PASSWORD = "reset_password"


@dataclass(frozen=True, slots=True)
class Redeemed:
    """A link that works, spent in the caller's transaction, and its user, locked."""

    user: UserRow
    email: str


class EmailLinks:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        settings: Settings,
        postman: Postman,
        *,
        verification_mails: Quota,
        resets_per_email: Quota,
        resets_per_address: Quota,
        refused: Throttle,
    ) -> None:
        self._sessions = sessions
        self._settings = settings
        self.postman = postman
        self._verification_mails = verification_mails  # re-sends and changes, by user id
        self._resets_per_email = resets_per_email
        self._resets_per_address = resets_per_address
        self._refused = refused  # spent, expired and unknown links, by client address
        self._ttl = {
            Purpose.VERIFY_EMAIL: timedelta(seconds=settings.email_verification_ttl),
            Purpose.RESET_PASSWORD: timedelta(seconds=settings.password_reset_ttl),
        }

    # Issuing

    async def issue(
        self, session: AsyncSession, user_id: uuid.UUID, purpose: Purpose, email: str
    ) -> AccountMail:
        """A new link (the user's earlier ones of this purpose stop working), as the mail
        that carries it; send it once the transaction is committed."""
        await session.execute(
            delete(EmailTokenRow).where(
                EmailTokenRow.user_id == user_id, EmailTokenRow.purpose == purpose.value
            )
        )
        token = secrets.token_urlsafe(32)
        now = clock.now()
        session.add(
            EmailTokenRow(
                id=uuid.uuid4(),
                user_id=user_id,
                purpose=purpose.value,
                email=email,
                token_hash=digest(token),
                created_at=now,
                expires_at=now + self._ttl[purpose],
            )
        )
        if purpose is Purpose.VERIFY_EMAIL:
            return verification_mail(self._settings, email, token)
        return reset_mail(self._settings, email, token)

    def send_later(self, mail: AccountMail, what: str) -> None:
        self.postman.later(lambda: self.postman.send(mail), what)

    async def resend_verification(self, principal: Principal) -> UserRow:
        """A new verification link to the address waiting for it (the pending one, if any)."""
        await self._verification_mails.take(
            str(principal.user_id), "Too many verification e-mails for this account"
        )
        async with self._sessions.begin() as session:
            user = await _locked(session, principal.user_id)
            if user.pending_email is None and user.email_verified_at is not None:
                raise BadUserInput("Your e-mail address is already verified.")
            mail = await self.issue(
                session, user.id, Purpose.VERIFY_EMAIL, user.pending_email or user.email
            )
        self.send_later(mail, "verification")
        return user

    async def request_email_change(
        self,
        principal: Principal,
        new_email: str,
        current_password: str | None,
        address: str | None,
        password_checks: Throttle,
    ) -> UserRow:
        """Ask to move the account to ``new_email``: a link goes there; the account keeps
        its address until the link is opened. Needs the current password, when the account
        has one (throttled as changePassword is)."""
        email = validation.email(new_email, field="newEmail")
        account = str(principal.user_id)
        await password_checks.check(account, address)
        async with self._sessions() as session:
            user = await session.get(UserRow, principal.user_id)
            taken = await session.scalar(select(UserRow.id).where(UserRow.email == email))
        if user is None:
            raise NotFound("The account behind this access token no longer exists.")
        if user.password_hash is not None:
            right = current_password is not None and await verify_password(
                user.password_hash, current_password
            )
            wrong = BadUserInput("currentPassword is not your password.", field="currentPassword")
            await password_checks.settle(account, address, right, wrong)
        if email == user.email:
            raise BadUserInput("newEmail is already your address.", field="newEmail")
        if taken is not None:
            raise Conflict("An account with this email already exists.", field="newEmail")
        await self._verification_mails.take(
            account, "Too many verification e-mails for this account"
        )
        async with self._sessions.begin() as session:
            user = await _locked(session, principal.user_id)
            user.pending_email = email
            user.updated_at = clock.now()
            mail = await self.issue(session, user.id, Purpose.VERIFY_EMAIL, email)
            audit.record(
                session,
                Kind.EMAIL_CHANGE_REQUESTED,
                actor=principal.user_id,
                subject=user.id,
                address=address,
            )
        self.send_later(mail, "verification")
        return user

    async def request_password_reset(self, email: str, address: str | None) -> None:
        """The same answer, after the same work, whether or not an account has ``email``."""
        typed = validation.email(email)
        await self._resets_per_address.take(
            address or "unknown", "Too many password resets asked from your network address"
        )
        await self._resets_per_email.take(typed, "Too many password resets for this address")

        async def reset_if_known() -> None:
            async with self._sessions.begin() as session:
                user = await session.scalar(
                    select(UserRow).where(UserRow.email == typed).with_for_update()
                )
                if user is None:
                    return
                mail = await self.issue(session, user.id, Purpose.RESET_PASSWORD, user.email)
                audit.record(
                    session,
                    Kind.PASSWORD_RESET_REQUESTED,
                    actor=None,
                    subject=user.id,
                    address=address,
                )
            await self.postman.send(mail)

        self.postman.later(reset_if_known, "password reset")

    # Redeeming

    async def redeem(
        self,
        session: AsyncSession,
        token: str,
        purpose: Purpose,
        address: str | None,
        principal: Principal | None = None,
    ) -> Redeemed:
        """Spend the link in the session's transaction, or BAD_USER_INPUT saying why it
        does not work (FORBIDDEN: another account's, opened while signed in). Refused links
        count towards the client address's lockout."""
        await self._refused.check(None, address)
        row = await session.scalar(
            select(EmailTokenRow)
            .where(
                EmailTokenRow.token_hash == digest(validation.email_token(token)),
                EmailTokenRow.purpose == purpose.value,
            )
            .with_for_update()
        )
        problem = _problem(row)
        if row is None or problem is not None:
            await self._refused.failed(None, address)
            raise BadUserInput(problem or LINK_UNKNOWN, field="token")
        if principal is not None and principal.user_id != row.user_id:
            raise Forbidden(LINK_FOREIGN)
        user = await _locked(session, row.user_id)
        proves = {user.email} | (
            {user.pending_email}
            if purpose is Purpose.VERIFY_EMAIL and user.pending_email
            else set()
        )
        if row.email not in proves:
            await self._refused.failed(None, address)
            raise BadUserInput(LINK_STALE, field="token")
        row.used_at = clock.now()
        return Redeemed(user, row.email)

    async def verify_email(
        self, token: str, address: str | None, principal: Principal | None
    ) -> UserRow:
        """The address the link was sent to is verified: the account's, or the one it asked
        to change to, which becomes its address."""
        try:
            return await self._verify_email(token, address, principal)
        except IntegrityError:  # the new address registered at this very moment
            raise Conflict("An account with this email already exists.", field="token") from None

    async def _verify_email(
        self, token: str, address: str | None, principal: Principal | None
    ) -> UserRow:
        async with self._sessions.begin() as session:
            redeemed = await self.redeem(session, token, Purpose.VERIFY_EMAIL, address, principal)
            user = redeemed.user
            changed = redeemed.email != user.email
            if changed:
                taken = await session.scalar(
                    select(UserRow.id).where(UserRow.email == redeemed.email)
                )
                if taken is not None:
                    raise Conflict("An account with this email already exists.", field="token")
                user.email = redeemed.email
                user.pending_email = None
                # a reset link to the old address proves nothing any more
                await session.execute(delete(EmailTokenRow).where(EmailTokenRow.user_id == user.id))
            await mark_verified(session, user)
            audit.record(
                session,
                Kind.EMAIL_VERIFIED,
                actor=user.id,
                subject=user.id,
                address=address,
                changed=changed,
            )
        return user


async def mark_verified(session: AsyncSession, user: UserRow) -> None:
    """The user proved they read mail at their address: announced the first time, so that
    what waited for it (the welcome e-mail) goes out."""
    now = clock.now()
    if user.email_verified_at is None:
        await emit(
            session,
            EVENTS.outbox,
            Event("user.email_verified", {"user_id": str(user.id)}, "users"),
        )
    user.email_verified_at = now
    user.updated_at = now


def _problem(row: EmailTokenRow | None) -> str | None:
    if row is None:
        return LINK_UNKNOWN
    if row.used_at is not None:
        return LINK_USED
    if row.expires_at <= clock.now():
        return LINK_EXPIRED
    return None


async def _locked(session: AsyncSession, user_id: uuid.UUID) -> UserRow:
    user = await session.get(UserRow, user_id, with_for_update=True)
    if user is None:
        raise NotFound("The account behind this link no longer exists.")
    return user
