"""The grader worker in its own process (`python -m lms grader`), run as root or as uid
nobody, consuming a queue of its own."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import sysconfig
from collections.abc import AsyncIterator
from pathlib import Path

from common.grading import GraderClient
from common.settings import Settings

USERS = ("root", "nobody")
NOBODY = 65534
REPOSITORY = Path(__file__).resolve().parents[1]
STOP_SECONDS = 10.0
TIMEOUT_SECONDS = 60  # the client's wait for a result, on a machine shared with other tests


def grader_command(user: str) -> tuple[list[str], dict[str, str]]:
    """The command and extra environment that start `lms grader` as `user`."""
    if user == "root":
        return [sys.executable, "-m", "lms", "grader"], {}
    # nobody cannot enter /root, where this virtualenv's interpreter may live: the system
    # Python of the same version runs the project with the virtualenv's packages
    python = f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}"
    ids = ["--reuid", str(NOBODY), "--regid", str(NOBODY), "--clear-groups"]
    packages = os.pathsep.join((str(REPOSITORY), sysconfig.get_path("purelib")))
    return ["setpriv", *ids, python, "-m", "lms", "grader"], {"PYTHONPATH": packages}


def process_uid(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Uid:"):
            return int(line.split()[1])
    raise LookupError(f"no Uid in /proc/{pid}/status")


@contextlib.asynccontextmanager
async def grader_process(
    settings: Settings, queue: str, user: str
) -> AsyncIterator[asyncio.subprocess.Process]:
    command, extra = grader_command(user)
    environment = {**os.environ, "LMS_AMQP_URL": settings.amqp_url, "LMS_GRADER_QUEUE": queue}
    process = await asyncio.create_subprocess_exec(
        *command, env={**environment, **extra}, cwd=REPOSITORY
    )
    try:
        yield process
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), STOP_SECONDS)
            except TimeoutError:
                process.kill()
                await process.wait()


@contextlib.asynccontextmanager
async def grader_client(settings: Settings, queue: str) -> AsyncIterator[GraderClient]:
    client = GraderClient(settings.amqp_url, queue, TIMEOUT_SECONDS)
    try:
        yield client
    finally:
        await client.aclose()
