"""Running a learner's Python against an instructor's tests, in a sandboxed child process.

Threat model: the code is hostile. It may loop forever, fork, allocate without end, print
without end, open sockets, read the server's files or try to forge a passing result. The
layers, from the kernel up:
- resource limits: CPU seconds (then SIGXCPU/SIGKILL), address space, file size, open
  files, no core dumps, and no new processes (RLIMIT_NPROC 0 for an unprivileged user);
- a fresh network namespace (no interface but a down loopback), and, when the service runs
  as root, an unprivileged uid/gid (nobody) so those limits bind;
- a wall-clock limit enforced here, killing the child's whole process group;
- an audit hook inside the child (sandbox_child.py) refusing sockets, processes, threads,
  native code, frame introspection and files outside its temporary folder;
- bounded reading of its output; results on a separate pipe, each line prefixed with a
  random nonce the learner's code never sees.
Residual risk, documented: code that defines objects whose ``__eq__`` is always true can
pass equality asserts (instructors should assert on types too), and where the kernel
refuses namespaces the network is closed by the audit hook alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import enum
import functools
import json
import logging
import os
import resource
import secrets
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

CHILD = (Path(__file__).with_name("sandbox_child.py")).read_text(encoding="utf-8")
NOBODY = 65534
CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
MAX_RESULTS_BYTES = 1024 * 1024
CONCURRENCY = 2  # sandboxes at once per process; the machine has two cores

_libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
_slots: dict[int, asyncio.Semaphore] = {}


class Verdict(enum.StrEnum):
    PASSED = "PASSED"
    FAILED = "FAILED"
    ERROR = "ERROR"
    TIMEOUT = "TIMEOUT"
    MEMORY_LIMIT = "MEMORY_LIMIT"
    REFUSED = "REFUSED"


@dataclass(frozen=True)
class SandboxLimits:
    cpu_seconds: float = 2.0
    wall_seconds: float = 5.0
    memory_bytes: int = 256 * 1024 * 1024
    output_bytes: int = 64 * 1024
    max_source_bytes: int = 64 * 1024


@dataclass(frozen=True)
class CodeTest:
    name: str
    code: str


@dataclass(frozen=True)
class TestOutcome:
    name: str
    verdict: Verdict
    message: str


@dataclass(frozen=True)
class RunResult:
    outcomes: list[TestOutcome]
    output: str
    duration_ms: int

    @property
    def passed(self) -> int:
        return sum(outcome.verdict is Verdict.PASSED for outcome in self.outcomes)


@functools.cache
def _interpreter() -> str:
    """A Python the unprivileged child can execute (root's own may sit in /root, 0700)."""
    if os.geteuid() != 0:
        return sys.executable
    for candidate in (sys.executable, shutil.which("python3") or "", "/usr/bin/python3"):
        if candidate and _world_executable(os.path.realpath(candidate)):
            return os.path.realpath(candidate)
    return sys.executable


def _world_executable(path: str) -> bool:
    current = Path(path)
    if not current.is_file() or not os.stat(current).st_mode & 0o001:
        return False
    return all(os.stat(parent).st_mode & 0o001 for parent in current.parents)


@functools.cache
def _readable_roots() -> list[str]:
    """Where the child may read: the standard library of the interpreter it runs."""
    probe = subprocess.run(
        [
            _interpreter(),
            "-I",
            "-S",
            "-c",
            "import sysconfig, json; print(json.dumps(sysconfig.get_paths()))",
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    paths = json.loads(probe.stdout) if probe.returncode == 0 else sysconfig.get_paths()
    return sorted({os.path.realpath(paths[key]) for key in ("stdlib", "platstdlib")})


def _unshare(flags: int) -> bool:
    return bool(_libc.unshare(flags) == 0)


def _confine(limits: SandboxLimits, folder: str) -> None:
    """Runs in the child between fork and exec: namespaces, identity, limits."""
    os.setsid()
    if os.geteuid() == 0:
        _unshare(CLONE_NEWNET)
        os.setgroups([])
        os.setgid(NOBODY)
        os.setuid(NOBODY)
    else:
        _unshare(CLONE_NEWUSER | CLONE_NEWNET)
    cpu = max(1, int(limits.cpu_seconds + 0.999))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    resource.setrlimit(resource.RLIMIT_FSIZE, (1024 * 1024, 1024 * 1024))
    resource.setrlimit(resource.RLIMIT_NOFILE, (32, 32))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NPROC, (0, 0))
    os.chdir(folder)


def _slot() -> asyncio.Semaphore:
    loop = asyncio.get_running_loop()
    semaphore = _slots.get(id(loop))
    if semaphore is None:
        semaphore = _slots[id(loop)] = asyncio.Semaphore(CONCURRENCY)
    return semaphore


async def _read_bounded(stream: asyncio.StreamReader, limit: int) -> tuple[bytes, bool]:
    """Up to `limit` bytes; the rest is read and dropped so the child never blocks."""
    kept = bytearray()
    truncated = False
    while chunk := await stream.read(65536):
        room = limit - len(kept)
        if room > 0:
            kept += chunk[:room]
        if len(chunk) > room:
            truncated = True
    return bytes(kept), truncated


def _all(tests: Sequence[CodeTest], verdict: Verdict, message: str) -> list[TestOutcome]:
    return [TestOutcome(test.name, verdict, message) for test in tests]


async def run_code(
    source: str, tests: Sequence[CodeTest], limits: SandboxLimits = SandboxLimits()
) -> RunResult:
    """Run `source`, then each test in a copy of its namespace; one outcome per test."""
    started = time.monotonic()
    if "\x00" in source or len(source.encode()) > limits.max_source_bytes:
        message = f"The code must be text of at most {limits.max_source_bytes // 1024} KiB."
        return RunResult(_all(tests, Verdict.REFUSED, message), "", 0)
    async with _slot():
        outcomes, output = await _run(source, tests, limits)
    return RunResult(outcomes, output, int((time.monotonic() - started) * 1000))


async def _run(
    source: str, tests: Sequence[CodeTest], limits: SandboxLimits
) -> tuple[list[TestOutcome], str]:
    nonce = secrets.token_hex(16)
    folder = tempfile.mkdtemp(prefix="lms-sandbox-")
    read_end, write_end = os.pipe()
    try:
        if os.geteuid() == 0:
            os.chown(folder, NOBODY, NOBODY)
        os.chmod(folder, 0o700)
        job = {
            "nonce": nonce,
            "results_fd": write_end,
            "folder": folder,
            "readable": _readable_roots(),
            "source": source,
            "tests": [{"name": t.name, "code": t.code} for t in tests],
        }
        process = await asyncio.create_subprocess_exec(
            _interpreter(),
            "-I",
            "-S",
            "-B",
            "-c",
            CHILD,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            pass_fds=(write_end,),
            preexec_fn=lambda: _confine(limits, folder),
            env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "PYTHONIOENCODING": "utf-8"},
            cwd=folder,
        )
        os.close(write_end)
        write_end = -1
        loop = asyncio.get_running_loop()
        results_reader = asyncio.StreamReader(limit=MAX_RESULTS_BYTES)
        transport, _ = await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(results_reader), os.fdopen(read_end, "rb")
        )
        read_end = -1
        try:
            assert process.stdin is not None
            assert process.stdout is not None
            process.stdin.write(json.dumps(job).encode())
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                await process.stdin.drain()
                process.stdin.close()
            reading = asyncio.gather(
                _read_bounded(process.stdout, limits.output_bytes),
                _read_bounded(results_reader, MAX_RESULTS_BYTES),
                process.wait(),
            )
            timed_out = False
            try:
                (output, truncated), (results, _), _ = await asyncio.wait_for(
                    asyncio.shield(reading), limits.wall_seconds
                )
            except TimeoutError:
                timed_out = True
                _kill(process.pid)
                (output, truncated), (results, _), _ = await reading
        finally:
            transport.close()
        text = output.decode("utf-8", "replace")
        if truncated:
            text += f"\n[output truncated after {limits.output_bytes} bytes]"
        return _outcomes(tests, nonce, results, process.returncode, timed_out, limits), text
    finally:
        for fd in (read_end, write_end):
            if fd >= 0:
                os.close(fd)
        shutil.rmtree(folder, ignore_errors=True)


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def _outcomes(
    tests: Sequence[CodeTest],
    nonce: str,
    results: bytes,
    returncode: int | None,
    timed_out: bool,
    limits: SandboxLimits,
) -> list[TestOutcome]:
    reported: dict[str, TestOutcome] = {}
    for line in results.decode("utf-8", "replace").splitlines():
        if not line.startswith(nonce):
            continue  # not from the runner: ignored
        with contextlib.suppress(ValueError, KeyError, TypeError):
            entry: dict[str, Any] = json.loads(line[len(nonce) :])
            reported[entry["name"]] = TestOutcome(
                entry["name"], Verdict(entry["verdict"]), str(entry["message"])[:500]
            )
    if timed_out:
        fallback = (Verdict.TIMEOUT, f"Wall-clock limit of {limits.wall_seconds:g} s exceeded.")
    elif returncode in (-signal.SIGXCPU, -signal.SIGKILL):
        fallback = (Verdict.TIMEOUT, f"CPU time limit of {limits.cpu_seconds:g} s exceeded.")
    elif returncode in (-signal.SIGSEGV, -signal.SIGABRT):
        fallback = (Verdict.MEMORY_LIMIT, "The program ran out of memory.")
    else:
        fallback = (
            Verdict.ERROR,
            f"The program ended before this test ran (exit code {returncode}).",
        )
    return [reported.get(test.name) or TestOutcome(test.name, *fallback) for test in tests]
