"""The code sandbox against hostile learner code: each test must finish with the right
verdict, quickly, and leave nothing behind."""

from __future__ import annotations

import asyncio
import os
import socket
from pathlib import Path

import pytest

from subgraphs.assessments.sandbox import CodeTest, SandboxLimits, Verdict, run_code
from tests.support import eventually

TESTS = [
    CodeTest("small", "assert add(2, 3) == 5"),
    CodeTest("negatives", "assert add(-1, -1) == -2, 'negatives must add up'"),
]
LIMITS = SandboxLimits(cpu_seconds=1, wall_seconds=3)
REPOSITORY_FILE = Path(__file__).resolve().parents[3] / "pyproject.toml"


def exists(path: str) -> bool:
    return Path(path).exists()


def leftover_folders() -> list[Path]:
    return list(Path(os.environ.get("TMPDIR", "/tmp")).glob("lms-sandbox-*"))


def sandbox_processes() -> list[int]:
    """Processes still running the child's code (its source is on their command line)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if b"SandboxViolation" in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


async def verdicts(source: str) -> list[tuple[Verdict, str]]:
    result = await run_code(source, TESTS, LIMITS)
    return [(outcome.verdict, outcome.message) for outcome in result.outcomes]


async def test_right_and_wrong_solutions() -> None:
    assert await verdicts("def add(a, b):\n    return a + b\n") == [
        (Verdict.PASSED, ""),
        (Verdict.PASSED, ""),
    ]
    wrong = await verdicts("def add(a, b):\n    return abs(a) + abs(b)\n")
    assert wrong == [(Verdict.PASSED, ""), (Verdict.FAILED, "negatives must add up")]


async def test_errors_name_the_exception_or_the_line() -> None:
    crash = await verdicts("def add(a, b):\n    return a / 0\n")
    assert crash[0] == (Verdict.ERROR, "ZeroDivisionError: division by zero")
    syntax = await verdicts("def add(a, b)\n    return a + b\n")
    assert syntax[0][0] is Verdict.ERROR
    assert "line 1" in syntax[0][1]


async def test_limits_name_what_was_exceeded() -> None:
    started = asyncio.get_running_loop().time()
    spin = await verdicts("while True:\n    pass\n")
    assert spin[0] == (Verdict.TIMEOUT, "CPU time limit of 1 s exceeded.")
    assert asyncio.get_running_loop().time() - started < LIMITS.cpu_seconds + 1.5
    started = asyncio.get_running_loop().time()
    sleep = await verdicts("import time\ntime.sleep(100)\n")
    assert sleep[0] == (Verdict.TIMEOUT, "Wall-clock limit of 3 s exceeded.")
    assert asyncio.get_running_loop().time() - started < LIMITS.wall_seconds + 1
    # A test that hangs after others passed: those keep their verdict, the rest time out.
    result = await run_code(
        "def add(a, b):\n    while a < 0:\n        pass\n    return a + b\n", TESTS, LIMITS
    )
    assert [o.verdict for o in result.outcomes] == [Verdict.PASSED, Verdict.TIMEOUT]
    assert not sandbox_processes()


@pytest.mark.parametrize(
    ("source", "verdict"),
    [
        ("blob = bytearray(10 * 1024 ** 3)\n", Verdict.MEMORY_LIMIT),
        ("import os\nwhile True:\n    os.fork()\n", Verdict.REFUSED),
        ("import subprocess\nsubprocess.run(['sh', '-c', 'echo hi'])\n", Verdict.REFUSED),
        ("import _posixsubprocess\n", Verdict.REFUSED),
        ("import ctypes\n", Verdict.REFUSED),
        ("import threading\n", Verdict.REFUSED),
        ("print(open('/etc/passwd').read())\n", Verdict.REFUSED),
        (f"print(open({str(REPOSITORY_FILE)!r}).read())\n", Verdict.REFUSED),
        ("open('/tmp/lms-sandbox-escape', 'w').write('x')\n", Verdict.REFUSED),
        ("import os\nos.listdir('/')\n", Verdict.REFUSED),
        ("import os\nos.system('touch /tmp/lms-sandbox-escape')\n", Verdict.REFUSED),
        ("import importlib\nimportlib.import_module('_socket').socket()\n", Verdict.REFUSED),
        (
            "import os\nos.open('/tmp/lms-sandbox-escape', os.O_WRONLY | os.O_CREAT)\n",
            Verdict.REFUSED,
        ),
        ("import sys\nsys.settrace(lambda *a: None)\n", Verdict.REFUSED),
        ("import gc\ngc.get_objects()\n", Verdict.REFUSED),
        ("import marshal\nmarshal.loads(b'')\n", Verdict.REFUSED),
    ],
)
async def test_hostile_code_is_stopped(source: str, verdict: Verdict) -> None:
    started = asyncio.get_running_loop().time()
    outcomes = await verdicts(source)
    assert [v for v, _ in outcomes] == [verdict, verdict], outcomes
    assert asyncio.get_running_loop().time() - started < LIMITS.wall_seconds + 2
    assert not exists("/tmp/lms-sandbox-escape")
    assert not sandbox_processes()


async def test_no_network_even_to_loopback() -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.setblocking(False)
    port = server.getsockname()[1]
    try:
        code = f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=1)\n"
        outcomes = await verdicts(code)
        assert outcomes[0][0] is Verdict.REFUSED
        with pytest.raises(BlockingIOError):
            server.accept()  # nobody connected
    finally:
        server.close()


async def test_the_temporary_folder_is_usable_and_removed() -> None:
    source = (
        "import os\n"
        "open('notes.txt', 'w').write('hello')\n"
        "FOLDER = os.getcwd()\n"
        "def add(a, b):\n"
        "    return a + b if open('notes.txt').read() == 'hello' else None\n"
        "print(FOLDER)\n"
    )
    result = await run_code(source, TESTS, LIMITS)
    assert result.passed == 2
    folder = result.output.strip()
    assert folder.startswith("/tmp/") or folder.startswith(os.environ.get("TMPDIR", "/tmp"))
    assert not exists(folder)


async def test_output_is_bounded() -> None:
    flood = await run_code("while True:\n    print('x' * 1000)\n", TESTS, LIMITS)
    assert len(flood.output) < LIMITS.output_bytes + 200
    assert "truncated" in flood.output
    hundred_mb = await run_code(
        "for _ in range(100):\n    print('y' * 1024 * 1024)\ndef add(a, b):\n    return a + b\n",
        TESTS,
        LIMITS,
    )
    assert hundred_mb.passed == 2
    assert len(hundred_mb.output) < LIMITS.output_bytes + 200
    assert hundred_mb.output.endswith(f"[output truncated after {LIMITS.output_bytes} bytes]")


async def test_results_cannot_be_forged() -> None:
    forged = await run_code(
        "import os\n"
        "for fd in range(3, 20):\n"
        "    try:\n"
        '        os.write(fd, b\'{"name": "small", "verdict": "PASSED", "message": ""}\\n\')\n'
        "    except OSError:\n"
        "        pass\n"
        "print('PASSED')\n"
        "def add(a, b):\n"
        "    return 0\n",
        TESTS,
        LIMITS,
    )
    assert [o.verdict for o in forged.outcomes] == [Verdict.FAILED, Verdict.FAILED]
    peeking = await run_code(
        "def add(a, b):\n"
        "    try:\n"
        "        raise ValueError\n"
        "    except ValueError as error:\n"
        "        print(error.__traceback__.tb_frame.f_back.f_locals)\n",
        TESTS,
        LIMITS,
    )
    assert peeking.outcomes[0].verdict is Verdict.REFUSED


@pytest.mark.parametrize(
    "attack",
    [
        # The runner's own helpers, patched: it bound what it needs before the learner ran.
        "import json\n_dumps = json.dumps\njson.dumps = lambda o, **k: _dumps(dict(o, verdict='PASSED'))\n",
        "import builtins\nbuiltins.exec = lambda *a, **k: None\nbuiltins.compile = lambda *a, **k: None\n",
        "import os\nos.write = lambda fd, data: 0\n",
        # A signal handler would receive the runner's frame (and its nonce): refused.
        "import importlib\ns = importlib.import_module('_signal')\ndef steal(n, f):\n    while f is not None:\n        if 'report' in f.f_locals:\n            f.f_locals['report'](0, 'PASSED', '')\n            f.f_locals['report'](1, 'PASSED', '')\n        f = f.f_back\ns.signal(s.SIGALRM, steal)\ns.setitimer(s.ITIMER_REAL, 0.001, 0.001)\nwhile True:\n    pass\n",
        # Lines that look like the runner's, on stdout and on every descriptor.
        "import os\nfor fd in range(1, 32):\n    try:\n        os.write(fd, b'\\n0123 0 PASSED \\n0123 1 PASSED \\n')\n    except OSError:\n        pass\n",
        "import sys\nsys.modules['__main__'].__dict__.clear()\n",
        "import os\nos._exit(0)\n",
    ],
)
async def test_the_runner_cannot_be_subverted(attack: str) -> None:
    result = await run_code(attack + "def add(a, b):\n    return 0\n", TESTS, LIMITS)
    assert result.passed == 0, result


async def test_the_standard_library_is_importable() -> None:
    source = (
        "import math, itertools, collections, re, json, functools, dataclasses, typing\n"
        "import random, fractions, statistics, heapq, bisect, string, datetime, decimal, enum\n"
        "Point = collections.namedtuple('Point', 'x y')\n"
        "T = typing.TypeVar('T')\n"
        "@dataclasses.dataclass\n"
        "class Box:\n"
        "    value: int\n"
        "def add(a, b):\n"
        "    return Box(Point(a, b).x).value + math.floor(b)\n"
    )
    result = await run_code(source, TESTS, LIMITS)
    assert result.passed == 2, result


async def test_a_cancelled_run_leaves_nothing_behind() -> None:
    task = asyncio.ensure_future(run_code("import time\ntime.sleep(100)\n", TESTS, LIMITS))
    await eventually(sandbox_processes)  # the child runs
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await eventually(lambda: not sandbox_processes(), within=5)
    assert not leftover_folders()


@pytest.mark.parametrize("source", ["x = 1\n" * 20_000, "x = '\x00'\n"])
async def test_oversized_or_binary_source_is_refused_without_running(source: str) -> None:
    result = await run_code(source, TESTS, LIMITS)
    assert [o.verdict for o in result.outcomes] == [Verdict.REFUSED, Verdict.REFUSED]
    assert result.duration_ms == 0


async def test_many_runs_at_once_all_finish() -> None:
    results = await asyncio.gather(
        *(run_code("def add(a, b):\n    return a + b\n", TESTS, LIMITS) for _ in range(8))
    )
    assert all(result.passed == 2 for result in results)
