"""`lms dev` never hides a failure: a busy port, a service that does not start or dies later
stops the run with one line naming it, and nothing it started is left running."""

from __future__ import annotations

import contextlib
import functools
import os
import queue
import re
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

import httpx
import pytest

from common.infra.ports import free_port, is_port_free
from common.infra.process import wait_until
from common.settings import SERVICES
from tests.cli.lms_process import (
    ROOT,
    command,
    environment,
    one_error_line,
    run_lms,
    run_python,
)
from tests.support import eventually

STARTUP_DEADLINE = 300.0  # seconds for infra, migrations, demo data and every service
STOP_DEADLINE = 120.0
SCRAPE_DEADLINE = 60.0  # seconds for Prometheus to have scraped every process (every 15 s)


def dev_environment(state_dir: Path, **values: str) -> dict[str, str]:
    """Every port `lms dev` listens on, free; its state in ``state_dir``."""
    ports = {
        "LMS_PG_PORT": free_port(),
        "LMS_REDIS_PORT": free_port(),
        "LMS_AMQP_PORT": free_port(),
        "LMS_SMTP_PORT": free_port(),
        "LMS_ROUTER_PORT": free_port(),
        "LMS_PROMETHEUS_PORT": free_port(),
        **{f"LMS_{name.upper()}_PORT": free_port() for name in SERVICES},
    }
    return environment(
        **{
            "LMS_STATE_DIR": str(state_dir),
            "LMS_LOG_LEVEL": "WARNING",
            **{variable: str(port) for variable, port in ports.items()},
            **values,
        }
    )


def ports_of(env: dict[str, str]) -> list[int]:
    return [int(value) for key, value in env.items() if key.endswith("_PORT")]


@pytest.mark.parametrize(
    ("variable", "owner", "options"),
    [
        ("LMS_ROUTER_PORT", "the router", ()),
        ("LMS_PROMETHEUS_PORT", "Prometheus", ("--with-monitoring",)),
    ],
)
def test_a_busy_port_stops_the_run_before_anything_starts(
    tmp_path: Path, variable: str, owner: str, options: tuple[str, ...]
) -> None:
    env = dev_environment(tmp_path / "state")
    port = int(env[variable])
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        done = run_lms("dev", *options, env=env)
    assert done.returncode == 2
    assert one_error_line(done) == (
        f"error: port {port} ({owner}) is already in use: stop what listens "
        f"there, or set {variable} to another port"
    )
    assert "GraphiQL" not in done.stdout
    assert not (tmp_path / "state" / "postgres").exists()  # no server was started
    assert all(is_port_free(port) for port in ports_of(env))


def test_two_settings_on_one_port_are_refused(tmp_path: Path) -> None:
    env = dev_environment(tmp_path / "state")
    env["LMS_COURSES_PORT"] = env["LMS_USERS_PORT"]
    done = run_lms("dev", env=env)
    assert done.returncode == 2
    assert one_error_line(done) == (
        f"error: LMS_USERS_PORT and LMS_COURSES_PORT are both {env['LMS_USERS_PORT']}: "
        "give each its own port"
    )


def test_a_postgres_data_directory_of_another_version_is_one_line(tmp_path: Path) -> None:
    data = tmp_path / "state" / "postgres" / "data"
    data.mkdir(parents=True)
    (data / "PG_VERSION").write_text("9.6\n")
    env = dev_environment(tmp_path / "state")
    done = run_lms("dev", env=env)
    assert done.returncode == 1
    line = one_error_line(done)
    assert line.startswith(f"error: PostgreSQL on 127.0.0.1:{env['LMS_PG_PORT']} did not start:")
    assert f"its data directory {data} was made by PostgreSQL 9.6" in line
    assert all(is_port_free(port) for port in ports_of(env))


def test_without_the_local_extra_dev_names_it() -> None:
    blocked = "import sys; sys.modules['aiosmtpd'] = None; from lms.cli import main; "
    done = run_python(blocked + "raise SystemExit(main(['dev']))")
    assert done.returncode == 2
    assert one_error_line(done) == (
        "error: lms dev needs the 'local' extra (aiosmtpd is missing): "
        "pip install -c constraints.txt -e '.[local]'"
    )


