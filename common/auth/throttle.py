"""Brute-force protection for sign-in, shared by every process through Redis.

Failures are counted per account and per client address over a window. Past the limit the
key is locked out, and each further failure doubles the lockout (capped at a day). While
locked, even the right password is refused with RATE_LIMITED and the seconds to wait, so
guessing gains nothing. A successful sign-in clears the account's count. Account keys are
hashed: no e-mail address is stored in Redis.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from redis.asyncio import Redis

from common.errors import RateLimited

MAX_LOCKOUT = 24 * 3600


@dataclass(frozen=True)
class Rule:
    kind: str  # "account" or "address"
    limit: int
    lockout: int  # seconds, first lockout
    window: int = 15 * 60


def _key(rule: Rule, value: str, part: str) -> str:
    digest = hashlib.sha256(value.encode()).hexdigest()[:32]
    return f"sign-in:{rule.kind}:{digest}:{part}"


class SignInThrottle:
    def __init__(self, redis: Redis, per_account: Rule, per_address: Rule) -> None:
        self._redis = redis
        self._rules = (per_account, per_address)

    def _pairs(self, account: str, address: str | None) -> list[tuple[Rule, str]]:
        account_rule, address_rule = self._rules
        pairs = [(account_rule, account.strip().lower())]
        if address:
            pairs.append((address_rule, address))
        return pairs

    async def check(self, account: str, address: str | None) -> None:
        for rule, value in self._pairs(account, address):
            wait = await self._redis.ttl(_key(rule, value, "lock"))
            if wait > 0:
                whom = "this account" if rule.kind == "account" else "your network address"
                raise RateLimited(
                    f"Too many failed sign-ins for {whom}; try again in {wait} seconds."
                )

    async def failed(self, account: str, address: str | None) -> None:
        for rule, value in self._pairs(account, address):
            count_key = _key(rule, value, "failures")
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.incr(count_key)
                pipe.expire(count_key, rule.window, nx=True)
                failures, _ = await pipe.execute()
            beyond = int(failures) - rule.limit
            if beyond >= 0:
                lockout = min(MAX_LOCKOUT, rule.lockout * 2 ** min(beyond, 20))
                await self._redis.set(_key(rule, value, "lock"), "1", ex=lockout)
                # the count must outlive the lockout, so the next failure doubles it
                await self._redis.expire(count_key, max(rule.window, lockout * 2))

    async def succeeded(self, account: str) -> None:
        rule = self._rules[0]
        value = account.strip().lower()
        await self._redis.delete(_key(rule, value, "failures"), _key(rule, value, "lock"))
