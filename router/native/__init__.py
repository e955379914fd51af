"""The router's hot pure-computation modules compiled with mypyc, optional and safe.

`python -m router.native build` (scripts/setup.sh runs it) compiles `MODULES` in place: a
`.so` next to each `.py`, which Python then imports instead. What the router runs is decided
once, when `router` is imported (`STATUS`; logged at start-up, and `/health` says "native"
or "pure"): the compiled modules when they were built from exactly the sources beside them
and the router modules those import (`STAMP`), else the `.py` files. Pure Python when
`LMS_ROUTER_NATIVE=0` (for debugging, profiling, coverage), when nothing was compiled (no C
compiler: the router answers the same, more slowly) and when one of those files changed
since the build (compiled code never runs stale).

The modules are compiled as one group whose classes know each other's layouts, so they are
used all together or not at all. Nothing may monkeypatch them: calls between compiled
functions do not look names up.
"""

import hashlib
import importlib.abc
import importlib.machinery
import importlib.util
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

# Where compiling pays (bench/router_replay.py, each left out in turn): completion and null
# propagation (complete), the shapes it reads (shape: native classes, their fields read
# directly) and the walks and merges of the response tree (merge), 1.25x less CPU per
# request together; then the grouping of the objects an entity fetch extends by their
# representations (representations.grouped: a sync loop over every object walked, out of
# the executor's coroutine), and the copy of a deduplicated subgraph answer each caller
# gets (jsoncopy). The executor itself compiled bought 1 % more: left out.
MODULES = (
    "router.execution.complete",
    "router.execution.merge",
    "router.execution.representations",
    "router.execution.shape",
    "router.jsoncopy",
)
SWITCH = "LMS_ROUTER_NATIVE"
NATIVE = "native"
GROUP = "router.native"  # its shared library: router/native__mypyc.<abi>.so
ROOT = Path(__file__).resolve().parents[2]
# The digests of what the last build read: the modules' sources and the router modules they
# import (a compiled module relies on their types), by path.
STAMP = ROOT / "router" / "native" / "built.json"
_EXTENSIONS = tuple(importlib.machinery.EXTENSION_SUFFIXES)


def source(module: str) -> Path:
    return ROOT.joinpath(*module.split(".")).with_suffix(".py")


def digest(path: str) -> str:
    return hashlib.sha256((ROOT / path).read_bytes()).hexdigest()


def compiled() -> dict[str, Path]:
    """Every compiled module in router/ (by name), whatever built it, and the group's shared
    library (`GROUP`__mypyc)."""
    found: dict[str, Path] = {}
    for ending in {suffix.rsplit(".", 1)[-1] for suffix in _EXTENSIONS}:
        for path in (ROOT / "router").rglob("*." + ending):
            for suffix in _EXTENSIONS:
                if path.name.endswith(suffix):
                    parts = path.relative_to(ROOT).parts
                    found[".".join([*parts[:-1], path.name[: -len(suffix)]])] = path
                    break
    return found


def artefacts() -> list[Path]:
    """What builds left in the tree: the compiled modules, the shared library, the stamp."""
    found = list(compiled().values())
    return [*found, STAMP] if STAMP.exists() else found


class _PureSource(importlib.abc.MetaPathFinder):
    """Imports the compiled modules from their `.py` files (the path finder would take the
    `.so` beside each)."""

    def __init__(self, modules: frozenset[str]) -> None:
        self.modules = modules

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in self.modules:
            return None
        return importlib.util.spec_from_file_location(fullname, source(fullname))


def _fresh() -> bool:
    """Whether every file the last build read is as it was then."""
    compiled_sources = {str(source(m).relative_to(ROOT)) for m in MODULES}
    try:
        built: dict[str, str] = json.loads(STAMP.read_text())
        return compiled_sources <= built.keys() and all(digest(p) == d for p, d in built.items())
    except (OSError, ValueError, AttributeError):  # a file gone; a stamp that is not ours
        return False


def _choose() -> str:
    """NATIVE, or why the router runs pure Python; in that case, makes it so."""
    found = {name for name in compiled() if not name.endswith("__mypyc")}
    if not found:
        return "pure Python (not compiled: python -m router.native build)"
    if os.environ.get(SWITCH, "1") == "0":
        reason = f"pure Python ({SWITCH}=0)"
    elif found != set(MODULES) or not _fresh():
        reason = "pure Python (the compiled modules are stale: python -m router.native build)"
    else:
        return NATIVE
    sys.meta_path.insert(0, _PureSource(frozenset(found)))
    return reason


STATUS = _choose()


def in_use() -> str:
    """Whether the hot modules run compiled, "native", or not, "pure" (as `/health` says)."""
    return "native" if STATUS == NATIVE else "pure"
