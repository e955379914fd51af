"""``lms dev``: the whole platform on this machine, from local binaries, until Ctrl-C."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from common.infra import start_all
from common.infra.mail import MailCatcher
from common.infra.postgres import PostgresServer
from common.infra.rabbitmq import RabbitMQServer
from common.infra.redis import RedisServer
from common.settings import Settings
from lms import services
from lms.cli import migrate, seed

SUPERGRAPH = Path(__file__).resolve().parents[1] / "schema" / "supergraph.graphql"


@contextlib.contextmanager
def infrastructure(settings: Settings) -> Iterator[None]:
    state = settings.state_dir
    servers = [
        PostgresServer(state / "postgres", settings.pg_port, password=settings.pg_admin_password),
        RedisServer(state / "redis", settings.redis_port),
        RabbitMQServer(state / "rabbitmq", settings.amqp_port),
    ]
    start_all(servers)
    try:
        for server in servers:
            print(f"started {type(server).__name__} on port {server.port}")
        yield
    finally:
        for server in reversed(servers):
            server.stop()


def _wait_healthy(url: str, process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{url} exited with code {process.returncode}; see its log above")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        time.sleep(0.2)
    raise SystemExit(f"{url} did not become healthy within {timeout:.0f}s")


def _spawn(args: list[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", *args], env=os.environ.copy())


@contextlib.contextmanager
def mail_catcher(settings: Settings) -> Iterator[None]:
    """Without an SMTP server configured, catch the platform's mail in state/mail/*.eml."""
    if settings.smtp_host:
        yield
        return
    folder = settings.state_dir / "mail"
    catcher = MailCatcher(settings.smtp_port, folder)
    # Its thread must not take the Ctrl-C that run_dev waits for with sigwait.
    stop_signals = {signal.SIGINT, signal.SIGTERM}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)
    try:
        catcher.start()
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
    try:
        os.environ["LMS_SMTP_HOST"] = "127.0.0.1"
        os.environ["LMS_SMTP_PORT"] = str(settings.smtp_port)
        print(f"mail catcher on port {settings.smtp_port}: messages land in {folder}")
        yield
    finally:
        catcher.stop()


def run_dev(settings: Settings) -> int:
    names = services.available_services()
    processes: list[subprocess.Popen[bytes]] = []
    with infrastructure(settings), mail_catcher(settings):
        try:
            migrate(settings, names)
            for line in seed(settings, names):
                print(line)
            for name in names:
                processes.append(_spawn(["lms", "serve", name]))
                _wait_healthy(
                    f"http://{settings.host}:{settings.service_port(name)}/health", processes[-1]
                )
                print(f"{name:14} {settings.service_url(name)}")
            for name in names:
                processes.append(_spawn(["lms", "worker", name]))
            print(f"workers        outbox relays and event consumers of {', '.join(names)}")
            graphiql = settings.service_url("users")
            if SUPERGRAPH.exists():
                router_url = f"http://{settings.host}:{settings.router_port}"
                processes.append(
                    _spawn(
                        [
                            "lms",
                            "router",
                            "serve",
                            "--supergraph",
                            str(SUPERGRAPH),
                            "--host",
                            settings.host,
                            "--port",
                            str(settings.router_port),
                            *(
                                f"--subgraph-url={name}={settings.service_url(name)}"
                                for name in names
                            ),
                            f"--jwks-url={settings.jwks_url}",
                            f"--jwt-issuer={settings.jwt_issuer}",
                            f"--jwt-audience={settings.jwt_audience}",
                            f"--jwt-leeway={settings.clock_skew}",
                            f"--api-key-url={settings.service_url('users').removesuffix('/graphql')}/auth/api-key-token",
                            f"--revocations-redis={settings.redis_url}",
                        ]
                    )
                )
                _wait_healthy(f"{router_url}/health", processes[-1])
                graphiql = f"{router_url}/graphql"
                print(f"router         {graphiql}")
            print(f"\nGraphiQL: {graphiql}\nCtrl-C stops everything.", flush=True)
            stop_signals = {signal.SIGINT, signal.SIGTERM}
            signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)  # after spawning: not inherited
            signal.sigwait(stop_signals)
        except KeyboardInterrupt:
            pass
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
    return 0
