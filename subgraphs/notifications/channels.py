"""The channels a notification goes out on, and the senders that speak to providers.

- EMAIL: real SMTP (aiosmtplib), a text part and, when the template is HTML, an HTML one.
- SMS and PUSH: an HTTP webhook to a provider adapter, signed with HMAC-SHA256 so the
  adapter can tell the platform's requests from forgeries, and carrying an idempotency key
  so a retried request is not delivered twice.

A sender raises DeliveryFailed: permanent when trying again cannot help (a 5xx SMTP reply,
a 4xx webhook answer other than 429 or a redirect, an address with a line break or more
than one address), transient otherwise (4xx SMTP replies, 429 and 5xx answers, timeouts,
refused connections).
Log records name the notification, never the address or the message.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from enum import StrEnum
from typing import Any, Protocol

import aiosmtplib
import httpx

log = logging.getLogger(__name__)

# A bare addr-spec: no display name, no list, no comment, no quoting.
_MAILBOX = re.compile(r"[^\s@<>,;:\"()\[\]\\]+@[^\s@<>,;:\"()\[\]\\]+")
# Anything that looks like an address, in a server's reply we keep as the failure's reason.
_ADDRESS_IN_REPLY = re.compile(r"<?[^\s<>@]+@[^\s<>]+>?")


class Channel(StrEnum):
    IN_APP = "IN_APP"
    EMAIL = "EMAIL"
    SMS = "SMS"
    PUSH = "PUSH"


@dataclass(frozen=True, slots=True)
class Outgoing:
    notification_id: uuid.UUID
    channel: Channel
    address: str  # email address, E.164 phone number or push device token
    subject: str
    text: str
    html: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)


class DeliveryFailed(Exception):
    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


class Sender(Protocol):
    channel: Channel

    async def send(self, message: Outgoing) -> str | None:
        """Hand the message to the provider; its message id if it gives one."""
        ...


def _one_line(value: str, what: str) -> str:
    if "\r" in value or "\n" in value:
        raise DeliveryFailed(f"The {what} contains a line break.", permanent=True)
    return value


def _one_address(value: str) -> str:
    """The address, when it is exactly one mailbox (no list, no display-name tricks)."""
    _one_line(value, "address")
    if not _MAILBOX.fullmatch(value):
        raise DeliveryFailed("The address is not a single email address.", permanent=True)
    return value


def _reply(error: aiosmtplib.SMTPResponseException) -> str:
    text = _ADDRESS_IN_REPLY.sub("<address>", error.message)[:200]
    return f"{error.code} {text}".strip()


class SmtpSender:
    channel = Channel.EMAIL

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        *,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = False,
        timeout: float = 10.0,
    ) -> None:
        self.host = host
        self.port = port
        self.sender = sender
        self.username = username
        self.password = password
        self.starttls = starttls
        self.timeout = timeout

    def _message(self, message: Outgoing) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = _one_address(message.address)
        mail["Subject"] = _one_line(message.subject, "subject")
        mail["Date"] = formatdate(localtime=False)
        mail["Message-ID"] = make_msgid(idstring=message.notification_id.hex)
        mail.set_content(message.text)
        if message.html is not None:
            mail.add_alternative(message.html, subtype="html")
        return mail

    async def send(self, message: Outgoing) -> str | None:
        mail = self._message(message)
        try:
            await aiosmtplib.send(
                mail,
                sender=self.sender,
                recipients=[message.address],  # the envelope, never derived from headers
                hostname=self.host,
                port=self.port,
                username=self.username,
                password=self.password,
                start_tls=self.starttls,
                timeout=self.timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as error:
            permanent = all(500 <= refused.code < 600 for refused in error.recipients)
            replies = "; ".join(_reply(refused) for refused in error.recipients)
            raise DeliveryFailed(
                f"The mail server refused the recipient: {replies}", permanent=permanent
            ) from None
        except aiosmtplib.SMTPResponseException as error:
            raise DeliveryFailed(
                f"The mail server answered {_reply(error)}", permanent=500 <= error.code < 600
            ) from None
        except (aiosmtplib.SMTPException, OSError) as error:  # OSError covers TimeoutError
            raise DeliveryFailed(
                f"The mail server could not be reached ({type(error).__name__})."
            ) from None
        log.info("email sent", extra={"notification_id": str(message.notification_id)})
        return str(mail["Message-ID"])


class WebhookSender:
    """SMS or push through a provider adapter reached over HTTP."""

    def __init__(
        self,
        channel: Channel,
        url: str,
        secret: str,
        http: httpx.AsyncClient,
        *,
        timeout: float = 10.0,
    ) -> None:
        self.channel = channel
        self.url = url
        self.secret = secret.encode()
        self.http = http
        self.timeout = timeout

    async def send(self, message: Outgoing) -> str | None:
        body = json.dumps(
            {
                "id": str(message.notification_id),
                "channel": message.channel.value,
                "to": message.address,
                "subject": message.subject,
                "text": message.text,
                "data": dict(message.data),
            },
            default=str,
        ).encode()
        signature = hmac.new(self.secret, body, hashlib.sha256).hexdigest()
        headers = {
            "content-type": "application/json",
            "x-lms-signature": f"sha256={signature}",
            "x-lms-delivery-id": f"{message.notification_id}:{message.channel.value}",
        }
        try:
            response = await self.http.post(
                self.url, content=body, headers=headers, timeout=self.timeout
            )
        except httpx.HTTPError as error:  # no text: it may hold the provider's URL
            raise DeliveryFailed(
                f"The {self.channel} provider could not be reached ({type(error).__name__})."
            ) from None
        status = response.status_code
        if status == 429 or status >= 500:
            raise DeliveryFailed(f"The {self.channel} provider answered {status}.")
        if not 200 <= status < 300:  # 4xx, and redirects: trying again will not help
            raise DeliveryFailed(
                f"The {self.channel} provider refused the message ({status}).", permanent=True
            )
        log.info(
            "webhook delivered",
            extra={"notification_id": str(message.notification_id), "channel": self.channel},
        )
        try:
            answer = response.json()
        except ValueError:
            return None
        provider_id = answer.get("id") if isinstance(answer, dict) else None
        return None if provider_id is None else str(provider_id)
