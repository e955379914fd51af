"""Brute-force protection for sign-in and its second step, shared by every process via Redis.

Failures are counted per account and per client address over a window. Past the limit the
key is locked out, and each further failure doubles the lockout (capped at a day). While
locked, even the right password (or code) is refused with RATE_LIMITED and the seconds to
wait, so guessing gains nothing. A success clears the account's count. Account keys are
hashed: no e-mail address is stored in Redis. A lock holds the moment it ends, read on the
throttle's clock (the wall clock; tests pass one they can move), and expires from Redis then.

One :class:`Throttle` per thing guessed, each with its own keys: ``sign-in`` counts wrong
passwords by (e-mail address, client address), so guessing from one place never locks the
account anywhere else (the account as a whole has a higher bar, with delays rather than a
lockout: :mod:`common.auth.account_guesses`); ``mfa`` counts wrong one-time codes by user id.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass

from redis.asyncio import Redis

from common.clock import Clock
from common.errors import RateLimited

MAX_LOCKOUT = 24 * 3600


WHOM = {
    "account": "this account",
    "client": "this account from your network address",
    "address": "your network address",
}


@dataclass(frozen=True)
class Rule:
    kind: str  # what the first value counts: "account", or "client" (an account at an address)
    limit: int
    lockout: int  # seconds, first lockout
    window: int = 15 * 60


class Throttle:
    def __init__(
        self,
        redis: Redis,
        per_account: Rule,
        per_address: Rule,
        *,
        name: str = "sign-in",
        attempts: str = "sign-ins",
        clock: Clock = time.time,
    ) -> None:
        self._redis = redis
        self._clock = clock
        self._rules = (per_account, per_address)
        self._name = name  # the Redis key prefix
        self._attempts = attempts  # what the RATE_LIMITED message says failed

    def _key(self, rule: Rule, value: str, part: str) -> str:
        digest = hashlib.sha256(value.encode()).hexdigest()[:32]
        return f"{self._name}:{rule.kind}:{digest}:{part}"

    def _pairs(self, account: str | None, address: str | None) -> list[tuple[Rule, str]]:
        account_rule, address_rule = self._rules
        pairs = []
        if account is not None:
            pairs.append((account_rule, account.strip().lower()))
        if address:
            pairs.append((address_rule, address))
        return pairs

    async def check(self, account: str | None, address: str | None) -> None:
        """RATE_LIMITED while the account or the address is locked out."""
        for rule, value in self._pairs(account, address):
            until = await self._redis.get(self._key(rule, value, "lock"))
            if until is None:
                continue
            wait = math.ceil(float(until) - self._clock())
            if wait > 0:
                raise RateLimited(
                    f"Too many failed {self._attempts} for {WHOM[rule.kind]}; "
                    f"try again in {wait} seconds.",
                    retry_after=wait,
                )

    async def failed(self, account: str | None, address: str | None) -> None:
        for rule, value in self._pairs(account, address):
            count_key = self._key(rule, value, "failures")
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.incr(count_key)
                pipe.expire(count_key, rule.window, nx=True)
                failures, _ = await pipe.execute()
            beyond = int(failures) - rule.limit
            if beyond >= 0:
                lockout = min(MAX_LOCKOUT, rule.lockout * 2 ** min(beyond, 20))
                until = self._clock() + lockout
                await self._redis.set(self._key(rule, value, "lock"), repr(until), ex=lockout)
                # the count must outlive the lockout, so the next failure doubles it
                await self._redis.expire(count_key, max(rule.window, lockout * 2))

    async def settle(
        self, account: str, address: str | None, proven: bool, refusal: Exception
    ) -> None:
        """Count an attempt whose answer is known: a wrong one towards a lockout, then
        ``refusal`` is raised; a right one clears the account's count."""
        if not proven:
            await self.failed(account, address)
            raise refusal
        await self.succeeded(account)

    async def succeeded(self, account: str) -> None:
        rule = self._rules[0]
        value = account.strip().lower()
        await self._redis.delete(self._key(rule, value, "failures"), self._key(rule, value, "lock"))
