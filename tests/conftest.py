"""Session fixtures: real PostgreSQL, Redis and RabbitMQ started once per test session.

Each server runs from local binaries on a free port, with its data in a temporary folder;
the environment the services read their settings from points at them.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator, Mapping
from pathlib import Path
from secrets import token_urlsafe
from typing import Any

import httpx
import pytest
import yaml
from starlette.applications import Starlette

from common.auth.principal import SERVICE_CLIENT_SCOPES
from common.auth.revocations import RevocationList
from common.db import migrations
from common.db.provisioning import provision
from common.events.worker import run_worker
from common.infra.ports import free_port
from common.infra.postgres import PostgresServer
from common.infra.rabbitmq import RabbitMQServer
from common.infra.redis import RedisServer
from common.settings import Settings
from grader.worker import run_grader
from lms import services
from lms.compose import SUPERGRAPH_PATH
from lms.dev import ROUTER_CONFIG
from lms.services import available_services
from router.config import RouterConfig
from router.policies.api_keys import ApiKeyConfig
from router.policies.authentication import JwtConfig
from router.subscriptions.limits import SubscriptionLimits
from subgraphs.users import app as users_app
from tests.clock import USERS_CLOCK, MovableClock
from tests.identity_providers import ProviderPorts
from tests.saml_idp import SamlFiles
from tests.sinks import SmtpSink, WebhookSink
from tests.support import GraphQLClient, serve

ADMIN_PASSWORD = "test-admin-password"


@pytest.fixture(scope="session")
def state_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("state")


@pytest.fixture(scope="session")
def postgres(state_dir: Path) -> Iterator[PostgresServer]:
    with PostgresServer(
        state_dir / "postgres", free_port(), password=ADMIN_PASSWORD, fast=True
    ) as server:
        yield server


@pytest.fixture(scope="session")
def redis_server(state_dir: Path) -> Iterator[RedisServer]:
    with RedisServer(state_dir / "redis", free_port()) as server:
        yield server


@pytest.fixture(scope="session")
def rabbitmq(state_dir: Path) -> Iterator[RabbitMQServer]:
    with RabbitMQServer(state_dir / "rabbitmq", free_port()) as server:
        yield server


@pytest.fixture(scope="session")
def smtp_sink() -> Iterator[SmtpSink]:
    """A real SMTP server on loopback: the mail the platform sends lands here."""
    with SmtpSink() as sink:
        yield sink


@pytest.fixture(scope="session")
def webhook_port() -> int:
    return free_port()


@pytest.fixture(scope="session")
async def webhook_sink(webhook_port: int) -> AsyncIterator[WebhookSink]:
    """The SMS and push providers' side of the webhook adapter."""
    async with WebhookSink(port=webhook_port) as sink:
        yield sink


@pytest.fixture(scope="session")
def provider_ports() -> ProviderPorts:
    """Ports of the external OpenID providers (tests/identity_providers.py), chosen before
    the users subgraph reads its settings; each provider starts when a test needs it."""
    return ProviderPorts.pick()


@pytest.fixture(scope="session")
def saml_files(tmp_path_factory: pytest.TempPathFactory) -> SamlFiles:
    """Where the SAML IdPs' metadata and our SP's key go (tests/saml_idp.py), named in the
    settings before the IdPs are made."""
    return SamlFiles.pick(tmp_path_factory.mktemp("saml"))


