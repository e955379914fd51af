"""``lms dev``: the whole platform on this machine, from local binaries, until Ctrl-C.

Nothing starts unless every port the run listens on is free. Every process must be alive,
and answer its health check where it has one, before the URLs are printed. A process that
exits later stops the run: it is named with its exit code, everything else is stopped, and
``lms dev`` exits with status 1 (no restarts: a crash is a bug to read about, not to hide).
With ``--with-monitoring``, Prometheus scrapes every process of the run, the alert rules loaded.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from common.auth.keys import load_signing_key
from common.infra import Server, ServerStartError, start_all
from common.infra.mail import MailCatcher
from common.infra.ports import LOOPBACK, free_port, is_port_free
from common.infra.postgres import PostgresServer
from common.infra.process import end_process, wait_until
from common.infra.prometheus import PrometheusServer
from common.infra.rabbitmq import RabbitMQServer
from common.infra.redis import RedisServer
from common.settings import DEV_ENVIRONMENTS, Settings
from lms import dev_secrets, services
from lms.cli import migrate, seed
from lms.errors import FAILURE, CommandError
from lms.monitoring import RULES, platform_targets, scrape_config

ROOT = Path(__file__).resolve().parents[1]
SUPERGRAPH = ROOT / "schema" / "supergraph.graphql"
ROUTER_CONFIG = ROOT / "router.yaml"
STARTUP_TIMEOUT = 120.0  # seconds for a service to answer /health (2 cores, all at once)
STOP_TIMEOUT = 15.0
WATCH_INTERVAL = 0.5  # seconds between checks that every process is still running


@dataclass(frozen=True, slots=True)
class Listener:
    """A port the run listens on, who listens, and the setting that moves it."""

    port: int
    host: str
    owner: str
    variable: str


@dataclass(frozen=True, slots=True)
class Child:
    """A process ``lms dev`` started (a subgraph, a worker, the router)."""

    name: str
    process: subprocess.Popen[bytes]

    def exited(self) -> str | None:
        code = self.process.poll()
        return (
            None
            if code is None
            else f"{self.name} (pid {self.process.pid}) exited with code {code}"
        )


def run_dev(settings: Settings, with_monitoring: bool = False) -> int:
    names = services.available_services()
    check_ports(listeners(settings, names, with_monitoring))
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # stop as Ctrl-C does
    try:
        with (
            infrastructure(settings) as servers,
            mail_catcher(settings),
            supervised() as children,
            contextlib.ExitStack() as monitoring,
        ):
            own = dev_secrets.generate(names)
            with dev_secrets.exported(own):
                migrate(settings, names)
                for line in seed(settings, names):
                    print(line)
            make_dev_signing_keys(settings)
            worker_ports = start_services(settings, names, children, own)
            if with_monitoring:
                server = monitoring.enter_context(prometheus(settings, names, worker_ports))
                print(f"Prometheus     {server.url} (pid {server.pid}), alerts: {RULES}")
                servers = [*servers, server]
            failure = first_exit(children, servers)
            if failure is None:
                print("\nCtrl-C stops everything.", flush=True)
                failure = watch(children, servers)
    except ServerStartError as error:
        hint = "" if error.log is None else f" (log: {error.log})"
        raise CommandError(f"{error.server} did not start: {error.reason}{hint}", FAILURE) from None
    except KeyboardInterrupt:
        print("stopped", flush=True)
        return 0
    raise CommandError(f"{failure}; stopped everything else", FAILURE)


def listeners(
    settings: Settings, names: Sequence[str], with_monitoring: bool = False
) -> list[Listener]:
    """Every port this run will listen on."""
    ports = [
        Listener(settings.pg_port, LOOPBACK, "PostgreSQL", "LMS_PG_PORT"),
        Listener(settings.redis_port, LOOPBACK, "Redis", "LMS_REDIS_PORT"),
        Listener(settings.amqp_port, LOOPBACK, "RabbitMQ", "LMS_AMQP_PORT"),
    ]
    if not settings.smtp_host:
        ports.append(Listener(settings.smtp_port, LOOPBACK, "the mail catcher", "LMS_SMTP_PORT"))
    ports += [
        Listener(settings.service_port(name), settings.host, name, f"LMS_{name.upper()}_PORT")
        for name in names
    ]
    if SUPERGRAPH.exists():
        ports.append(Listener(settings.router_port, settings.host, "the router", "LMS_ROUTER_PORT"))
    if with_monitoring:
        ports.append(
            Listener(settings.prometheus_port, LOOPBACK, "Prometheus", "LMS_PROMETHEUS_PORT")
        )
    return ports


def check_ports(ports: Sequence[Listener]) -> None:
    """Refuse to start when two settings name one port or a port is taken already."""
    seen: dict[int, Listener] = {}
    for listener in ports:
        other = seen.setdefault(listener.port, listener)
        if other is not listener:
            raise CommandError(
                f"{other.variable} and {listener.variable} are both {listener.port}: "
                "give each its own port"
            )
        if not is_port_free(listener.port, listener.host):
            raise CommandError(
                f"port {listener.port} ({listener.owner}) is already in use: stop what "
                f"listens there, or set {listener.variable} to another port"
            )


@contextlib.contextmanager
def infrastructure(settings: Settings) -> Iterator[list[Server]]:
    state = settings.state_dir
    servers: list[Server] = [
        PostgresServer(
            state / "postgres", settings.pg_port, password=settings.secret("pg_admin_password")
        ),
        RedisServer(state / "redis", settings.redis_port),
        RabbitMQServer(state / "rabbitmq", settings.amqp_port),
    ]
    start_all(servers)
    try:
        for server in servers:
            print(f"started {server.name} on port {server.port} (pid {server.pid})")
        yield servers
    finally:
        for server in reversed(servers):
            server.stop()


def prometheus(
    settings: Settings, names: Sequence[str], worker_ports: Mapping[str, int]
) -> PrometheusServer:
    """Prometheus scraping the router, every subgraph and every worker (on the metrics port
    this run gave it) every 15 s, the alert rules loaded, its data in the state folder."""
    host = settings.host
    targets = platform_targets(
        f"{host}:{settings.router_port}" if SUPERGRAPH.exists() else None,
        {name: f"{host}:{settings.service_port(name)}" for name in names},
        {name: f"{host}:{port}" for name, port in worker_ports.items()},
    )
    config = scrape_config(targets, [str(RULES)])
    return PrometheusServer(settings.state_dir / "prometheus", settings.prometheus_port, config)


@contextlib.contextmanager
def mail_catcher(settings: Settings) -> Iterator[None]:
    """Without an SMTP server configured, catch the platform's mail in state/mail/*.eml."""
    if settings.smtp_host:
        yield
        return
    folder = settings.state_dir / "mail"
    with MailCatcher(settings.smtp_port, folder):
        os.environ["LMS_SMTP_HOST"] = LOOPBACK
        os.environ["LMS_SMTP_PORT"] = str(settings.smtp_port)
        print(f"mail catcher on port {settings.smtp_port}: messages land in {folder}")
        yield


