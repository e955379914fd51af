"""Run the `lms` command as a user does: a child process, a clean environment of our own."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 60.0  # seconds for a command that should end at once


def environment(**values: str) -> dict[str, str]:
    """This process's environment without any LMS_ variable, plus ``values``; our tree first
    on the import path."""
    kept = {key: value for key, value in os.environ.items() if not key.startswith("LMS_")}
    path = os.pathsep.join(filter(None, [str(ROOT), kept.get("PYTHONPATH")]))
    return kept | {"PYTHONPATH": path} | values


def lms_environment(**values: str) -> dict[str, str]:
    """The session's LMS_ settings (its servers, keys and ports) for an `lms` child."""
    session = {key: value for key, value in os.environ.items() if key.startswith("LMS_")}
    return environment(**session, **values)


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "lms", *args]


def run_lms(*args: str, env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return run(command(*args), env)


def run_python(source: str) -> subprocess.CompletedProcess[str]:
    """``source`` run by a Python of its own, as `lms` would be."""
    return run([sys.executable, "-c", source])


def run(argv: list[str], env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv,
        env=environment() if env is None else dict(env),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    """The command's stderr, which must be exactly one ``error: …`` line."""
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: "), done.stderr
    return lines[0]
