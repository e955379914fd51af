"""The grader worker in its own process (`python -m lms grader`), run as root or as uid
nobody, consuming a queue of its own."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import sysconfig
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

from common.grading import GraderClient
from common.settings import Settings

USERS = ("root", "nobody")
NOBODY = 65534
REPOSITORY = Path(__file__).resolve().parents[1]
STOP_SECONDS = 10.0
TIMEOUT_SECONDS = 60  # the client's wait for a result, on a machine shared with other tests


def grader_command(user: str, mounts: Path) -> tuple[list[str], dict[str, str]]:
    """The command and extra environment that start `lms grader` as `user`.

    Nobody may not be able to reach this checkout, its virtualenv or this interpreter at all
    (a clone in a 0700 folder, a Python under /root): as nobody the system Python of the
    same version runs, with the checkout and the virtualenv's packages bind-mounted under
    `mounts` (world-readable) in a mount namespace of the grader's own."""
    if user == "root":
        return [sys.executable, "-m", "lms", "grader"], {}
    python = f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}"
    repository, packages = mounts / "repository", mounts / "packages"
    for folder in (mounts, repository, packages):
        folder.mkdir(exist_ok=True)
        folder.chmod(0o755)
    ids = f"--reuid {NOBODY} --regid {NOBODY} --clear-groups"
    script = (
        f'mount --bind "$1" {repository} && mount --bind "$2" {packages} && cd {repository} '
        f"&& exec setpriv {ids} {python} -m lms grader"
    )
    purelib = sysconfig.get_path("purelib")
    command = ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh"]
    return [*command, str(REPOSITORY), purelib], {
        "PYTHONPATH": os.pathsep.join((str(repository), str(packages)))
    }


def process_uid(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Uid:"):
            return int(line.split()[1])
    raise LookupError(f"no Uid in /proc/{pid}/status")


@contextlib.asynccontextmanager
async def grader_process(
    settings: Settings, queue: str, user: str
) -> AsyncIterator[asyncio.subprocess.Process]:
    with tempfile.TemporaryDirectory(prefix="grader-mounts-") as scratch:
        command, extra = grader_command(user, Path(scratch))
        environment = {
            **os.environ,
            "LMS_AMQP_URL": settings.amqp_url,
            "LMS_GRADER_QUEUE": queue,
        }
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
