"""The `--workers` supervisor: a stop that reaches workers still starting ends them at once
(uvicorn's own handlers are not installed yet) and the supervisor exits cleanly."""

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

# Two workers whose start-up never ends (only a signal that raises leaves it); each says
# when it has begun.
SCRIPT = """
import signal, sys
from router.server.workers import Supervisor

def serve(number: int) -> None:
    # one write per line: print() writes the text and its end apart when unbuffered
    # (PYTHONUNBUFFERED), and two workers' lines could then interleave in the pipe
    sys.stdout.write(f"worker {number} starting\\n")
    sys.stdout.flush()
    while True:
        signal.pause()

sys.exit(Supervisor(2, serve).run())
"""


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
async def test_a_stop_during_start_up_ends_the_workers_and_the_supervisor(signum: int) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", SCRIPT, stdout=asyncio.subprocess.PIPE
    )
    try:
        assert process.stdout is not None
        started = {(await asyncio.wait_for(process.stdout.readline(), 30)) for _ in range(2)}
        assert started == {b"worker 0 starting\n", b"worker 1 starting\n"}
        process.send_signal(signum)
        assert await asyncio.wait_for(process.wait(), 10) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_a_worker_that_fails_is_started_again(tmp_path: Path) -> None:
    failed_once = tmp_path / "failed-once"
    fail_first_start = (
        f"    failed = pathlib.Path({str(failed_once)!r})\n"
        "    if number == 0 and not failed.exists():\n"
        "        failed.touch()\n"
        "        sys.exit(3)\n"
        "    while True:\n"
        "        signal.pause()"
    )
    script = SCRIPT.replace("import signal, sys", "import pathlib, signal, sys").replace(
        "    while True:\n        signal.pause()", fail_first_start
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", script, stdout=asyncio.subprocess.PIPE
    )
    try:
        assert process.stdout is not None
        lines = [(await asyncio.wait_for(process.stdout.readline(), 30)) for _ in range(3)]
        assert lines.count(b"worker 0 starting\n") == 2  # worker 0 exited, and was replaced
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 10) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


# A stop that reaches the supervisor just as a worker is forked, before it has recorded the
# worker's pid (the moment is forced by a fork that signals its caller on return).
FORK_THEN_STOP = """
import os, signal, sys
from router.server.workers import Supervisor

real_fork = os.fork

def fork_then_stop() -> int:
    pid = real_fork()
    if pid != 0:
        os.kill(os.getpid(), signal.SIGINT)
    return pid

os.fork = fork_then_stop

def serve(number: int) -> None:
    with open(sys.argv[1], "a") as pids:
        pids.write(f"{os.getpid()}\\n")
    while True:
        signal.pause()

sys.exit(Supervisor(1, serve).run())
"""


def test_a_stop_as_a_worker_is_forked_ends_that_worker_too(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    process = subprocess.Popen([sys.executable, "-c", FORK_THEN_STOP, str(pids)])
    try:
        assert process.wait(timeout=10) == 0  # not waiting forever on a worker never stopped
    finally:
        if process.returncode is None:
            process.kill()
            process.wait()
        for pid in pids.read_text().split() if pids.exists() else ():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid), signal.SIGKILL)  # a worker left behind: no orphan from a test
