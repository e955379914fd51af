"""The links the platform e-mails (verification, password reset), read from the mail sink."""

from __future__ import annotations

import re
import uuid
from email.message import EmailMessage

from common.settings import Settings
from tests.accounts import Account, as_users_service
from tests.sinks import SmtpSink
from tests.support import GraphQLClient, eventually

VERIFY = "verify-email"
RESET = "reset-password"
VERIFY_EMAIL = """
mutation($token: String!) { verifyEmail(input: {token: $token}) { verifiedEmail user { id } } }
"""


def text_of(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    return "" if body is None else str(body.get_content())


def tokens_in(sink: SmtpSink, to: str, page: str) -> list[str]:
    """The tokens of the ``page`` links sent to ``to`` so far, oldest first."""
    pattern = re.compile(rf"/{page}\?token=([A-Za-z0-9_-]+)")
    return [
        found.group(1)
        for message in list(sink.messages)
        if str(message["To"]) == to
        for found in [pattern.search(text_of(message))]
        if found is not None
    ]


async def nth_token(sink: SmtpSink, to: str, page: str, n: int = 1) -> str:
    """The ``n``-th ``page`` link's token sent to ``to``, waiting for it to arrive."""
    sent: list[str] = await eventually(
        lambda: (tokens := tokens_in(sink, to, page))[n - 1 :] and tokens, within=30
    )
    return sent[n - 1]


async def verify_address(
    users: GraphQLClient, sink: SmtpSink, account: Account, nth: int = 1
) -> None:
    """Open the verification link a new account was sent (the ``nth`` to its address)."""
    token = await nth_token(sink, account.email, VERIFY, nth)
    data = await users.data(VERIFY_EMAIL, {"token": token})
    assert data["verifyEmail"] == {"verifiedEmail": account.email, "user": {"id": account.id}}


async def expire_links(settings: Settings, user_id: str) -> None:
    """Move the expiry of the user's e-mailed links into the past, as time would."""
    await as_users_service(
        settings,
        "UPDATE users.email_tokens SET expires_at = now() - interval '1 second' WHERE user_id = $1",
        uuid.UUID(user_id),
    )
