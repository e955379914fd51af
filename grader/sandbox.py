"""Running a learner's Python against an instructor's tests, inside bubblewrap.

Threat model: the code is hostile. It may loop forever, fork, allocate without end, print
without end, open sockets, read the grader's files or environment, or try to forge a
passing result. Layers, from the kernel up:
- bubblewrap (`bwrap`) is the boundary: new user, mount, PID, network, IPC and UTS
  namespaces, no capabilities, a new session, dying with the grader; a root of read-only
  binds of only what the interpreter needs (its binary, standard library and shared
  libraries: no /etc, no /home, no /proc, nothing of ours), a private tmpfs as /tmp and as
  the work folder, a minimal /dev; no environment but what we set (no LMS_*), no
  network at all (only a loopback of its own). bwrap itself runs as uid/gid nobody (a root
  grader drops to it first), inside as nobody too;
- rlimits set before bwrap starts, inherited by everything in it: CPU seconds, address
  space, file size, open files, core dumps and processes; at most ``CONCURRENCY``
  sandboxes at once per event loop;
- inside (sandbox_child.py), as before: a seccomp filter (no sockets, fork, exec, signals,
  timers, signal handlers, ptrace) and an audit hook (no frames, native code, marshal,
  files outside the work folder except reading the standard library);
- the wall clock is enforced here by killing bwrap's process group (its PID namespace
  goes with it); output is read concurrently with a fixed budget, the rest drained and
  dropped.
Verdicts travel on their own pipe, each line prefixed with a random nonce the child reads
from stdin before the learner's code runs and keeps only in locals it never exposes; lines
without it are ignored, so printing, writing to any fd or a crafted exit code cannot turn
a failing test into PASSED. Tests share one process (they run in order, each in a copy of
the learner's namespace); when the process dies mid-run, the tests it had not reported get
the verdict of the death (TIMEOUT, MEMORY_LIMIT, ERROR).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import math
import os
import resource
import secrets
import shutil
import signal
import subprocess
import sys
import time
import weakref
from collections.abc import Sequence
from pathlib import Path

from common.grading import DEFAULT_LIMITS, CodeTest, RunResult, SandboxLimits, TestOutcome, Verdict

log = logging.getLogger(__name__)

CHILD = (Path(__file__).with_name("sandbox_child.py")).read_text(encoding="utf-8")
NOBODY = 65534
WORK = "/sandbox"  # the work folder inside the sandbox (a tmpfs), also HOME
TMP = "/tmp"  # noqa: S108 - the sandbox's own, a private tmpfs
MAX_RESULTS_BYTES = 1024 * 1024
CONCURRENCY = 2  # sandboxes at once per process; the machine has two cores
FILE_BYTES = 1024 * 1024  # RLIMIT_FSIZE: the largest file a run may write
TMPFS_BYTES = 32 * 1024 * 1024  # each of /tmp and the work folder
OPEN_FILES = 32
PROCESSES = 64  # RLIMIT_NPROC, over all of uid nobody's processes: bwrap, its init, the child
KILL_GRACE = 1.0  # seconds to wait for the pipes to close after killing the group
SIGNAL_EXIT = 128  # bwrap exits 128 + n when the child was killed by signal n

_slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)
_warned: set[str] = set()


class SandboxUnavailable(RuntimeError):
    """bwrap or a Python for the sandbox is missing: the grader cannot grade at all."""


@functools.cache
def _interpreter() -> tuple[str, tuple[str, ...]]:
    """A Python under /usr (ours when it is there) and the folders it needs."""
    candidates = (os.path.realpath(sys.executable), "/usr/bin/python3")
    for candidate in candidates:
        if candidate.startswith("/usr/") and os.access(candidate, os.X_OK):
            return os.path.realpath(candidate), _python_folders(os.path.realpath(candidate))
    raise SandboxUnavailable("The sandbox needs a Python interpreter under /usr.")


def _python_folders(interpreter: str) -> tuple[str, ...]:
    probe = (
        "import json, sys, sysconfig; v = sysconfig.get_config_var; print(json.dumps("
        "[sysconfig.get_path('stdlib'), v('DESTSHARED'), v('LIBDIR'),"
        " '/usr/lib/' + (v('MULTIARCH') or ''), '/usr/lib64']))"
    )
    found = subprocess.run(
        [interpreter, "-I", "-S", "-c", probe], capture_output=True, check=True, timeout=30
    )
    folders = {os.path.realpath(f) for f in json.loads(found.stdout) if f and os.path.isdir(f)}
    return tuple(sorted(f for f in folders if f != "/usr/lib"))


@functools.cache
def _bwrap() -> str:
    found = shutil.which("bwrap")
    if found is None:
        raise SandboxUnavailable(
            "The sandbox needs bubblewrap (bwrap): apt-get install bubblewrap."
        )
    return found


def check_available() -> None:
    """Raises SandboxUnavailable unless bwrap and a Python for the sandbox are there."""
    _bwrap()
    _interpreter()


def sandbox_command(program: Sequence[str]) -> list[str]:
    """bwrap's command line running `program` (its first word an interpreter) inside."""
    interpreter, folders = _interpreter()
    command = [_bwrap(), "--unshare-all", "--die-with-parent", "--new-session"]
    command += ["--cap-drop", "ALL", "--uid", str(NOBODY), "--gid", str(NOBODY)]
    command += ["--clearenv", "--setenv", "PATH", "/usr/bin", "--setenv", "LANG", "C.UTF-8"]
    command += ["--setenv", "PYTHONIOENCODING", "utf-8", "--setenv", "HOME", WORK]
    command += ["--setenv", "TMPDIR", TMP]
    for folder in (*folders, interpreter):
        command += ["--ro-bind", folder, folder]
    for top in ("/bin", "/lib", "/lib64", "/lib32"):  # merged /usr: the loader's paths
        if os.path.islink(top):
            command += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top) and top != "/bin":
            command += ["--ro-bind", top, top]
    command += ["--dev", "/dev"]  # no /proc: Python needs none, and in a container the
    # kernel refuses a fresh procfs over a masked one (bwrap then works with no privilege)
    for tmpfs in (TMP, WORK):
        command += ["--size", str(TMPFS_BYTES), "--tmpfs", tmpfs]
    command += ["--remount-ro", "/", "--chdir", WORK, "--"]
    return [*command, *program]


