"""Multi-factor authentication with an authenticator app (TOTP) and recovery codes.

Enrolment starts with a fresh secret (pending: sign-in is unchanged) and is confirmed by a
first code, which enables it and returns ten single-use recovery codes, shown once and
stored hashed. Once enabled, a right password no longer signs in: ``login`` answers
MFA_REQUIRED with a challenge token, traded with a code (or a recovery code) for tokens by
``UsersService.verify_mfa``. Every failed code counts towards a lockout, per account and per
client address (``common/auth/throttle.py``), and every step is in the audit log.
"""

from __future__ import annotations

import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from common.auth import Principal
from common.auth.throttle import Throttle
from common.clock import Clock
from common.errors import BadUserInput, Conflict, Forbidden, NotFound, Unauthenticated
from subgraphs.users import audit, totp, validation
from subgraphs.users.audit import SecurityEventKind as Kind
from subgraphs.users.models import MfaChallengeRow, RecoveryCodeRow, TotpFactorRow, UserRow
from subgraphs.users.passwords import digest, verify_password
from subgraphs.users.sealing import SecretBox

CHALLENGE_TTL = timedelta(minutes=5)
RECOVERY_CODES = 10
MFA_REQUIRED_MESSAGE = (
    "This account uses multi-factor authentication: send a code from your authenticator app "
    "(or a recovery code) with the mfaToken to verifyMfa."
)
WRONG_CODE = "code is not the current code of your authenticator app."


class MfaRequired(Unauthenticated):
    """The password was right; the second factor is due (MFA_REQUIRED at the GraphQL edge)."""

    def __init__(self, mfa_token: str, expires_in: int) -> None:
        super().__init__(MFA_REQUIRED_MESSAGE)
        self.mfa_token = mfa_token
        self.expires_in = expires_in


@dataclass(frozen=True, slots=True)
class MfaEnrollment:
    secret: str
    otpauth_uri: str


@dataclass(frozen=True, slots=True)
class MfaStatus:
    enabled: bool
    enabled_at: datetime | None
    enrollment_pending: bool
    recovery_codes_remaining: int


NO_MFA = MfaStatus(
    enabled=False, enabled_at=None, enrollment_pending=False, recovery_codes_remaining=0
)


def _now() -> datetime:
    return datetime.now(UTC)


def _recovery_hash(user_id: uuid.UUID, code: str) -> str:
    return digest(f"{user_id}:{code}")


def new_recovery_code() -> str:
    raw = "".join(
        secrets.choice(validation.RECOVERY_ALPHABET) for _ in range(validation.RECOVERY_LENGTH)
    )
    return "-".join(raw[index : index + 4] for index in range(0, len(raw), 4))