@pytest.fixture(scope="session")
def settings(
    provider_ports: ProviderPorts,
    saml_files: SamlFiles,
    state_dir: Path,
    postgres: PostgresServer,
    redis_server: RedisServer,
    rabbitmq: RabbitMQServer,
    smtp_sink: SmtpSink,
    webhook_port: int,
) -> Iterator[Settings]:
    environment = {
        "LMS_ENV": "test",
        "LMS_STATE_DIR": str(state_dir),
        "LMS_PG_PORT": str(postgres.port),
        "LMS_PG_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "LMS_PG_SERVICE_PASSWORD": "test-service-password",
        **{f"LMS_{name.upper()}_PORT": str(free_port()) for name in available_services()},
        "LMS_UPLOAD_DIR": str(state_dir / "uploads"),
        "LMS_MAX_ATTACHMENT_BYTES": str(256 * 1024),
        "LMS_LOG_LEVEL": "WARNING",
        "LMS_REDIS_URL": f"redis://127.0.0.1:{redis_server.port}/0",
        "LMS_SIGN_IN_LOCKOUT": "1",  # seconds: short, and tests move the clock past them
        "LMS_SIGN_IN_GUESSES_PER_ACCOUNT_HOUR": "20",  # a bar the benchmark test reaches fast
        # most tests register from 127.0.0.1; the throttle's own test runs a users subgraph
        # with a low limit (tests/integration/users/test_registration_throttle.py)
        "LMS_REGISTRATIONS_PER_ADDRESS_HOUR": "100000",
        "LMS_SUBMISSION_GRACE_SECONDS": "0",
        # the assessments worker calibrates every second; items count after 3 responses
        "LMS_CALIBRATION_INTERVAL_SECONDS": "1",
        "LMS_IRT_MIN_RESPONSES": "3",
        "LMS_COURSE_EMBEDDING_INTERVAL_SECONDS": "1",  # the courses worker embeds changes
        "LMS_ACTIVITIES_PER_USER_MINUTE": "30",  # recordActivity's limit, reached in its test
        "LMS_SMTP_HOST": "127.0.0.1",
        "LMS_SMTP_PORT": str(smtp_sink.port),
        "LMS_SMS_WEBHOOK_URL": f"http://127.0.0.1:{webhook_port}/sms",
        "LMS_PUSH_WEBHOOK_URL": f"http://127.0.0.1:{webhook_port}/push",
        "LMS_WEBHOOK_SECRET": "test-webhook-secret",
        "LMS_DELIVERY_MAX_ATTEMPTS": "3",
        "LMS_DELIVERY_RETRY_BASE_MS": "50",
        "LMS_AMQP_URL": rabbitmq.url,
        "LMS_EVENT_RETRY_DELAYS_MS": "100,200,400",
        # each service's own client secret (the users subgraph hashes them in this process)
        **{
            f"LMS_CLIENT_SECRET_{name.upper()}": token_urlsafe(32) for name in SERVICE_CLIENT_SCOPES
        },
        **provider_ports.environment(),
        **saml_files.environment(),
    }
    with pytest.MonkeyPatch.context() as patch:
        for name, value in environment.items():
            patch.setenv(name, value)
        yield Settings.from_env()


@pytest.fixture(scope="session")
async def migrated(settings: Settings) -> Settings:
    names = available_services()
    await provision(settings, names)
    for name in names:
        await asyncio.to_thread(migrations.upgrade, settings, name)
    return settings


@pytest.fixture(scope="session")
async def subgraph_urls(migrated: Settings) -> AsyncIterator[dict[str, str]]:
    """Every subgraph of the tree, each a real uvicorn server on its own port, with its
    outbox relay and event consumers running beside it (as `lms worker` runs them), and a
    grader worker (as `lms grader` runs it)."""
    async with contextlib.AsyncExitStack() as stack:
        urls = {
            name: await stack.enter_async_context(
                serve(subgraph_app(name, migrated), migrated.service_port(name))
            )
            for name in available_services()
        }
        workers = [
            asyncio.create_task(run_worker(services.spec(name), migrated), name=f"{name}-worker")
            for name in available_services()
        ]
        workers.append(asyncio.create_task(run_grader(migrated), name="grader"))  # `lms grader`
        try:
            yield urls
        finally:
            await stopped(workers)


async def stopped(workers: list[asyncio.Task[None]], bound: float = 60.0) -> None:
    """Cancel the workers and wait for them, within a bound: a worker that swallows its
    cancellation fails the session's teardown by name instead of hanging it."""
    for worker in workers:
        worker.cancel()
    _, pending = await asyncio.wait(workers, timeout=bound)
    if pending:
        names = ", ".join(sorted(task.get_name() for task in pending))
        raise RuntimeError(f"workers did not stop within {bound:.0f} s of a cancel: {names}")


def subgraph_app(name: str, settings: Settings) -> Starlette:
    """The subgraph as `lms serve` builds it; users reads codes and lockouts on the clock
    tests move (tests/clock.py)."""
    if name == "users":
        return users_app.create_app(settings, clock=USERS_CLOCK)
    return services.create_app(name, settings)


@pytest.fixture(scope="session")
def clock() -> MovableClock:
    return USERS_CLOCK


@pytest.fixture(scope="session")
async def users_url(subgraph_urls: dict[str, str]) -> str:
    return subgraph_urls["users"]


