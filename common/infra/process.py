"""Helpers shared by the servers: find binaries, run as a service account, wait, end."""

from __future__ import annotations

import glob
import os
import pwd
import re
import shutil
import signal
import stat
import subprocess
import time
from collections.abc import Callable, Iterable, Mapping
from contextlib import suppress
from pathlib import Path

from common.infra.errors import ServerStartError


def find_binary(name: str, *dirs: str) -> str:
    """``name`` from the first of ``dirs`` (globs, highest version first) that has it, or PATH."""
    for pattern in dirs:
        for folder in sorted(glob.glob(pattern), key=_version_key, reverse=True):
            candidate = Path(folder) / name
            if candidate.is_file() and os.access(candidate, os.X_OK):
                return str(candidate)
    found = shutil.which(name)
    if found is None:
        searched = ", ".join([*dirs, "PATH"])
        raise FileNotFoundError(f"{name} not found in {searched}; run `bash scripts/setup.sh`")
    return found


def _version_key(path: str) -> tuple[int, ...]:
    return tuple(int(number) for number in re.findall(r"\d+", path))


def clean_env(drop_prefixes: Iterable[str], **values: str) -> dict[str, str]:
    """Our environment minus variables that could redirect a server, plus ``values``."""
    prefixes = tuple(drop_prefixes)
    kept = {key: value for key, value in os.environ.items() if not key.startswith(prefixes)}
    return kept | values


def service_account(name: str) -> pwd.struct_passwd:
    """The system user ``name``, created (no home, no shell) if missing. Root only."""
    with suppress(KeyError):
        return pwd.getpwnam(name)
    useradd = ["useradd", "--system", "--user-group", "--no-create-home"]
    subprocess.run(
        [*useradd, "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", name],
        check=True,
        capture_output=True,
    )
    return pwd.getpwnam(name)


def as_user(account: pwd.struct_passwd) -> list[str]:
    """A command prefix that runs what follows as ``account`` (exec, so the pid is kept)."""
    uid, gid = account.pw_uid, account.pw_gid
    return ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--init-groups", "--"]


def hand_over(folder: Path, account: pwd.struct_passwd) -> None:
    """Make ``folder`` owned by ``account`` and reachable by it (search bit on each ancestor)."""
    os.chown(folder, account.pw_uid, account.pw_gid)
    for ancestor in folder.parents:
        mode = ancestor.stat().st_mode
        if not mode & stat.S_IXOTH:
            ancestor.chmod(stat.S_IMODE(mode) | stat.S_IXOTH)


def run_logged(
    command: list[str], log: Path, env: Mapping[str, str], cwd: Path, timeout: float
) -> int:
    """Run a helper command to completion, its output appended to ``log``; its exit code."""
    with log.open("ab") as output:
        try:
            done = subprocess.run(
                command,
                env=env,
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return -1
    return done.returncode


def wait_until(
    predicate: Callable[[], bool], timeout: float, what: str, log: Path | None = None
) -> None:
    """Poll ``predicate`` until true; after ``timeout`` seconds raise, quoting ``log``."""
    deadline = time.monotonic() + timeout
    pause = 0.02
    while not predicate():
        if time.monotonic() > deadline:
            raise ServerStartError(what, f"not ready after {timeout:g}s", log)
        time.sleep(pause)
        pause = min(pause * 1.5, 0.25)


def end_process(
    process: subprocess.Popen[bytes],
    timeout: float,
    request: Callable[[subprocess.Popen[bytes]], None] | None = None,
) -> None:
    """Ask ``process`` to exit (SIGTERM unless ``request`` is given), wait, then SIGKILL.

    The process must lead its own session: what is left of its group is killed at the end.
    """
    if process.poll() is None:
        (request or _terminate)(process)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            _kill_group(process.pid)
            process.wait()
    _kill_group(process.pid)


def _terminate(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)


def _kill_group(group: int) -> None:
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(group, signal.SIGKILL)
