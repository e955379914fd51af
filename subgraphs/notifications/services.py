"""The notifications subgraph's service layer, built once at startup from the runtime:
the service, the delivery loop and the live feed."""

from __future__ import annotations

from dataclasses import dataclass

from common.auth.service_identity import ServiceIdentity
from common.db import create_engine, service_dsn, session_factory
from common.graphql.app import ServiceRuntime
from common.graphql.peers import PeerClient
from common.realtime import PubSubHub
from common.telemetry.metrics import count_statements
from subgraphs.notifications.channels import Channel, Sender, SmtpSender, WebhookSender
from subgraphs.notifications.dispatcher import Dispatcher
from subgraphs.notifications.live import BATCHES, LiveFeed
from subgraphs.notifications.people import Directory
from subgraphs.notifications.retry import RetryPolicy
from subgraphs.notifications.service import NotificationsService


@dataclass(frozen=True, slots=True)
class NotificationsServices:
    notifications: NotificationsService
    dispatcher: Dispatcher
    live: LiveFeed


def senders(runtime: ServiceRuntime) -> dict[Channel, Sender]:
    """The channels this deployment can deliver on; the others are SKIPPED."""
    settings = runtime.settings
    configured: dict[Channel, Sender] = {}
    if settings.smtp_host:
        configured[Channel.EMAIL] = SmtpSender(
            settings.smtp_host,
            settings.smtp_port,
            settings.smtp_sender,
            username=settings.smtp_username or None,
            password=settings.smtp_password or None,
            starttls=settings.smtp_starttls,
        )
    for channel, url in (
        (Channel.SMS, settings.sms_webhook_url),
        (Channel.PUSH, settings.push_webhook_url),
    ):
        if url:
            configured[channel] = WebhookSender(
                channel, url, settings.secret("webhook_secret"), runtime.http
            )
    return configured


def build_services(runtime: ServiceRuntime) -> NotificationsServices:
    settings = runtime.settings
    directory = Directory(
        users=PeerClient(runtime.http, "users", settings.service_url("users")),
        enrollments=PeerClient(runtime.http, "enrollments", settings.service_url("enrollments")),
        identity=ServiceIdentity(settings, "notifications", runtime.http),
    )
    # Background delivery has its own small pool, and its own statement count, so that it
    # neither starves requests nor blurs their SQL statement metric.
    worker_engine = create_engine(service_dsn(settings, "notifications"), pool_size=2)
    count_statements(worker_engine, "notifications-worker")
    dispatcher = Dispatcher(
        session_factory(worker_engine),
        directory,
        senders(runtime),
        platform_name=settings.platform_name,
        retry=RetryPolicy(
            max_attempts=settings.delivery_max_attempts,
            base_seconds=settings.delivery_retry_base_ms / 1000,
        ),
        engine=worker_engine,
    )
    return NotificationsServices(
        notifications=NotificationsService(
            runtime.sessions,
            directory,
            platform_name=settings.platform_name,
            wake=dispatcher.wake,
            redis=runtime.redis,
        ),
        dispatcher=dispatcher,
        live=LiveFeed(PubSubHub(runtime.redis, batches=BATCHES), runtime.verifier.revocations),
    )
