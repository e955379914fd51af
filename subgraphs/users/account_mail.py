"""The account e-mails the users subgraph sends itself: the links that prove control of an
address (verification, password reset). They go out over real SMTP straight from here, not
through notifications: they carry a secret the notifications store and the event bus must
never hold, and they go to addresses that are not yet an account's (an e-mail change).

Each message is sent in the background, so that a request answers in the same time whether
or not a message was due (no account enumeration by timing); a failure is logged by kind,
never with the address or the link, and the user asks again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import aiosmtplib

from common.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class AccountMail:
    to: str
    subject: str
    text: str


class Postman:
    """Runs account work (find the account, store a token, send the mail) off the request."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._running: set[asyncio.Task[None]] = set()

    def later(self, work: Callable[[], Awaitable[None]], what: str) -> None:
        """Run ``work`` after the answer; ``what`` names it in the log if it fails."""

        async def run() -> None:
            try:
                await work()
            except Exception as error:  # logged, never raised: no one waits for it
                log.warning(
                    "account mail failed", extra={"mail": what, "error": type(error).__name__}
                )

        task = asyncio.create_task(run(), name=f"account-mail:{what}")
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def send(self, mail: AccountMail) -> None:
        settings = self._settings
        if not settings.smtp_host:
            log.warning("no SMTP server configured: account mail not sent")
            return
        message = EmailMessage()
        message["From"] = settings.smtp_sender
        message["To"] = mail.to
        message["Subject"] = mail.subject
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid()
        message.set_content(mail.text)
        await aiosmtplib.send(
            message,
            sender=settings.smtp_sender,
            recipients=[mail.to],
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username or None,
            password=settings.smtp_password or None,
            start_tls=settings.smtp_starttls,
            timeout=10.0,
        )


def verification_mail(settings: Settings, to: str, token: str) -> AccountMail:
    hours = max(1, settings.email_verification_ttl // 3600)
    return AccountMail(
        to,
        f"Confirm your e-mail address for {settings.platform_name}",
        f"Open this link to confirm that {to} is yours:\n\n"
        f"{_link(settings, 'verify-email', token)}\n\n"
        f"It works once, for {hours} hour(s). If you did not ask for it, ignore this e-mail.\n",
    )


def reset_mail(settings: Settings, to: str, token: str) -> AccountMail:
    minutes = max(1, settings.password_reset_ttl // 60)
    return AccountMail(
        to,
        f"Set a new password for {settings.platform_name}",
        "Open this link to choose a new password (every session of the account is then "
        f"signed out):\n\n{_link(settings, 'reset-password', token)}\n\n"
        f"It works once, for {minutes} minutes. If you did not ask for it, ignore this "
        "e-mail: your password stays as it is.\n",
    )


def _link(settings: Settings, page: str, token: str) -> str:
    return f"{settings.account_link_url.rstrip('/')}/{page}?token={token}"
