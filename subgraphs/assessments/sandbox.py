"""Running a learner's Python against an instructor's tests, in a sandboxed child process.

Threat model: the code is hostile. It may loop forever, fork, allocate without end, print
without end, open sockets, read the server's files or try to forge a passing result.
Layers, from the kernel up:
- one fresh process per run (``python -I -S -B``, stdlib only) in a fresh temporary folder,
  its own session; limits on CPU seconds, address space, file size, open files, core
  dumps and processes; at most ``CONCURRENCY`` sandboxes at once per event loop;
- as root: a new network namespace, then uid/gid nobody with no groups (RLIMIT_NPROC does
  not bind root). Not root: a new user + network namespace. Either way, if the kernel
  refuses a namespace the run goes on with the layers below (logged once);
- inside the child (sandbox_child.py): a seccomp filter (no sockets, fork, exec, signals,
  timers, signal handlers, ptrace) and an audit hook (no frames, native code, marshal,
  files outside the folder except reading the standard library);
- the wall clock is enforced here by killing the whole process group; output is read
  concurrently with a fixed budget, the rest drained and dropped.
Verdicts travel on their own pipe, each line prefixed with a random nonce the child reads
from stdin before the learner's code runs and keeps only in locals it never exposes; lines
without it are ignored, so printing, writing to any fd or a crafted exit code cannot turn
a failing test into PASSED. Tests share one process (they run in order, each in a copy of
the learner's namespace); when the process dies mid-run, the tests it had not reported get
the verdict of the death (TIMEOUT, MEMORY_LIMIT, ERROR). Residual risks are listed in
sandbox_child.py (audit hooks are not a security boundary; ``__eq__`` that always holds).
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
import math
import os
import resource
import secrets
import shutil
import signal
import sys
import tempfile
import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

CHILD = (Path(__file__).with_name("sandbox_child.py")).read_text(encoding="utf-8")
NOBODY = 65534
CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
MAX_RESULTS_BYTES = 1024 * 1024
CONCURRENCY = 2  # sandboxes at once per process; the machine has two cores
FILE_BYTES = 1024 * 1024  # RLIMIT_FSIZE: the largest file a run may write
OPEN_FILES = 32
KILL_GRACE = 1.0  # seconds to wait for the pipes to close after killing the group

_libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
_slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)
_warned: set[str] = set()


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
    raise RuntimeError("The sandbox needs a Python interpreter that user nobody can run.")


def _world_executable(path: str) -> bool:
    current = Path(path)
    if not current.is_file() or not os.stat(current).st_mode & 0o001:
        return False
    return all(os.stat(parent).st_mode & 0o001 for parent in current.parents)


def _unshare(flags: int) -> bool:
    return bool(_libc.unshare(flags) == 0)


def _confine(limits: SandboxLimits) -> None:
    """Runs in the child between fork and exec: namespaces, identity, limits.

    Only async-signal-safe work: system calls through ctypes/os, no imports, no logging.
    """
    isolated = False
    if os.geteuid() == 0:
        isolated = _unshare(CLONE_NEWNET)
        os.setgroups([])
        os.setgid(NOBODY)
        os.setuid(NOBODY)
    if not isolated:  # not root, or root without CAP_SYS_ADMIN: an unprivileged namespace
        _unshare(CLONE_NEWUSER | CLONE_NEWNET)
    cpu = max(1, math.ceil(limits.cpu_seconds))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_BYTES, FILE_BYTES))
    resource.setrlimit(resource.RLIMIT_NOFILE, (OPEN_FILES, OPEN_FILES))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NPROC, (0, 0))


def _slot() -> asyncio.Semaphore:
    loop = asyncio.get_running_loop()
    semaphore = _slots.get(loop)
    if semaphore is None:
        semaphore = _slots[loop] = asyncio.Semaphore(CONCURRENCY)
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
    if "\x00" in source or len(source.encode("utf-8", "surrogatepass")) > limits.max_source_bytes:
        message = f"The code must be text of at most {limits.max_source_bytes} bytes, without NUL."
        return RunResult(_all(tests, Verdict.REFUSED, message), "", 0)
    if not tests:
        return RunResult([], "", 0)
    async with _slot():
        outcomes, output = await _run(source, tests, limits)
    return RunResult(outcomes, output, int((time.monotonic() - started) * 1000))


async def _run(
    source: str, tests: Sequence[CodeTest], limits: SandboxLimits
) -> tuple[list[TestOutcome], str]:
    nonce = secrets.token_hex(16)
    folder = _make_folder()
    read_end, write_end = os.pipe()
    process: asyncio.subprocess.Process | None = None
    transport: asyncio.BaseTransport | None = None
    try:
        job = {
            "nonce": nonce,
            "results_fd": write_end,
            "folder": folder,
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
            start_new_session=True,
            preexec_fn=functools.partial(_confine, limits),
            env={
                "PATH": "/usr/bin:/bin",
                "LANG": "C.UTF-8",
                "PYTHONIOENCODING": "utf-8",
                "HOME": folder,
                "TMPDIR": folder,
            },
            cwd=folder,
        )
        started = time.monotonic()
        os.close(write_end)
        write_end = -1
        loop = asyncio.get_running_loop()
        results_reader = asyncio.StreamReader(limit=MAX_RESULTS_BYTES)
        transport, _ = await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(results_reader), os.fdopen(read_end, "rb")
        )
        read_end = -1
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
            try:
                (output, truncated), (results, _), _ = await asyncio.wait_for(reading, KILL_GRACE)
            except TimeoutError:  # something still holds a pipe open: give up on it
                output, truncated, results = b"", True, b""
        elapsed = time.monotonic() - started
        text = output.decode("utf-8", "replace")
        if truncated:
            text += f"\n[output truncated after {limits.output_bytes} bytes]"
        death = _death(process.returncode, timed_out, elapsed, limits)
        return _outcomes(tests, nonce, results, death), text
    finally:
        if process is not None and process.returncode is None:  # cancelled: leave nothing
            _kill(process.pid)
            with contextlib.suppress(ProcessLookupError):
                process.kill()
        if transport is not None:
            transport.close()
        for fd in (read_end, write_end):
            if fd >= 0:
                os.close(fd)
        shutil.rmtree(folder, ignore_errors=True)


def _make_folder() -> str:
    """A fresh folder only the child's user can enter (nobody when we are root)."""
    folder = os.path.realpath(tempfile.mkdtemp(prefix="lms-sandbox-"))
    if os.geteuid() == 0:
        os.chown(folder, NOBODY, NOBODY)
    os.chmod(folder, 0o700)
    return folder


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def _death(
    returncode: int | None, timed_out: bool, elapsed: float, limits: SandboxLimits
) -> tuple[Verdict, str]:
    """What the tests the child did not report get, from how the child ended."""
    cpu = max(1, math.ceil(limits.cpu_seconds))
    if timed_out:
        return Verdict.TIMEOUT, f"Wall-clock limit of {limits.wall_seconds:g} s exceeded."
    if returncode == -signal.SIGXCPU or (returncode == -signal.SIGKILL and elapsed >= cpu):
        return Verdict.TIMEOUT, f"CPU time limit of {cpu:g} s exceeded."
    if returncode in (-signal.SIGKILL, -signal.SIGSEGV, -signal.SIGABRT, -signal.SIGBUS):
        return Verdict.MEMORY_LIMIT, "The program ran out of memory (or overflowed its stack)."
    if returncode == -signal.SIGXFSZ:
        return Verdict.ERROR, f"The program wrote a file larger than {FILE_BYTES} bytes."
    if returncode == -signal.SIGSYS:
        return Verdict.REFUSED, "The program made a forbidden system call."
    return Verdict.ERROR, f"The program ended before this test ran (exit code {returncode})."


def _outcomes(
    tests: Sequence[CodeTest], nonce: str, results: bytes, death: tuple[Verdict, str]
) -> list[TestOutcome]:
    """Only lines `<nonce> <index> <verdict> <hex message>` count; the first one per test."""
    reported: dict[int, TestOutcome] = {}
    for line in results.decode("ascii", "replace").split("\n"):
        fields = line.split(" ")
        if len(fields) == 3 and fields[0] == nonce and fields[1] == "seccomp":
            if fields[2] != "1" and "seccomp" not in _warned:
                _warned.add("seccomp")
                log.warning("sandbox: seccomp unavailable, relying on the other layers")
            continue
        if len(fields) != 4 or not secrets.compare_digest(fields[0], nonce):
            continue  # not from the runner: ignored
        with contextlib.suppress(ValueError):
            index, verdict = int(fields[1]), Verdict(fields[2])
            message = bytes.fromhex(fields[3]).decode("utf-8", "replace")[:500]
            if 0 <= index < len(tests) and index not in reported:
                reported[index] = TestOutcome(tests[index].name, verdict, message)
    return [reported.get(i) or TestOutcome(t.name, *death) for i, t in enumerate(tests)]
