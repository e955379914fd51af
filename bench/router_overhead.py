"""What the router costs in front of the platform's own subgraph, measured in the same run.

Starts PostgreSQL from the local binaries in a temporary folder, migrates and seeds the
users subgraph, serves it and the router (each its own process, as `lms dev` does), then
drives the same authenticated query at the subgraph directly and through the router with a
closed-loop async client, and prints requests/s, p50 and p99 for both and their ratios.

Usage: .venv/bin/python bench/router_overhead.py [--seconds 10] [--concurrency 20]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
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
from common.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
QUERY = "{ me { id name email roles createdAt } }"
LOGIN = (
    'mutation { login(input: {email: "student@lms.local", password: "demo-password-2026"})'
    " { accessToken } }"
)


@contextmanager
def _process(args: list[str], env: dict[str, str], health: str) -> Iterator[None]:
    process = subprocess.Popen(
        [sys.executable, "-m", *args], env=env, stdout=subprocess.DEVNULL, cwd=ROOT
    )
    try:
        for _ in range(150):
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
        process.wait(timeout=15)


async def _load(
    url: str, token: str, seconds: float, concurrency: int
) -> tuple[float, list[float]]:
    latencies: list[float] = []
    body = {"query": QUERY}
    headers = {"authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=10) as client:
        deadline = time.perf_counter() + seconds

        async def worker() -> None:
            while time.perf_counter() < deadline:
                start = time.perf_counter()
                response = await client.post(url, json=body, headers=headers)
                if response.status_code != 200 or "errors" in response.json():
                    raise SystemExit(f"bad answer from {url}: {response.text[:200]}")
                latencies.append(time.perf_counter() - start)

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - began
    return len(latencies) / elapsed, latencies


def _summary(label: str, rps: float, latencies: list[float]) -> tuple[float, float, float]:
    cuts = statistics.quantiles(latencies, n=100)
    p50, p99 = cuts[49] * 1000, cuts[98] * 1000
    print(f"{label:22} {rps:8.1f} req/s   p50 {p50:6.2f} ms   p99 {p99:6.2f} ms")
    return rps, p50, p99


def main() -> int:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--seconds", type=float, default=10.0)
    options.add_argument("--concurrency", type=int, default=20)
    args = options.parse_args()
    with tempfile.TemporaryDirectory(prefix="lms-bench-") as state:
        pg_port, users_port, router_port = free_port(), free_port(), free_port()
        redis_port = free_port()
        env = {
            **os.environ,
            "LMS_ENV": "test",
            "LMS_STATE_DIR": state,
            "LMS_PG_PORT": str(pg_port),
            "LMS_REDIS_PORT": str(redis_port),  # sign-in throttling
            "LMS_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
            "LMS_PG_ADMIN_PASSWORD": "bench-admin",
            "LMS_PG_SERVICE_PASSWORD": "bench-service",
            "LMS_USERS_PORT": str(users_port),
            "LMS_ROUTER_PORT": str(router_port),
            "LMS_LOG_LEVEL": "WARNING",
        }
        os.environ.update(env)
        settings = Settings.from_env()
        with (
            PostgresServer(Path(state) / "postgres", pg_port, password="bench-admin", fast=True),
            RedisServer(Path(state) / "redis", redis_port, fast=True),
        ):
            subprocess.run(
                [sys.executable, "-m", "lms", "migrate", "users"], env=env, check=True, cwd=ROOT
            )
            subprocess.run(
                [sys.executable, "-m", "lms", "seed", "users"], env=env, check=True, cwd=ROOT
            )
            users = settings.service_url("users")
            router_args = [
                "lms",
                "router",
                "serve",
                "--supergraph=schema/supergraph.graphql",
                f"--port={router_port}",
                f"--subgraph-url=users={users}",
                # the router verifies the token too, and enforces `me`'s @authenticated
                f"--jwks-url={settings.jwks_url}",
                f"--jwt-issuer={settings.jwt_issuer}",
                f"--jwt-audience={settings.jwt_audience}",
                f"--revocations-redis={settings.redis_url}",
                "--no-watch",
                "--log-level=WARNING",
            ]
            base = f"http://127.0.0.1:{users_port}"
            with (
                _process(["lms", "serve", "users"], env, f"{base}/health"),
                _process(router_args, env, f"http://127.0.0.1:{router_port}/health"),
            ):
                login = httpx.post(users, json={"query": LOGIN}, timeout=10).json()
                token = login["data"]["login"]["accessToken"]
                router = f"http://127.0.0.1:{router_port}/graphql"
                print(f"{args.concurrency} connections, {args.seconds:.0f} s each, query {QUERY}")
                asyncio.run(_load(users, token, 2, args.concurrency))  # warm-up
                asyncio.run(_load(router, token, 2, args.concurrency))
                direct = _summary(
                    "users subgraph direct",
                    *asyncio.run(_load(users, token, args.seconds, args.concurrency)),
                )
                routed = _summary(
                    "through the router",
                    *asyncio.run(_load(router, token, args.seconds, args.concurrency)),
                )
    print(
        f"router / direct: throughput x{routed[0] / direct[0]:.2f}, "
        f"p50 +{routed[1] - direct[1]:.2f} ms, p99 +{routed[2] - direct[2]:.2f} ms"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
