"""What the benchmarks that run servers share: servers started as child processes, waited
for (their /health) and stopped (`serving`: router_overhead.py, subgraph_overhead.py,
analytics.py); and the users subgraph's platform of the overhead benchmarks (PostgreSQL and
Redis from the local binaries in a temporary folder, users migrated and seeded, the seeded
student signed in), so both measure the same set-up."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from common.infra.ports import free_port
from common.infra.postgres import PostgresServer
from common.infra.redis import RedisServer

ROOT = Path(__file__).resolve().parents[1]
LOGIN = (
    'mutation { login(input: {email: "student@lms.local", password: "demo-password-2026"})'
    " { accessToken } }"
)


@contextmanager
def users_platform(**ports: int) -> Iterator[dict[str, str]]:
    """The environment of a running platform (os.environ and LMS_* for it), PostgreSQL and
    Redis up, users migrated and seeded; `ports` adds LMS_<NAME>_PORT variables."""
    with tempfile.TemporaryDirectory(prefix="lms-bench-") as state:
        pg_port, redis_port = free_port(), free_port()
        env = {
            **os.environ,
            "LMS_ENV": "test",
            "LMS_STATE_DIR": state,
            "LMS_PG_PORT": str(pg_port),
            "LMS_REDIS_PORT": str(redis_port),  # sign-in throttling
            "LMS_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
            "LMS_PG_ADMIN_PASSWORD": "bench-admin",
            "LMS_PG_SERVICE_PASSWORD": "bench-service",
            "LMS_LOG_LEVEL": "WARNING",
            **{f"LMS_{name.upper()}_PORT": str(port) for name, port in ports.items()},
        }
        with (
            PostgresServer(Path(state) / "postgres", pg_port, password="bench-admin", fast=True),
            RedisServer(Path(state) / "redis", redis_port, fast=True),
        ):
            for command in ("migrate", "seed"):
                subprocess.run(
                    [sys.executable, "-m", "lms", command, "users"], env=env, check=True, cwd=ROOT
                )
            yield env


@contextmanager
def serving(
    args: list[str], env: dict[str, str], health: str, cwd: Path = ROOT, *, quiet: bool = False
) -> Iterator[None]:
    """`python <args>` running until the block ends, once `health` answers 200 (within a
    minute); `quiet` drops its stderr too (logs of many servers at once)."""
    process = subprocess.Popen(
        [sys.executable, *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL if quiet else None,
        cwd=cwd,
    )
    try:
        for _ in range(600):
            if process.poll() is not None:
                raise SystemExit(f"{args} exited with {process.returncode}")
            try:
                if httpx.get(health, timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        else:
            raise SystemExit(f"{health} did not answer")
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:  # its shutdown waits on Redis: not measured
            process.kill()
            process.wait()


def sign_in(graphql_url: str) -> str:
    """The seeded student's access token."""
    answer = httpx.post(graphql_url, json={"query": LOGIN}, timeout=10).json()
    token: str = answer["data"]["login"]["accessToken"]
    return token
