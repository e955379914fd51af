"""The code sandbox against hostile learner code: each test must finish with the right
verdict, quickly, and leave nothing behind."""

from __future__ import annotations

import asyncio
import os
import socket
from pathlib import Path

import pytest

from subgraphs.assessments.sandbox import CodeTest, SandboxLimits, Verdict, run_code

TESTS = [
    CodeTest("small", "assert add(2, 3) == 5"),
    CodeTest("negatives", "assert add(-1, -1) == -2, 'negatives must add up'"),
]
LIMITS = SandboxLimits(cpu_seconds=1, wall_seconds=5)
REPOSITORY_FILE = Path(__file__).resolve().parents[3] / "pyproject.toml"


def exists(path: str) -> bool:
    return Path(path).exists()


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


@pytest.mark.parametrize(
    ("source", "verdict"),
    [
        ("while True:\n    pass\n", Verdict.TIMEOUT),  # CPU limit
        ("import time\ntime.sleep(100)\n", Verdict.TIMEOUT),  # wall clock
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
    ],
)
async def test_hostile_code_is_stopped(source: str, verdict: Verdict) -> None:
    started = asyncio.get_running_loop().time()
    outcomes = await verdicts(source)
    assert [v for v, _ in outcomes] == [verdict, verdict], outcomes
    assert asyncio.get_running_loop().time() - started < LIMITS.wall_seconds + 2
    assert not exists("/tmp/lms-sandbox-escape")


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


async def test_output_is_bounded_and_results_cannot_be_forged() -> None:
    flood = await run_code("while True:\n    print('x' * 1000)\n", TESTS, LIMITS)
    assert len(flood.output) < LIMITS.output_bytes + 200
    assert "truncated" in flood.output
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


async def test_oversized_source_is_refused_without_running() -> None:
    result = await run_code("x = 1\n" * 20_000, TESTS, LIMITS)
    assert [o.verdict for o in result.outcomes] == [Verdict.REFUSED, Verdict.REFUSED]
    assert result.duration_ms == 0


async def test_many_runs_at_once_all_finish() -> None:
    results = await asyncio.gather(
        *(run_code("def add(a, b):\n    return a + b\n", TESTS, LIMITS) for _ in range(8))
    )
    assert all(result.passed == 2 for result in results)