def python_program(*arguments: str) -> list[str]:
    """The sandbox's Python (isolated mode, no site) with `arguments`."""
    return [_interpreter()[0], "-I", "-S", "-B", *arguments]


def confine(limits: SandboxLimits) -> None:
    """Runs in the child between fork and exec of bwrap: identity and limits.

    Only async-signal-safe work: system calls through os/resource, no imports, no logging.
    """
    if os.geteuid() == 0:  # bwrap runs unprivileged, so RLIMIT_NPROC binds (not root's)
        os.setgroups([])
        os.setgid(NOBODY)
        os.setuid(NOBODY)
    cpu = max(1, math.ceil(limits.cpu_seconds))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_BYTES, FILE_BYTES))
    resource.setrlimit(resource.RLIMIT_NOFILE, (OPEN_FILES, OPEN_FILES))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NPROC, (PROCESSES, PROCESSES))


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
    source: str, tests: Sequence[CodeTest], limits: SandboxLimits = DEFAULT_LIMITS
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
    command = await asyncio.to_thread(sandbox_command, python_program("-c", CHILD))
    read_end, write_end = os.pipe()
    process: asyncio.subprocess.Process | None = None
    transport: asyncio.BaseTransport | None = None
    try:
        job = {
            "nonce": nonce,
            "results_fd": write_end,
            "folder": WORK,
            "source": source,
            "tests": [{"name": t.name, "code": t.code} for t in tests],
        }
        process = await asyncio.create_subprocess_exec(
            *command,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            pass_fds=(write_end,),
            start_new_session=True,
            preexec_fn=functools.partial(confine, limits),
            env={"PATH": "/usr/bin:/bin"},  # bwrap's own; the sandbox's is set by --setenv
            cwd="/",
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
            kill_sandbox(process.pid)
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
            kill_sandbox(process.pid)
            with contextlib.suppress(ProcessLookupError):
                process.kill()
        if transport is not None:
            transport.close()
        for fd in (read_end, write_end):
            if fd >= 0:
                os.close(fd)


def kill_sandbox(pid: int) -> None:
    """SIGKILL to bwrap's process group; its PID namespace dies with it."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def _death(
    returncode: int | None, timed_out: bool, elapsed: float, limits: SandboxLimits
) -> tuple[Verdict, str]:
    """What the tests the child did not report get, from how the child ended (bwrap exits
    with 128 + n when the child died of signal n)."""
    cpu = max(1, math.ceil(limits.cpu_seconds))
    if timed_out:
        return Verdict.TIMEOUT, f"Wall-clock limit of {limits.wall_seconds:g} s exceeded."
    code = returncode or 0
    died = -code if code < 0 else code - SIGNAL_EXIT if code > SIGNAL_EXIT else 0
    if died == signal.SIGXCPU or (died == signal.SIGKILL and elapsed >= cpu):
        return Verdict.TIMEOUT, f"CPU time limit of {cpu:g} s exceeded."
    if died in (signal.SIGKILL, signal.SIGSEGV, signal.SIGABRT, signal.SIGBUS):
        return Verdict.MEMORY_LIMIT, "The program ran out of memory (or overflowed its stack)."
    if died == signal.SIGXFSZ:
        return Verdict.ERROR, f"The program wrote a file larger than {FILE_BYTES} bytes."
    if died == signal.SIGSYS:
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