@contextlib.contextmanager
def supervised() -> Iterator[list[Child]]:
    """The processes started into the yielded list; each is stopped (and its group
    killed) on the way out, whatever happened."""
    children: list[Child] = []
    try:
        yield children
    finally:
        for child in children:
            end_process(child.process, STOP_TIMEOUT)


def make_dev_signing_keys(settings: Settings) -> None:
    """Generate the development signing keys here, once: a subgraph and its worker start
    together and would race to create one (users: access tokens, enrollments:
    certificates)."""
    for path in (settings.jwt_private_key_file, settings.certificate_key_file):
        if settings.env in DEV_ENVIRONMENTS and not path.exists():
            load_signing_key(path, create=True)


def start_services(
    settings: Settings,
    names: Sequence[str],
    children: list[Child],
    own: Mapping[str, Mapping[str, str]],
) -> dict[str, int]:
    """Every subgraph, its worker, the grader and the router, each healthy before its URL
    is printed; the port each worker serves its /metrics on. Each subgraph and its worker
    get their own secrets (`own`, lms/dev_secrets.py)."""
    subgraphs = [spawn(name, ["lms", "serve", name], dict(own[name])) for name in names]
    children += subgraphs
    for name, child in zip(names, subgraphs, strict=True):
        wait_healthy(child, f"http://{settings.host}:{settings.service_port(name)}/health")
        print(f"{name:14} {settings.service_url(name)} (pid {child.process.pid})")
    ports = {name: free_port() for name in names}  # each worker's /metrics
    workers = [
        spawn(
            f"{name} worker",
            ["lms", "worker", name],
            {**own[name], "LMS_WORKER_METRICS_PORT": str(ports[name])},
        )
        for name in names
    ]
    children += workers
    metrics = {name: f"http://{settings.host}:{ports[name]}/metrics" for name in names}
    for name, child in zip(names, workers, strict=True):
        wait_healthy(child, metrics[name])
    pids = ", ".join(str(child.process.pid) for child in workers)
    print(f"workers        outbox relays and event consumers of each subgraph (pids {pids})")
    for name in names:
        print(f"{name + ' worker':14} metrics at {metrics[name]}")
    grader_port = free_port()  # the grader worker: learners' code, under bubblewrap
    grader = spawn("grader", ["lms", "grader"], {"LMS_WORKER_METRICS_PORT": str(grader_port)})
    children.append(grader)
    wait_healthy(grader, f"http://{settings.host}:{grader_port}/metrics")
    print(f"grader         learners' code under bubblewrap (pid {grader.process.pid})")
    graphiql = settings.service_url("users")
    if SUPERGRAPH.exists():
        router_url = f"http://{settings.host}:{settings.router_port}"
        router = spawn("router", router_command(settings), router_environment(settings, names))
        children.append(router)
        wait_healthy(router, f"{router_url}/health")
        graphiql = f"{router_url}/graphql"
        print(f"router         {graphiql} (pid {router.process.pid})")
    print(f"\nGraphiQL: {graphiql}")
    return ports


