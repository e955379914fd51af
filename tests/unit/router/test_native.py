"""The router's compiled modules (`router.native`) run only when they are what the sources
say: never with LMS_ROUTER_NATIVE=0, never once a source was edited after the build; and
what runs is what `STATUS` (the start-up log, `/health`) says. Each case in a fresh
interpreter, since the choice is made when `router` is imported."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from router import native

REPORT = (
    "import importlib, json, router.native as n; "
    "print(json.dumps([n.STATUS, n.in_use(), "
    "[importlib.import_module(m).__file__ for m in n.MODULES]]))"
)


def _imported(root: Path, **env: str) -> tuple[str, str, list[str]]:
    """STATUS, in_use() and the files `MODULES` were imported from, in a fresh interpreter
    whose `router` is the one under `root`."""
    environment = {k: v for k, v in os.environ.items() if k != "LMS_ROUTER_NATIVE"}
    environment.update(PYTHONPATH=str(root), **env)
    found = subprocess.run(
        [sys.executable, "-c", REPORT],
        cwd=root,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    status, in_use, files = json.loads(found.stdout)
    return status, in_use, files


def test_what_runs_is_what_status_says() -> None:
    status, in_use, files = _imported(native.ROOT)
    compiled = in_use == "native"
    assert (status == native.NATIVE) == compiled
    assert all(f.endswith(".so") == compiled for f in files), files
    assert len(files) == len(native.MODULES)


def test_the_switch_runs_pure_python() -> None:
    status, in_use, files = _imported(native.ROOT, LMS_ROUTER_NATIVE="0")
    assert in_use == "pure"
    assert all(f.endswith(".py") for f in files), files
    if native.compiled():
        assert status == "pure Python (LMS_ROUTER_NATIVE=0)"


# A compiled module, and a module whose types one was compiled against.
@pytest.mark.parametrize("edited", ["router/execution/merge.py", "router/planning/nodes.py"])
def test_a_module_edited_after_the_build_runs_as_pure_python(tmp_path: Path, edited: str) -> None:
    shutil.copytree(native.ROOT / "router", tmp_path / "router")
    _, before, _ = _imported(tmp_path)
    assert before == _imported(native.ROOT)[1]  # a copy of the tree runs as the tree does

    changed = tmp_path / edited
    changed.write_text(changed.read_text() + "\nEDITED = True\n")
    status, in_use, files = _imported(tmp_path)
    assert in_use == "pure"
    assert all(f.endswith(".py") for f in files), files
    if native.compiled():
        assert status.startswith("pure Python (the compiled modules are stale")
        assert native.STAMP.exists()