class Factors:
    """A user's second factors, read and changed inside the caller's transaction."""

    def __init__(self, box: SecretBox, clock: Clock = time.time) -> None:
        self._box = box
        self._clock = clock  # the time one-time codes are checked at

    async def factor(
        self, session: AsyncSession, user_id: uuid.UUID, *, lock: bool
    ) -> TotpFactorRow | None:
        return await session.get(TotpFactorRow, user_id, with_for_update=lock)

    async def enabled(
        self, session: AsyncSession, user_id: uuid.UUID, *, lock: bool
    ) -> TotpFactorRow | None:
        factor = await self.factor(session, user_id, lock=lock)
        return factor if factor is not None and factor.enabled_at is not None else None

    def seal(self, user_id: uuid.UUID, secret: str) -> bytes:
        return self._box.seal(secret, user_id.bytes)

    def accept_code(self, factor: TotpFactorRow, code: str) -> bool:
        """True for a code of the drift window later than the last one accepted (which it
        then becomes); the factor's row must be locked."""
        secret = self._box.open(factor.secret_sealed, factor.user_id.bytes)
        if not self._box.is_current(factor.secret_sealed):  # the key was rotated since
            factor.secret_sealed = self._box.seal(secret, factor.user_id.bytes)
        step = totp.matching_step(secret, code, after=factor.last_used_step, moment=self._clock())
        if step is None:
            return False
        factor.last_used_step = step
        return True

    async def reseal_some(self, session: AsyncSession, batch: int = 500) -> int:
        """Seal again with the current key up to ``batch`` secrets sealed with a previous
        one (after a key rotation, so that key can be dropped); how many were. Rows are
        locked, so a sign-in at the same moment waits instead of being undone."""
        current = self._box.current_prefix
        factors = await session.scalars(
            select(TotpFactorRow)
            .where(func.substring(TotpFactorRow.secret_sealed, 1, len(current)) != current)
            .order_by(TotpFactorRow.user_id)
            .limit(batch)
            .with_for_update()
        )
        resealed = 0
        for factor in factors:
            secret = self._box.open(factor.secret_sealed, factor.user_id.bytes)
            factor.secret_sealed = self._box.seal(secret, factor.user_id.bytes)
            resealed += 1
        return resealed

    async def use_recovery_code(
        self, session: AsyncSession, user_id: uuid.UUID, code: str
    ) -> int | None:
        """Spend a recovery code: the number left afterwards, or None when it is not one."""
        row = await session.scalar(
            select(RecoveryCodeRow)
            .where(
                RecoveryCodeRow.user_id == user_id,
                RecoveryCodeRow.code_hash == _recovery_hash(user_id, code),
                RecoveryCodeRow.used_at.is_(None),
            )
            .with_for_update()
        )
        if row is None:
            return None
        row.used_at = _now()
        await session.flush()
        return await self.recovery_codes_left(session, user_id)

    async def recovery_codes_left(self, session: AsyncSession, user_id: uuid.UUID) -> int:
        left = await session.scalar(
            select(func.count())
            .select_from(RecoveryCodeRow)
            .where(RecoveryCodeRow.user_id == user_id, RecoveryCodeRow.used_at.is_(None))
        )
        return int(left or 0)

    async def new_recovery_codes(self, session: AsyncSession, user_id: uuid.UUID) -> list[str]:
        """Replace every recovery code of the user; the plain codes exist only in the answer."""
        await session.execute(delete(RecoveryCodeRow).where(RecoveryCodeRow.user_id == user_id))
        codes = [new_recovery_code() for _ in range(RECOVERY_CODES)]
        session.add_all(
            RecoveryCodeRow(
                id=uuid.uuid4(),
                user_id=user_id,
                code_hash=_recovery_hash(user_id, validation.recovery_code(code)),
            )
            for code in codes
        )
        return codes

    async def open_challenge(self, session: AsyncSession, user_id: uuid.UUID) -> str:
        """A new sign-in challenge; the user's spent and expired ones are cleared away."""
        now = _now()
        await session.execute(
            delete(MfaChallengeRow).where(
                MfaChallengeRow.user_id == user_id,
                (MfaChallengeRow.expires_at <= now) | MfaChallengeRow.used_at.is_not(None),
            )
        )
        token = secrets.token_urlsafe(32)
        session.add(
            MfaChallengeRow(
                id=uuid.uuid4(),
                user_id=user_id,
                token_hash=digest(token),
                created_at=now,
                expires_at=now + CHALLENGE_TTL,
            )
        )
        return token

    async def challenge(
        self, session: AsyncSession, token: str, *, lock: bool
    ) -> MfaChallengeRow | None:
        query = select(MfaChallengeRow).where(MfaChallengeRow.token_hash == digest(token))
        return await session.scalar(query.with_for_update() if lock else query)

    async def remove_all(self, session: AsyncSession, user_id: uuid.UUID) -> None:
        for table in (TotpFactorRow, RecoveryCodeRow, MfaChallengeRow):
            await session.execute(delete(table).where(table.user_id == user_id))