def router_command(settings: Settings) -> list[str]:
    """The router as the platform runs it: from the checked-in `router.yaml`, with the
    platform's revocation list (an extension of `lms router serve`, not a router key)."""
    return [
        "lms",
        "router",
        "serve",
        f"--supergraph={SUPERGRAPH}",
        f"--config={ROUTER_CONFIG}",
        f"--revocations-redis={settings.redis_url}",
    ]


def router_environment(settings: Settings, names: Sequence[str]) -> dict[str, str]:
    """The variables `router.yaml` reads, as this run's settings resolved them (ports moved
    by `LMS_…_PORT` included)."""
    users = settings.service_url("users").removesuffix("/graphql")
    return {
        "LMS_HOST": settings.host,
        "LMS_ROUTER_PORT": str(settings.router_port),
        **{f"LMS_{name.upper()}_URL": settings.service_url(name) for name in names},
        "LMS_JWKS_URL": settings.jwks_url,
        "LMS_JWT_ISSUER": settings.jwt_issuer,
        "LMS_JWT_AUDIENCE": settings.jwt_audience,
        "LMS_CLOCK_SKEW": str(settings.clock_skew),
        "LMS_API_KEY_URL": f"{users}/auth/api-key-token",
        "LMS_REDIS_URL": settings.redis_url,
        # telemetry.exporters.tracing: the exporter the services use, the router too
        "LMS_ZIPKIN_ENABLED": str(settings.tracing_exporter == "zipkin").lower(),
        "LMS_ZIPKIN_ENDPOINT": settings.zipkin_endpoint,
        "LMS_OTLP_ENABLED": str(settings.tracing_exporter == "otlp").lower(),
        "LMS_OTLP_ENDPOINT": settings.otlp_endpoint,
        "LMS_TRACE_SAMPLE_RATIO": str(settings.trace_sample_ratio),
    }


def spawn(name: str, args: list[str], environment: dict[str, str] | None = None) -> Child:
    """``python -m <args>`` in a session of its own (so its whole group can be ended), with
    ``environment`` over this process's."""
    process = subprocess.Popen(
        [sys.executable, "-m", *args],
        env={**os.environ, **(environment or {})},
        start_new_session=True,
    )
    return Child(name, process)


def wait_healthy(child: Child, url: str) -> None:
    """Until ``url`` answers 200; a process that exits first is a ``ServerStartError``."""

    def answers() -> bool:
        if child.process.poll() is not None:
            code = child.process.returncode
            raise ServerStartError(child.name, f"exited with code {code} (its log is above)")
        try:
            return httpx.get(url, timeout=1.0).status_code == httpx.codes.OK
        except httpx.HTTPError:
            return False

    wait_until(answers, STARTUP_TIMEOUT, child.name)


def first_exit(children: Sequence[Child], servers: Sequence[Server]) -> str | None:
    """What has stopped among the processes of the run, if anything."""
    for child in children:
        exited = child.exited()
        if exited is not None:
            return exited
    for server in servers:
        if not server.running:
            return f"{server.name} exited (log: {server.log_path})"
    return None


def watch(children: Sequence[Child], servers: Sequence[Server]) -> str:
    """Block until a process of the run exits (Ctrl-C or SIGTERM interrupt); say which."""
    while True:
        failure = first_exit(children, servers)
        if failure is not None:
            return failure
        time.sleep(WATCH_INTERVAL)
