"""`python -m router.native build | status | clean`: compile the router's hot modules in place
(scripts/setup.sh runs `build`; about 30 s), say what `import router` uses here, or remove
what `build` made."""

import ast
import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from router.native import GROUP, MODULES, ROOT, STAMP, STATUS, SWITCH, artefacts, digest, source

LOG = ROOT / "build" / "native.log"
# mypyc through setuptools, as the `mypyc` command does, with the group named so that its
# shared library sits inside router/ (not at the top of sys.path).
SETUP = (
    "import sys; from setuptools import setup; from mypyc.build import mypycify; "
    "setup(name='router-native', script_args=['build_ext', '--inplace'], "
    f"ext_modules=mypycify(sys.argv[1:], opt_level='3', group_name={GROUP!r}))"
)
# A fresh interpreter must take the compiled modules and import them: else the build is undone.
CHECK = (
    "import importlib, router.native as n; assert n.STATUS == n.NATIVE, n.STATUS; "
    "assert all(importlib.import_module(m).__file__.endswith('.so') for m in n.MODULES)"
)


def read_by_build() -> list[Path]:
    """`MODULES`' sources and the router modules they import: mypyc compiles a module
    against their types, so a change to any of them makes the build stale."""
    found = {source(m) for m in MODULES}
    for module in MODULES:
        for node in ast.walk(ast.parse(source(module).read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                if name.startswith("router."):
                    path = ROOT.joinpath(*name.split("."))
                    found.update(
                        p for p in (path.with_suffix(".py"), path / "__init__.py") if p.exists()
                    )
    return sorted(found)


def build() -> int:
    """Compiles `MODULES`; on any failure removes what it made (the router then runs pure
    Python) and says so in one line. 0 when compiled, else 1."""
    started = time.monotonic()
    clean()
    LOG.parent.mkdir(exist_ok=True)
    sources = [str(source(m).relative_to(ROOT)) for m in MODULES]
    env = {**os.environ, "PYTHONPATH": str(ROOT), SWITCH: "1"}
    with LOG.open("w") as log:

        def run(*args: str) -> None:
            subprocess.run(
                [sys.executable, "-c", *args], cwd=ROOT, stdout=log, stderr=log, env=env, check=True
            )

        try:
            run(SETUP, *sources)
            files = [str(path.relative_to(ROOT)) for path in read_by_build()]
            STAMP.write_text(json.dumps({path: digest(path) for path in files}, indent=1))
            run(CHECK)
        except (OSError, subprocess.CalledProcessError):
            clean()
            print(f"router: not compiled with mypyc (see {LOG}): it runs pure Python")
            return 1
    spent = time.monotonic() - started
    print(f"router: {len(MODULES)} modules compiled with mypyc in {spent:.0f} s ({SWITCH}=0: pure)")
    return 0


def clean() -> None:
    for path in artefacts():
        path.unlink()


def main(argv: Sequence[str]) -> int:
    command = argv[0] if argv else "status"
    if command == "build":
        return build()
    if command == "clean":
        clean()
        return 0
    if command == "status":
        print(STATUS)
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
