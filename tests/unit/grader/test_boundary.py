"""bubblewrap, the sandbox's boundary, on its own: programs the inner layer (seccomp and the
audit hook) would have stopped run here without it, under the same bwrap command and
rlimits the grader uses, and must still find nothing to read, write or reach. This process
is root: the grader drops to uid nobody before bwrap, as it does when it runs as root."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import socket
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from common.grading import SandboxLimits
from grader.sandbox import PROCESSES, confine, kill_sandbox, python_program, sandbox_command
from tests.support import eventually

LIMITS = SandboxLimits(cpu_seconds=5, wall_seconds=30)
REPOSITORY = Path(__file__).resolve().parents[3]


@contextlib.asynccontextmanager
async def sandboxed(code: str) -> AsyncIterator[asyncio.subprocess.Process]:
    """`code` (plain Python, no inner layer) running in the sandbox; killed as the grader
    kills a run past its wall clock when the block ends."""
    command = sandbox_command(python_program("-c", code))
    process = await asyncio.create_subprocess_exec(
        *command,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=functools.partial(confine, LIMITS),
        env={"PATH": "/usr/bin:/bin", "LMS_SECRET_FOR_THE_TEST": "must-not-leak"},
        cwd="/",
    )
    try:
        yield process
    finally:
        kill_sandbox(process.pid)
        await process.wait()


async def report(code: str) -> Any:
    """The JSON `code` prints on one line (what it started may still run: not waited for)."""
    async with sandboxed(code) as process:
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), LIMITS.wall_seconds)
    return json.loads(line)


def exists(path: str) -> bool:
    return Path(path).exists()


def processes_with(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if marker.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
    return found


PROBE_FILES = """
import json, os
def attempt(action):
    try:
        action()
        return "done"
    except OSError as error:
        return type(error).__name__
def write(path):
    with open(path, "w") as f:
        f.write("x")
print(json.dumps({
    "uid": os.getuid(), "gid": os.getgid(), "groups": os.getgroups(),
    "root": sorted(os.listdir("/")),
    "shadow": attempt(lambda: open("/etc/shadow").read()),
    "repository": attempt(lambda: os.listdir(%(repository)r)),
    "write_usr": attempt(lambda: write("/usr/lms-escape")),
    "write_root": attempt(lambda: write("/lms-escape")),
    "write_tmp": attempt(lambda: write("/tmp/notes")),
    "write_work": attempt(lambda: write("notes")),
    "cwd": os.getcwd(),
    "environ": dict(os.environ),
    "pid": os.getpid(),
    "chroot": attempt(lambda: os.chroot("/tmp")),
}))
"""


async def test_only_what_python_needs_is_there_and_nothing_is_writable_but_tmp() -> None:
    seen = await report(PROBE_FILES % {"repository": str(REPOSITORY)})
    assert (seen["uid"], seen["gid"], seen["groups"]) == (65534, 65534, [])
    assert "etc" not in seen["root"]
    assert "home" not in seen["root"]
    assert "root" not in seen["root"]
    assert "proc" not in seen["root"]
    assert seen["shadow"] == "FileNotFoundError"
    assert seen["repository"] == "FileNotFoundError"
    assert seen["write_usr"] in ("OSError", "PermissionError")  # read-only bind
    assert seen["write_root"] in ("OSError", "PermissionError")  # read-only root
    assert (seen["write_tmp"], seen["write_work"]) == ("done", "done")
    assert seen["cwd"] == "/sandbox"
    assert not any(name.startswith("LMS_") for name in seen["environ"])
    assert seen["pid"] <= 3  # its own PID namespace: bwrap's init is 1
    assert seen["chroot"] == "PermissionError"  # no capability, not even in its namespace
    assert not exists("/usr/lms-escape")
    assert not exists("/lms-escape")


async def test_no_network_not_even_a_loopback_port_of_the_host() -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.setblocking(False)
    port = server.getsockname()[1]
    code = (
        "import json, socket\n"
        "try:\n"
        f"    socket.create_connection(('127.0.0.1', {port}), timeout=2)\n"
        "    outcome = 'connected'\n"
        "except OSError as error:\n"
        "    outcome = type(error).__name__\n"
        "print(json.dumps(outcome))\n"
    )
    try:
        assert await report(code) in ("ConnectionRefusedError", "OSError", "TimeoutError")
        with pytest.raises(BlockingIOError):
            server.accept()  # nobody connected
    finally:
        server.close()


async def test_a_fork_bomb_meets_the_process_limit() -> None:
    marker = f"fork-bomb-{uuid.uuid4().hex}"
    code = (
        f"# {marker}\n"
        "import json, os, time\n"
        "children = 0\n"
        "try:\n"
        "    while True:\n"
        "        if os.fork() == 0:\n"
        "            time.sleep(60)\n"
        "            os._exit(0)\n"
        "        children += 1\n"
        "except OSError as error:\n"
        "    print(json.dumps([children, type(error).__name__]), flush=True)\n"
    )
    children, error = await report(code)
    assert children < PROCESSES
    assert error == "BlockingIOError"  # EAGAIN: RLIMIT_NPROC
    await eventually(lambda: not processes_with(marker))  # the namespace went with it


async def test_no_process_survives_the_sandbox_being_killed() -> None:
    """A daemon (double fork, new session, SIGTERM ignored) outlives nothing."""
    marker = f"daemon-{uuid.uuid4().hex}"
    code = (
        f"# {marker}\n"
        "import os, signal, time\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    if os.fork() == 0:\n"
        "        signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "        time.sleep(600)\n"
        "    os._exit(0)\n"
        "print('started', flush=True)\n"
        "time.sleep(600)\n"
    )
    async with sandboxed(code) as process:
        assert process.stdout is not None
        assert await asyncio.wait_for(process.stdout.readline(), LIMITS.wall_seconds)
        await eventually(lambda: len(processes_with(marker)) >= 3)  # bwrap's, and the daemon
    await eventually(lambda: not processes_with(marker))


async def test_a_huge_file_is_refused() -> None:
    name = f"/tmp/lms-big-{uuid.uuid4().hex}"
    code = (
        "import errno, json\n"
        "try:\n"
        f"    with open({name!r}, 'wb') as f:\n"
        "        f.write(b'x' * (8 * 1024 * 1024))\n"
        "    outcome = 'written'\n"
        "except OSError as error:\n"
        "    outcome = errno.errorcode[error.errno]\n"
        "print(json.dumps(outcome))\n"
    )
    assert await report(code) == "EFBIG"  # RLIMIT_FSIZE (Python ignores SIGXFSZ)
    assert not exists(name)  # and the sandbox's /tmp is its own
