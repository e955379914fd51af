"""Senders against real receivers: SMTP to the SmtpSink, HTTP to the WebhookSink."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import uuid
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from common.infra.ports import free_port
from subgraphs.notifications.channels import (
    Channel,
    DeliveryFailed,
    Outgoing,
    SmtpSender,
    WebhookSender,
)
from tests.sinks import SmtpSink, WebhookSink

SECRET = "webhook-test-secret"
SENDER = "LMS <noreply@lms.test>"


def outgoing(channel: Channel = Channel.EMAIL, /, **changes: object) -> Outgoing:
    values: dict[str, object] = {
        "notification_id": uuid.uuid4(),
        "channel": channel,
        "address": "learner@example.test" if channel is Channel.EMAIL else "+15550100",
        "subject": "You are enrolled in Algebra",
        "text": "Welcome to Algebra. Happy learning!",
        "html": None,
        "data": {"course": "algebra"},
    }
    values.update(changes)
    return Outgoing(**values)  # type: ignore[arg-type]


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    with SmtpSink() as sink:
        yield sink


@pytest.fixture
def mailer(smtp: SmtpSink) -> SmtpSender:
    return SmtpSender("127.0.0.1", smtp.port, SENDER, timeout=2.0)


@pytest.fixture
async def webhook() -> AsyncIterator[WebhookSink]:
    async with WebhookSink() as sink:
        yield sink


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


def sms(url: str, http: httpx.AsyncClient, *, timeout: float = 2.0) -> WebhookSender:
    return WebhookSender(Channel.SMS, f"{url}/sms", SECRET, http, timeout=timeout)


# --- email ---------------------------------------------------------------------------------


async def test_mail_arrives_with_headers_text_and_html(smtp: SmtpSink, mailer: SmtpSender) -> None:
    message = outgoing(subject="Grüße: you are in", html="<p>Welcome to <b>Algebra</b></p>")
    message_id = await mailer.send(message)
    mail = await smtp.wait_for(lambda m: m["To"] == "learner@example.test", within=5)
    assert mail["Subject"] == "Grüße: you are in"
    assert mail["From"] == SENDER
    assert mail["Message-ID"] == message_id
    assert message.notification_id.hex in str(message_id)
    assert mail["Date"]
    assert mail.get_content_type() == "multipart/alternative"
    text = mail.get_body(("plain",))
    html = mail.get_body(("html",))
    assert text is not None
    assert html is not None
    assert text.get_content().strip() == "Welcome to Algebra. Happy learning!"
    assert html.get_content().strip() == "<p>Welcome to <b>Algebra</b></p>"


async def test_text_only_mail_is_a_single_plain_part(smtp: SmtpSink, mailer: SmtpSender) -> None:
    await mailer.send(outgoing())
    mail = await smtp.wait_for(lambda m: True, within=5)
    assert mail.get_content_type() == "text/plain"
    assert not mail.is_multipart()


@pytest.mark.parametrize(
    "changes",
    [
        {"subject": "Hello\r\nBcc: victim@example.test"},
        {"subject": "Hello\nX-Injected: yes"},
        {"address": "learner@example.test\r\nBcc: victim@example.test"},
        {"address": "learner@example.test, victim@example.test"},
        {"address": "Learner <victim@example.test>"},
        {"address": "not-an-address"},
    ],
)
async def test_header_injection_is_refused_for_good_and_nothing_is_sent(
    smtp: SmtpSink, mailer: SmtpSender, changes: dict[str, str]
) -> None:
    with pytest.raises(DeliveryFailed) as failed:
        await mailer.send(outgoing(**changes))
    assert failed.value.permanent
    # the sink records a message before it answers the client: none is on its way
    assert smtp.messages == []


async def test_smtp_550_is_permanent(smtp: SmtpSink, mailer: SmtpSender) -> None:
    smtp.refuse_next(550)
    with pytest.raises(DeliveryFailed) as failed:
        await mailer.send(outgoing())
    assert failed.value.permanent
    assert "550" in failed.value.reason
    assert smtp.messages == []


async def test_smtp_451_is_transient_and_the_retry_goes_through(
    smtp: SmtpSink, mailer: SmtpSender
) -> None:
    smtp.refuse_next(451)
    message = outgoing()
    with pytest.raises(DeliveryFailed) as failed:
        await mailer.send(message)
    assert not failed.value.permanent
    assert "451" in failed.value.reason
    await mailer.send(message)
    await smtp.wait_for(lambda m: True, within=5)
    assert len(smtp.messages) == 1


async def test_refused_recipient_keeps_the_reply_code_and_hides_the_address(
    smtp: SmtpSink, mailer: SmtpSender
) -> None:
    smtp.refuse_recipients(550)
    with pytest.raises(DeliveryFailed) as failed:
        await mailer.send(outgoing())
    assert failed.value.permanent
    assert "550" in failed.value.reason
    assert "learner@example.test" not in failed.value.reason
    smtp.refuse_recipients(450)
    with pytest.raises(DeliveryFailed) as failed:
        await mailer.send(outgoing())
    assert not failed.value.permanent


async def test_mail_server_down_is_transient() -> None:
    mailer = SmtpSender("127.0.0.1", free_port(), SENDER, timeout=2.0)
    with pytest.raises(DeliveryFailed) as failed:
        await mailer.send(outgoing())
    assert not failed.value.permanent


async def test_logs_name_the_notification_never_the_address_or_body(
    smtp: SmtpSink, mailer: SmtpSender, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    message = outgoing(text="secret body text")
    await mailer.send(message)
    records = [r for r in caplog.records if r.name == "subgraphs.notifications.channels"]
    assert records
    assert all(getattr(r, "notification_id", None) == str(message.notification_id) for r in records)
    for record in records:
        line = f"{record.getMessage()} {record.__dict__}"
        assert "learner@example.test" not in line
        assert "secret body text" not in line


# --- webhooks ------------------------------------------------------------------------------


async def test_webhook_is_signed_and_carries_an_idempotency_key(
    webhook: WebhookSink, http: httpx.AsyncClient
) -> None:
    message = outgoing(Channel.SMS)
    provider_id = await sms(webhook.url, http).send(message)
    request = await webhook.wait_for(lambda r: r["path"] == "/sms", within=5)
    assert provider_id == "provider-1"
    expected = hmac.new(SECRET.encode(), request["body"], hashlib.sha256).hexdigest()
    assert hmac.compare_digest(request["headers"]["x-lms-signature"], f"sha256={expected}")
    forged = hmac.new(b"another secret", request["body"], hashlib.sha256).hexdigest()
    assert request["headers"]["x-lms-signature"] != f"sha256={forged}"
    assert request["headers"]["x-lms-delivery-id"] == f"{message.notification_id}:SMS"
    assert request["json"] == {
        "id": str(message.notification_id),
        "channel": "SMS",
        "to": "+15550100",
        "subject": "You are enrolled in Algebra",
        "text": "Welcome to Algebra. Happy learning!",
        "data": {"course": "algebra"},
    }
    assert json.loads(request["body"]) == request["json"]


@pytest.mark.parametrize(
    ("status", "permanent"),
    [(500, False), (503, False), (429, False), (400, True), (404, True), (301, True)],
)
async def test_webhook_answers_decide_transient_or_permanent(
    webhook: WebhookSink, http: httpx.AsyncClient, status: int, permanent: bool
) -> None:
    webhook.respond_with(status)
    sender = WebhookSender(Channel.PUSH, f"{webhook.url}/push", SECRET, http, timeout=2.0)
    with pytest.raises(DeliveryFailed) as failed:
        await sender.send(outgoing(Channel.PUSH, address="device-token"))
    assert failed.value.permanent is permanent
    assert str(status) in failed.value.reason
    assert webhook.requests[-1]["status"] == status
    assert await sender.send(outgoing(Channel.PUSH, address="device-token")) is not None


async def test_webhook_timeout_is_transient(http: httpx.AsyncClient) -> None:
    finished = asyncio.Event()

    async def never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(65536)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(finished.wait(), 5)
        writer.close()

    server = await asyncio.start_server(never_answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        with pytest.raises(DeliveryFailed) as failed:
            await sms(f"http://127.0.0.1:{port}", http, timeout=0.3).send(outgoing(Channel.SMS))
        assert not failed.value.permanent
        assert "Timeout" in failed.value.reason
    finally:
        finished.set()
        server.close()
        await server.wait_closed()


async def test_webhook_provider_down_is_transient(http: httpx.AsyncClient) -> None:
    with pytest.raises(DeliveryFailed) as failed:
        await sms(f"http://127.0.0.1:{free_port()}", http).send(outgoing(Channel.SMS))
    assert not failed.value.permanent
    assert SECRET not in failed.value.reason
