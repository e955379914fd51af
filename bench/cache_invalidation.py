"""From a change made through the graph to the moment every router stops serving what it
had cached: the whole path (the courses service's outbox, RabbitMQ, the courses worker's
invalidation publisher, Redis pub/sub, each router's drop), on the platform as `lms dev`
runs it (router.yaml with the entity cache on).

Starts `lms dev` (PostgreSQL, Redis, RabbitMQ, migrations, demo data, every subgraph and
worker, a router) in a temporary state folder on free ports, and two more routers on the same
Redis (router.yaml as shipped, rate limits off: the polling would exceed them). Each round:
both routers answer a demo course's title to anonymous callers from their cache (checked:
`Cache-Control: max-age=300, public`, and asked twice); the demo instructor renames the
course through the dev run's router; then each of the two is asked every 5 ms until it
answers the new title. Reported per router: the median, 90th percentile and maximum delay
from the rename's answer to the new title, beside the rename's own round trip (the
baseline: a read that waited for nothing would see it at once) and the 300 s the answer
would otherwise have been served stale.

Usage: .venv/bin/python bench/cache_invalidation.py [--rounds 30]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import yaml

from common.demo import DEMO_PASSWORD, demo_course_id
from common.infra.ports import free_port
from common.settings import SERVICES, Settings
from lms.dev import router_command, router_environment

ROOT = Path(__file__).resolve().parents[1]
COURSE = "query($id: ID!) { course(id: $id) { title } }"
VERSION = "query($id: ID!) { course(id: $id) { version } }"
RENAME = """
mutation($input: UpdateCourseInput!) { updateCourse(input: $input) { course { version } } }
"""
LOGIN = (
    "mutation($e: String!, $p: String!) { login(input: {email: $e, password: $p}) { accessToken } }"
)
POLL_EVERY = 0.005
GIVE_UP = 30.0  # seconds: past this a round is reported as not invalidated


def ask(
    client: httpx.Client, router: str, query: str, variables: dict[str, Any], token: str = ""
) -> tuple[dict[str, Any], str]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = client.post(router, json={"query": query, "variables": variables}, headers=headers)
    body = response.json()
    if response.status_code != 200 or body.get("errors"):
        raise SystemExit(f"{router} answered {response.status_code}: {body}")
    return body["data"], response.headers.get("cache-control", "")


@contextlib.contextmanager
def running(args: list[str], env: dict[str, str], health: str, log: Path) -> Iterator[None]:
    with log.open("wb") as out:
        child = subprocess.Popen(
            [sys.executable, "-m", *args], env=env, stdout=out, stderr=out, cwd=ROOT
        )
    try:
        deadline = time.monotonic() + 300
        while True:
            if child.poll() is not None:
                raise SystemExit(f"{args[:2]} exited with {child.returncode}; see {log}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(health, timeout=1).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise SystemExit(f"{health} did not answer in 300 s; see {log}")
            time.sleep(0.2)
        yield
    finally:
        child.terminate()
        try:
            child.wait(timeout=60)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def platform_environment(state: Path) -> dict[str, str]:
    ports = {
        "LMS_PG_PORT": free_port(),
        "LMS_REDIS_PORT": free_port(),
        "LMS_AMQP_PORT": free_port(),
        "LMS_SMTP_PORT": free_port(),
        "LMS_ROUTER_PORT": free_port(),
        **{f"LMS_{name.upper()}_PORT": free_port() for name in SERVICES},
    }
    return {
        **os.environ,
        "LMS_STATE_DIR": str(state),
        "LMS_LOG_LEVEL": "WARNING",
        **{name: str(port) for name, port in ports.items()},
    }


def rounds_of(
    client: httpx.Client, writer: str, routers: list[str], token: str, rounds: int
) -> list[list[float]]:
    """Per round: the rename's own round trip, then each router's delay to the new title."""
    course = {"id": str(demo_course_id("python-foundations"))}
    measured = []
    for number in range(rounds):
        for router in routers:  # kept, and answered from what was kept
            for _ in range(2):
                _, policy = ask(client, router, COURSE, course)
            if policy != "max-age=300, public":
                raise SystemExit(f"{router} did not cache the course: {policy!r}")
        version = ask(client, writer, VERSION, course, token)[0]["course"]
        title = f"Python Foundations, round {number}"
        update = {"input": {**course, "version": version["version"], "title": title}}
        started = time.perf_counter()
        ask(client, writer, RENAME, update, token)
        renamed = time.perf_counter()
        row = [renamed - started]
        for router in routers:
            while True:
                data, _ = ask(client, router, COURSE, course)
                if data["course"]["title"] == title:
                    row.append(time.perf_counter() - renamed)
                    break
                if time.perf_counter() - renamed > GIVE_UP:
                    raise SystemExit(f"{router} still served the old title after {GIVE_UP} s")
                time.sleep(POLL_EVERY)
        measured.append(row)
    return measured


def report(measured: list[list[float]], routers: int) -> None:
    columns = ["the rename's round trip (baseline)"] + [
        f"router {chr(ord('A') + index)}: rename answered -> new title" for index in range(routers)
    ]
    print(f"| {len(measured)} rounds, ms | median | p90 | max |")
    print("| --- | ---: | ---: | ---: |")
    for index, name in enumerate(columns):
        values = sorted(row[index] * 1000 for row in measured)
        p90 = values[min(len(values) - 1, int(0.9 * len(values)))]
        print(f"| {name} | {statistics.median(values):.0f} | {p90:.0f} | {values[-1]:.0f} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lms-bench-invalidation-") as scratch:
        state = Path(scratch)
        env = platform_environment(state)
        router_a = f"http://127.0.0.1:{env['LMS_ROUTER_PORT']}"
        with running(["lms", "dev"], env, f"{router_a}/health", state / "dev.log"):
            os.environ.update({key: value for key, value in env.items() if key.startswith("LMS_")})
            settings = Settings.from_env()
            # two more routers on the same Redis, read from (the rename goes through the
            # dev run's): router.yaml as shipped but for its rate limits, which the polling
            # would exceed
            config = yaml.safe_load((ROOT / "router.yaml").read_text())
            config["rate_limit"]["enabled"] = False
            (state / "router.yaml").write_text(yaml.safe_dump(config))
            command = [
                *[part for part in router_command(settings) if not part.startswith("--config")],
                f"--config={state / 'router.yaml'}",
            ]
            ports = [free_port(), free_port()]
            readers = [f"http://127.0.0.1:{port}" for port in ports]
            with contextlib.ExitStack() as stack:
                for port, reader in zip(ports, readers, strict=True):
                    env_r = {
                        **env,
                        **router_environment(settings, SERVICES),
                        "LMS_ROUTER_PORT": str(port),
                    }
                    log = state / f"router-{port}.log"
                    stack.enter_context(running(command, env_r, f"{reader}/health", log))
                client = stack.enter_context(httpx.Client(timeout=30))
                login = {"e": "instructor@lms.local", "p": DEMO_PASSWORD}
                signed_in = ask(client, f"{router_a}/graphql", LOGIN, login)[0]
                token = signed_in["login"]["accessToken"]
                routers = [f"{reader}/graphql" for reader in readers]
                measured = rounds_of(client, f"{router_a}/graphql", routers, token, args.rounds)
        report(measured, 2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