class MfaService:
    """Enrolment and management of a signed-in user's second factor."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        factors: Factors,
        throttle: Throttle,
    ) -> None:
        self.sessions = sessions
        self._factors = factors
        self._throttle = throttle

    async def start_enrollment(self, principal: Principal, address: str | None) -> MfaEnrollment:
        async with self.sessions.begin() as session:
            # the user's row, locked, serialises enrolments racing to create the factor's row
            user = await _user(session, principal.user_id, lock=True)
            factor = await self._factors.factor(session, user.id, lock=True)
            if factor is not None and factor.enabled_at is not None:
                raise Conflict(
                    "Multi-factor authentication is already enabled; disable it first to "
                    "enrol another authenticator."
                )
            secret = totp.new_secret()
            if factor is None:
                session.add(
                    TotpFactorRow(
                        user_id=user.id,
                        secret_sealed=self._factors.seal(user.id, secret),
                        created_at=_now(),
                    )
                )
            else:  # a pending enrolment is replaced: the old secret stops working
                factor.secret_sealed = self._factors.seal(user.id, secret)
                factor.created_at = _now()
                factor.last_used_step = None
            audit.record(
                session,
                Kind.MFA_ENROLLMENT_STARTED,
                actor=user.id,
                subject=user.id,
                address=address,
                replaced_pending=factor is not None,
            )
            return MfaEnrollment(secret, totp.provisioning_uri(secret, user.email))

    async def confirm_enrollment(
        self, principal: Principal, code: str, address: str | None
    ) -> list[str]:
        code = validation.totp_code(code)
        account = str(principal.user_id)
        await self._throttle.check(account, address)
        async with self.sessions.begin() as session:
            factor = await self._factors.factor(session, principal.user_id, lock=True)
            if factor is None:
                raise Conflict("No enrolment is pending: start one with startMfaEnrollment.")
            if factor.enabled_at is not None:
                raise Conflict("Multi-factor authentication is already enabled.")
            accepted = self._factors.accept_code(factor, code)
            codes: list[str] = []
            if accepted:
                factor.enabled_at = _now()
                codes = await self._factors.new_recovery_codes(session, principal.user_id)
                audit.record(
                    session,
                    Kind.MFA_ENABLED,
                    actor=principal.user_id,
                    subject=principal.user_id,
                    address=address,
                    method="totp",
                )
            else:
                self._failure(session, principal, address, "confirm", "wrong_code")
        await self._throttle.settle(
            account, address, accepted, BadUserInput(WRONG_CODE, field="code")
        )
        return codes

    async def disable(
        self,
        principal: Principal,
        user_id: uuid.UUID,
        *,
        password: str | None,
        code: str | None,
        address: str | None,
    ) -> UserRow:
        """Turn MFA off, proven by the caller's own password or current code; an
        administrator may turn it off for someone who lost their authenticator."""
        if not principal.is_self_or_admin(user_id):
            raise Forbidden("You can only turn off your own multi-factor authentication.")
        validation.one_proof(password=password, code=code)
        if code is not None:
            code = validation.totp_code(code)
        account = str(principal.user_id)
        await self._throttle.check(account, address)
        async with self.sessions.begin() as session:
            target = await _user(session, user_id)
            if await self._factors.enabled(session, user_id, lock=True) is None:
                raise Conflict("Multi-factor authentication is not enabled for this account.")
            proven = await self._proof(session, principal, password=password, code=code)
            if proven:
                await self._factors.remove_all(session, user_id)
                audit.record(
                    session,
                    Kind.MFA_DISABLED,
                    actor=principal.user_id,
                    subject=user_id,
                    address=address,
                    method="password" if password is not None else "totp",
                )
            else:
                reason = "wrong_password" if password is not None else "wrong_code"
                self._failure(session, principal, address, "disable", reason)
        wrong = (
            BadUserInput("password is not your password.", field="password")
            if password is not None
            else BadUserInput(WRONG_CODE, field="code")
        )
        await self._throttle.settle(account, address, proven, wrong)
        return target

    async def regenerate_recovery_codes(
        self, principal: Principal, code: str, address: str | None
    ) -> list[str]:
        code = validation.totp_code(code)
        account = str(principal.user_id)
        await self._throttle.check(account, address)
        async with self.sessions.begin() as session:
            factor = await self._factors.enabled(session, principal.user_id, lock=True)
            if factor is None:
                raise Conflict("Multi-factor authentication is not enabled for this account.")
            accepted = self._factors.accept_code(factor, code)
            codes: list[str] = []
            if accepted:
                codes = await self._factors.new_recovery_codes(session, principal.user_id)
                audit.record(
                    session,
                    Kind.RECOVERY_CODES_REGENERATED,
                    actor=principal.user_id,
                    subject=principal.user_id,
                    address=address,
                    remaining=len(codes),
                )
            else:
                self._failure(session, principal, address, "regenerate", "wrong_code")
        await self._throttle.settle(
            account, address, accepted, BadUserInput(WRONG_CODE, field="code")
        )
        return codes

    async def _proof(
        self,
        session: AsyncSession,
        principal: Principal,
        *,
        password: str | None,
        code: str | None,
    ) -> bool:
        """The caller's own password, or a current code of the caller's own authenticator."""
        caller = await _user(session, principal.user_id)
        if password is not None:
            return await verify_password(caller.password_hash, password)
        factor = await self._factors.enabled(session, caller.id, lock=True)
        return factor is not None and code is not None and self._factors.accept_code(factor, code)

    def _failure(
        self,
        session: AsyncSession,
        principal: Principal,
        address: str | None,
        operation: str,
        reason: str,
    ) -> None:
        """A wrong proof from a signed-in caller, about their own account."""
        audit.record(
            session,
            Kind.MFA_CHALLENGE_FAILED,
            actor=principal.user_id,
            subject=principal.user_id,
            address=address,
            operation=operation,
            reason=reason,
        )

    async def statuses(self, user_ids: list[uuid.UUID]) -> dict[uuid.UUID, MfaStatus]:
        async with self.sessions() as session:
            factors = {
                row.user_id: row
                for row in await session.scalars(
                    select(TotpFactorRow).where(TotpFactorRow.user_id.in_(user_ids))
                )
            }
            counts = await session.execute(
                select(RecoveryCodeRow.user_id, func.count())
                .where(RecoveryCodeRow.user_id.in_(user_ids), RecoveryCodeRow.used_at.is_(None))
                .group_by(RecoveryCodeRow.user_id)
            )
            left = {user_id: int(count) for user_id, count in counts}
        return {
            user_id: MfaStatus(
                enabled=factor.enabled_at is not None,
                enabled_at=factor.enabled_at,
                enrollment_pending=factor.enabled_at is None,
                recovery_codes_remaining=left.get(user_id, 0),
            )
            for user_id, factor in factors.items()
        }


async def _user(session: AsyncSession, user_id: uuid.UUID, *, lock: bool = False) -> UserRow:
    user = await session.get(UserRow, user_id, with_for_update=lock)
    if user is None:
        raise NotFound(f"No user has id {user_id}.", field="userId")
    return user