class DevRun:
    """`lms dev` in its own process group, its output read line by line as it comes."""

    def __init__(self, env: dict[str, str], *arguments: str) -> None:
        self.env = env
        self.process = subprocess.Popen(
            command("dev", *arguments),
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        self.stderr: list[str] = []
        stdout, stderr = self.process.stdout, self.process.stderr
        assert stdout is not None
        assert stderr is not None
        self.readers = [
            threading.Thread(target=_read_into, args=(stdout, self.lines.put), daemon=True),
            threading.Thread(target=_read_into, args=(stderr, self.stderr.append), daemon=True),
        ]
        for reader in self.readers:
            reader.start()

    def wait_exit(self, timeout: float) -> int:
        """The exit status, once the process has ended and all its output is read."""
        code = self.process.wait(timeout=timeout)
        for reader in self.readers:
            reader.join(timeout)
        while not self.lines.empty():
            self.seen.append(self.lines.get_nowait())
        return code

    def wait_for_line(self, text: str, deadline: float) -> None:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or (self.process.poll() is not None and self.lines.empty()):
                raise AssertionError(f"no {text!r} from lms dev: {self.seen} {self.stderr}")
            try:
                line = self.lines.get(timeout=min(remaining, 1.0))
            except queue.Empty:
                continue
            self.seen.append(line)
            if text in line:
                return

    def pid_of(self, name: str) -> int:
        for line in self.seen:
            found = re.match(rf"{name}\s+\S+ \(pid (\d+)\)", line)
            if found:
                return int(found[1])
        raise AssertionError(f"no pid for {name} in {self.seen}")

    def end(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.wait_exit(STOP_DEADLINE)
        # servers the run started in sessions of their own outlive a killed run: a failed
        # test must not leave them holding the next run's ports
        for pid in processes_of(self.env):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()


def _read_into(stream: IO[str], put: Callable[[str], object]) -> None:
    for line in stream:
        put(line)


@pytest.fixture
def dev_run(tmp_path: Path) -> Iterator[tuple[DevRun, dict[str, str]]]:
    env = dev_environment(tmp_path / "state")
    run = DevRun(env)
    try:
        yield run, env
    finally:
        run.end()


@pytest.fixture
def dev_run_without_signing_key(tmp_path: Path) -> Iterator[tuple[DevRun, dict[str, str]]]:
    """The users subgraph cannot read its key (a folder), so it exits while starting."""
    env = dev_environment(tmp_path / "state", LMS_JWT_PRIVATE_KEY_FILE=str(tmp_path))
    run = DevRun(env)
    try:
        yield run, env
    finally:
        run.end()


def measured(run: DevRun, name: str) -> bool:
    """Whether the worker's /metrics, at the URL `lms dev` printed, has its outbox measured."""
    prefix = f"{name + ' worker':14} metrics at "
    [url] = [line.removeprefix(prefix).strip() for line in run.seen if line.startswith(prefix)]
    return f'lms_outbox_backlog{{service="{name}"}}' in httpx.get(url, timeout=5).text


def processes_of(env: dict[str, str]) -> list[int]:
    """Live processes (not zombies) started by this run: they all inherit its state folder."""
    mark = f"LMS_STATE_DIR={env['LMS_STATE_DIR']}".encode()
    found = []
    for folder in Path("/proc").iterdir():
        if not folder.name.isdigit():
            continue
        try:
            environ = (folder / "environ").read_bytes().split(b"\0")
            state = (folder / "stat").read_text().rpartition(")")[2].split()[0]
        except OSError:  # gone meanwhile, or not ours to read
            continue
        if mark in environ and state != "Z":
            found.append(int(folder.name))
    return found


def test_a_service_that_dies_stops_the_run(dev_run: tuple[DevRun, dict[str, str]]) -> None:
    run, env = dev_run
    run.wait_for_line("Ctrl-C stops everything.", time.monotonic() + STARTUP_DEADLINE)
    assert any(line.startswith("GraphiQL: http://127.0.0.1:") for line in run.seen)
    for name in SERVICES:  # each worker serves /metrics on the port it was given
        wait_until(functools.partial(measured, run, name), 30, f"{name} worker metrics")
    victim = run.pid_of("courses")
    assert victim in processes_of(env)
    os.kill(victim, signal.SIGKILL)
    code = run.wait_exit(STOP_DEADLINE)
    assert code == 1
    assert run.stderr[-1].strip() == (
        f"error: courses (pid {victim}) exited with code -9; stopped everything else"
    )
    assert processes_of(env) == []
    assert [port for port in ports_of(env) if not is_port_free(port)] == []


def test_a_service_that_does_not_start_stops_the_run(
    dev_run_without_signing_key: tuple[DevRun, dict[str, str]],
) -> None:
    run, env = dev_run_without_signing_key
    run.wait_for_line("migrated users", time.monotonic() + STARTUP_DEADLINE)
    assert len(processes_of(env)) > 1  # lms dev and the servers it started
    code = run.wait_exit(STARTUP_DEADLINE)
    assert code == 1
    assert re.fullmatch(
        r"error: users did not start: exited with code \d+ \(its log is above\)\n", run.stderr[-1]
    )
    assert not any("GraphiQL" in line for line in run.seen)
    assert processes_of(env) == []
    assert [port for port in ports_of(env) if not is_port_free(port)] == []


def secrets_of(pid: int) -> set[str]:
    """The names of the per-service secrets in a process's environment."""
    environ = Path(f"/proc/{pid}/environ").read_bytes().decode().split("\0")
    return {
        entry.partition("=")[0]
        for entry in environ
        if entry.startswith(("LMS_PG_PASSWORD_", "LMS_CLIENT_SECRET_"))
    }


def test_ctrl_c_stops_everything(dev_run: tuple[DevRun, dict[str, str]]) -> None:
    run, env = dev_run
    run.wait_for_line("Ctrl-C stops everything.", time.monotonic() + STARTUP_DEADLINE)
    # each subgraph was given its own secrets only; users the digests of the client secrets
    assert secrets_of(run.pid_of("users")) == {
        "LMS_PG_PASSWORD_USERS",
        "LMS_CLIENT_SECRET_SHA256_ENROLLMENTS",
        "LMS_CLIENT_SECRET_SHA256_NOTIFICATIONS",
        "LMS_CLIENT_SECRET_SHA256_ANALYTICS",
        "LMS_CLIENT_SECRET_SHA256_COURSES",
    }
    assert secrets_of(run.pid_of("notifications")) == {
        "LMS_PG_PASSWORD_NOTIFICATIONS",
        "LMS_CLIENT_SECRET_NOTIFICATIONS",
    }
    assert secrets_of(run.pid_of("courses")) == {
        "LMS_PG_PASSWORD_COURSES",
        "LMS_CLIENT_SECRET_COURSES",
    }
    os.kill(run.process.pid, signal.SIGINT)
    assert run.wait_exit(STOP_DEADLINE) == 0
    assert not [line for line in run.stderr if line.startswith("error:")]
    assert run.seen[-1] == "stopped\n"
    assert processes_of(env) == []
    assert [port for port in ports_of(env) if not is_port_free(port)] == []


@pytest.fixture
def monitored_dev_run(tmp_path: Path) -> Iterator[tuple[DevRun, dict[str, str]]]:
    env = dev_environment(tmp_path / "state")
    run = DevRun(env, "--with-monitoring")
    try:
        yield run, env
    finally:
        run.end()


async def test_with_monitoring_prometheus_scrapes_every_process_of_the_run(
    monitored_dev_run: tuple[DevRun, dict[str, str]], http: httpx.AsyncClient
) -> None:
    run, env = monitored_dev_run
    run.wait_for_line("Ctrl-C stops everything.", time.monotonic() + STARTUP_DEADLINE)
    url = f"http://127.0.0.1:{env['LMS_PROMETHEUS_PORT']}"
    assert any(line.startswith(f"Prometheus     {url} (pid ") for line in run.seen)

    async def scraped() -> set[str] | None:
        answer = await http.get(f"{url}/api/v1/targets")
        targets = answer.json()["data"]["activeTargets"]
        healthy = all(target["health"] == "up" for target in targets)
        return {target["labels"]["process"] for target in targets} if healthy else None

    processes = await eventually(scraped, within=SCRAPE_DEADLINE, every=0.5)
    workers = {f"{name}-worker" for name in SERVICES}
    assert processes == {"router", *SERVICES, *workers}
    groups = (await http.get(f"{url}/api/v1/rules")).json()["data"]["groups"]
    assert "TargetDown" in {rule["name"] for group in groups for rule in group["rules"]}
    os.kill(run.process.pid, signal.SIGINT)
    assert run.wait_exit(STOP_DEADLINE) == 0
    assert processes_of(env) == []
    assert [port for port in ports_of(env) if not is_port_free(port)] == []
