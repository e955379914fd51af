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
import time

import httpx
from servers import serving, sign_in, users_platform

from common.infra.ports import free_port
from common.settings import Settings

QUERY = "{ me { id name email roles createdAt } }"


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
    users_port, router_port = free_port(), free_port()
    with users_platform(users=users_port, router=router_port) as env:
        os.environ.update(env)
        settings = Settings.from_env()
        users = settings.service_url("users")
        router_args = [
            "-m",
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
            serving(["-m", "lms", "serve", "users"], env, f"{base}/health"),
            serving(router_args, env, f"http://127.0.0.1:{router_port}/health"),
        ):
            token = sign_in(users)
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
