"""Multi-factor sign-in from a client's side: an authenticator app, and the documents it sends.

The app computes RFC 6238 codes with subgraphs/users/totp.py, whose RFC test vectors are
checked in tests/unit/users/test_totp.py. The server accepts a code of the current 30 s step or
one either side, and only for a step later than the last it accepted; the app hands out the
steps in order and, when the window is used up, moves the users subgraph's clock
(tests/clock.py) to the next step instead of waiting for it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from subgraphs.users import totp
from tests.accounts import AUTH_FIELDS, PASSWORD, Account
from tests.clock import USERS_CLOCK, MovableClock
from tests.support import GraphQLClient

START = "mutation { startMfaEnrollment { secret otpauthUri } }"
CONFIRM = """
mutation($code: String!) {
  confirmMfaEnrollment(input: {code: $code}) { recoveryCodes user { id mfa { enabled } } }
}
"""
VERIFY = f"""
mutation($input: VerifyMfaInput!) {{ verifyMfa(input: $input) {{ {AUTH_FIELDS} }} }}
"""
DISABLE = """
mutation($input: DisableMfaInput!) { disableMfa(input: $input) { user { id } } }
"""
REGENERATE = """
mutation($code: String!) { regenerateRecoveryCodes(input: {code: $code}) { recoveryCodes } }
"""
MFA_STATUS = "{ me { mfa { enabled enabledAt enrollmentPending recoveryCodesRemaining } } }"
LOGIN = f"""
mutation($input: LoginInput!) {{ login(input: $input) {{ {AUTH_FIELDS} }} }}
"""
SAFETY_SECONDS = 3.0  # a code of the previous step is only used this long before it expires


@dataclass
class Authenticator:
    secret: str
    last_step: int | None = None
    shown: list[str] = field(default_factory=list)  # every code it produced, for leak checks
    clock: MovableClock = USERS_CLOCK  # the users subgraph's

    def code(self) -> str:
        """A code the server will accept: within its window, after the last one used."""
        step = self._next_step()
        self.last_step = step
        code = totp.code_of_step(self.secret, step)
        self.shown.append(code)
        return code

    def peek(self) -> str:
        """The code :meth:`code` would give, without using it up (for refused attempts)."""
        code = totp.code_of_step(self.secret, self._next_step())
        self.shown.append(code)
        return code

    def _next_step(self) -> int:
        while True:
            moment = self.clock()
            now = totp.step_at(moment)
            into_step = moment - now * totp.PERIOD
            earliest = now - 1 if totp.PERIOD - into_step > SAFETY_SECONDS else now
            if self.last_step is not None:
                earliest = max(earliest, self.last_step + 1)
            if earliest <= now + 1:
                break
            self.clock.advance((now + 1) * totp.PERIOD - moment + 0.2)
        return earliest

    def wrong_code(self) -> str:
        """Six digits that are no code of the window around now."""
        now = totp.step_at(self.clock())
        near = {totp.code_of_step(self.secret, step) for step in range(now - 3, now + 4)}
        while True:
            guess = f"{secrets.randbelow(10**6):06d}"
            if guess not in near:
                return guess


@dataclass
class MfaAccount:
    account: Account
    app: Authenticator
    recovery_codes: list[str]


async def post(
    users: GraphQLClient,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    token: str | None = None,
    address: str | None = None,
) -> dict[str, Any]:
    """A request through the router, as a client at this address (X-Forwarded-For)."""
    headers = {"x-forwarded-for": address} if address else {}
    if token:
        headers["authorization"] = f"Bearer {token}"
    response = await users.http.post(
        users.url, json={"query": query, "variables": variables or {}}, headers=headers
    )
    body: dict[str, Any] = response.json()
    return body


async def enable_mfa(users: GraphQLClient, account: Account) -> MfaAccount:
    started = (await users.data(START, token=account.access_token))["startMfaEnrollment"]
    app = Authenticator(started["secret"])
    confirmed = await users.data(CONFIRM, {"code": app.code()}, token=account.access_token)
    return MfaAccount(account, app, confirmed["confirmMfaEnrollment"]["recoveryCodes"])


async def mfa_token(
    users: GraphQLClient, email: str, password: str = PASSWORD, address: str | None = None
) -> str:
    """Sign in with the password: the challenge of the MFA_REQUIRED error."""
    body = await post(
        users, LOGIN, {"input": {"email": email, "password": password}}, address=address
    )
    assert body["errors"][0]["extensions"]["code"] == "MFA_REQUIRED", body
    token: str = body["errors"][0]["extensions"]["mfaToken"]
    return token


async def verify(
    users: GraphQLClient,
    token: str,
    *,
    code: str | None = None,
    recovery_code: str | None = None,
    address: str | None = None,
) -> dict[str, Any]:
    second: dict[str, str] = {"code": code} if code is not None else {}
    if recovery_code is not None:
        second["recoveryCode"] = recovery_code
    return await post(users, VERIFY, {"input": {"mfaToken": token, **second}}, address=address)


def fresh_address() -> str:
    """A client address of its own, so one test's failures never lock out another's."""
    return f"198.18.{secrets.randbelow(256)}.{secrets.randbelow(254) + 1}"