@pytest.fixture(scope="session")
async def http() -> AsyncIterator[httpx.AsyncClient]:
    # A client must drop idle connections before the servers close them
    # (router.server.http_protocol.KEEP_ALIVE_SECONDS), or it may reuse one just as the
    # server closes it and the request fails with ReadError. Ours drop them well before.
    limits = httpx.Limits(keepalive_expiry=1.0)
    async with httpx.AsyncClient(timeout=30.0, limits=limits) as client:
        yield client


@pytest.fixture(scope="session")
async def router_url(subgraph_urls: dict[str, str], migrated: Settings) -> AsyncIterator[str]:
    """The router on the checked-in supergraph, pointed at the subgraphs of this session,
    verifying access tokens against the users subgraph's JWKS (as `lms dev` runs it)."""
    async with serve_router(subgraph_urls, migrated) as url:
        yield url


@contextlib.asynccontextmanager
async def serve_router(
    subgraph_urls: dict[str, str],
    settings: Settings,
    subscriptions: SubscriptionLimits | None = None,
    trusted_proxies: tuple[str, ...] = ("127.0.0.1",),
    sections: Mapping[str, Any] | None = None,
) -> AsyncIterator[str]:
    """A router on the checked-in supergraph and these subgraphs, verifying tokens. By
    default it trusts the X-Forwarded-For of 127.0.0.1: the tests connect from there and play
    the ingress, naming the client address they act as. `sections` of router.yaml are added
    to its configuration; it multiplexes subscriptions as the shipped one does (a
    `subscription` section replaces that)."""
    from router.server import create_app

    app = create_app(
        SUPERGRAPH_PATH.read_text(),
        {name: f"{url}/graphql" for name, url in subgraph_urls.items()},
        authentication=router_authentication(settings),
        # a revoked key lingers a second at most in the tests (60 by default)
        api_keys=ApiKeyConfig(f"{subgraph_urls['users']}/auth/api-key-token", cache_seconds=1),
        subscriptions=subscriptions,
        config=RouterConfig.model_validate(
            {
                "rate_limit": {"trusted_proxies": list(trusted_proxies)},
                "headers": SHIPPED_HEADER_RULES,
                "subscription": SHIPPED_SUBSCRIPTIONS,
                **(sections or {}),
            }
        ),
    )
    async with serve(app, free_port()) as url:
        yield url


# the shipped router.yaml's header rules (the User-Agent passed on to the users subgraph)
SHIPPED_HEADER_RULES = yaml.safe_load(ROUTER_CONFIG.read_text())["headers"]
# and its subscriptions to the notifications subgraph, all on one shared socket
SHIPPED_SUBSCRIPTIONS = yaml.safe_load(ROUTER_CONFIG.read_text())["subscription"]


def router_authentication(settings: Settings) -> JwtConfig:
    """As `lms router serve` wires the router: the platform's revocation list plugged in."""
    return JwtConfig(
        (settings.jwks_url,),
        settings.jwt_issuer,
        settings.jwt_audience,
        settings.clock_skew,
        revocations=RevocationList.from_url(settings.redis_url),
    )


@pytest.fixture(scope="session")
async def users_subgraph(users_url: str, http: httpx.AsyncClient) -> GraphQLClient:
    """The users subgraph called directly: for its federation surface and its own limits."""
    return GraphQLClient(http, f"{users_url}/graphql")


@pytest.fixture(scope="session")
async def users(router_url: str, http: httpx.AsyncClient) -> GraphQLClient:
    """The graph as clients see it: through the router."""
    return GraphQLClient(http, f"{router_url}/graphql")


PASSED = pytest.StashKey[bool]()


@pytest.hookimpl(tryfirst=True)  # before the tmp_path plugin reads the option
def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("LMS_ENV", "test")
    if config.option.basetemp is None:
        # Not under /tmp/pytest-of-<user>: every pytest session that starts takes that
        # folder's search bit away again (pytest resets it to 0700), and the servers this
        # session runs as their own users (PostgreSQL: `hand_over`) then lose their data
        # directory mid-run (a PANIC on pg_control, and every later test fails).
        config.option.basetemp = tempfile.mkdtemp(prefix="lms-pytest-")


def pytest_unconfigure(config: pytest.Config) -> None:
    """A passing session's folder goes; a failing one's stays for its logs."""
    folder = Path(config.option.basetemp)
    if folder.name.startswith("lms-pytest-") and config.stash.get(PASSED, False):
        shutil.rmtree(folder, ignore_errors=True)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    session.config.stash[PASSED] = exitstatus == 0
