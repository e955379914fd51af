"""The grader worker against hostile learner code, through RabbitMQ as the assessments
service sends it, with the grader process running as root and as uid nobody: each run must
finish with the right verdict and leave nothing behind."""

from __future__ import annotations

import asyncio
import signal
import socket
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from common.grading import CodeTest, GraderClient, RunResult, SandboxLimits, Verdict
from common.settings import Settings
from tests.grader_process import NOBODY, USERS, grader_client, grader_process, process_uid
from tests.support import eventually

TESTS = [
    CodeTest("small", "assert add(2, 3) == 5"),
    CodeTest("negatives", "assert add(-1, -1) == -2, 'negatives must add up'"),
]
LIMITS = SandboxLimits(cpu_seconds=1, wall_seconds=3)
REPOSITORY_FILE = Path(__file__).resolve().parents[3] / "pyproject.toml"
ADD = "def add(a, b):\n    return a + b\n"


def exists(path: str) -> bool:
    return Path(path).exists()


def leftover_folders() -> list[Path]:
    return list(Path("/tmp").glob("lms-sandbox-*"))


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


@pytest.fixture(scope="module", params=USERS)
async def grader(request: pytest.FixtureRequest, settings: Settings) -> AsyncIterator[GraderClient]:
    """A client of a grader process of this module's own, run as root or as nobody."""
    user: str = request.param
    queue = f"grader.test.{user}.{uuid.uuid4().hex[:8]}"
    async with (
        grader_process(settings, queue, user) as process,
        grader_client(settings, queue) as client,
    ):
        assert (await client.grade(ADD, TESTS, LIMITS)).passed == 2
        assert process_uid(process.pid) == (0 if user == "root" else NOBODY)
        yield client


async def run_code(grader: GraderClient, source: str, tests: list[CodeTest] = TESTS) -> RunResult:
    return await grader.grade(source, tests, LIMITS)


async def verdicts(grader: GraderClient, source: str) -> list[tuple[Verdict, str]]:
    result = await run_code(grader, source)
    return [(outcome.verdict, outcome.message) for outcome in result.outcomes]


async def test_right_and_wrong_solutions(grader: GraderClient) -> None:
    assert await verdicts(grader, ADD) == [(Verdict.PASSED, ""), (Verdict.PASSED, "")]
    wrong = await verdicts(grader, "def add(a, b):\n    return abs(a) + abs(b)\n")
    assert wrong == [(Verdict.PASSED, ""), (Verdict.FAILED, "negatives must add up")]


async def test_errors_name_the_exception_or_the_line(grader: GraderClient) -> None:
    crash = await verdicts(grader, "def add(a, b):\n    return a / 0\n")
    assert crash[0] == (Verdict.ERROR, "ZeroDivisionError: division by zero")
    syntax = await verdicts(grader, "def add(a, b)\n    return a + b\n")
    assert syntax[0][0] is Verdict.ERROR
    assert "line 1" in syntax[0][1]


async def test_limits_name_what_was_exceeded(grader: GraderClient) -> None:
    # Each limit is measured with the other out of reach, so a loaded machine (a second of
    # CPU taking longer than the wall clock allows) cannot swap the verdicts.
    spinning = SandboxLimits(cpu_seconds=1, wall_seconds=60)
    spin = await grader.grade("while True:\n    pass\n", TESTS, spinning)
    first = spin.outcomes[0]
    assert (first.verdict, first.message) == (Verdict.TIMEOUT, "CPU time limit of 1 s exceeded.")
    sleep = await verdicts(grader, "import time\ntime.sleep(100)\n")
    assert sleep[0] == (Verdict.TIMEOUT, "Wall-clock limit of 3 s exceeded.")
    # A test that hangs after others passed: those keep their verdict, the rest time out.
    result = await grader.grade(
        "def add(a, b):\n    while a < 0:\n        pass\n    return a + b\n", TESTS, spinning
    )
    assert [o.verdict for o in result.outcomes] == [Verdict.PASSED, Verdict.TIMEOUT]
    await eventually(lambda: not sandbox_processes())


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
        ("print(open('/etc/shadow').read())\n", Verdict.REFUSED),
        ("print(open('/proc/1/environ').read())\n", Verdict.REFUSED),
        (f"print(open({str(REPOSITORY_FILE)!r}).read())\n", Verdict.REFUSED),
        ("open('/tmp/lms-sandbox-escape', 'w').write('x')\n", Verdict.REFUSED),
        ("open('/usr/lms-sandbox-escape', 'w').write('x')\n", Verdict.REFUSED),
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
async def test_hostile_code_is_stopped(grader: GraderClient, source: str, verdict: Verdict) -> None:
    outcomes = await verdicts(grader, source)
    assert [v for v, _ in outcomes] == [verdict, verdict], outcomes
    assert not exists("/tmp/lms-sandbox-escape")
    assert not exists("/usr/lms-sandbox-escape")
    await eventually(lambda: not sandbox_processes())


async def test_the_grader_environment_does_not_reach_the_code(
    grader: GraderClient, settings: Settings
) -> None:
    result = await run_code(grader, "import os\nprint(sorted(os.environ.items()))\n" + ADD)
    assert result.passed == 2
    assert "LMS_" not in result.output
    assert settings.amqp_url not in result.output
    assert "HOME" in result.output  # what the sandbox sets is there


async def test_no_network_even_to_loopback(grader: GraderClient) -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.setblocking(False)
    port = server.getsockname()[1]
    try:
        code = f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=1)\n"
        outcomes = await verdicts(grader, code)
        assert outcomes[0][0] is Verdict.REFUSED
        with pytest.raises(BlockingIOError):
            server.accept()  # nobody connected
    finally:
        server.close()


async def test_the_temporary_folder_is_usable_and_private(grader: GraderClient) -> None:
    source = (
        "import os\n"
        "open('notes.txt', 'w').write('hello')\n"
        "FOLDER = os.getcwd()\n"
        "def add(a, b):\n"
        "    return a + b if open('notes.txt').read() == 'hello' else None\n"
        "print(FOLDER)\n"
    )
    result = await run_code(grader, source)
    assert result.passed == 2
    assert result.output.strip() == "/sandbox"  # a tmpfs of the sandbox's own
    assert not exists("/sandbox/notes.txt")
    assert not leftover_folders()


async def test_output_is_bounded(grader: GraderClient) -> None:
    flood = await run_code(grader, "while True:\n    print('x' * 1000)\n")
    assert len(flood.output) < LIMITS.output_bytes + 200
    assert "truncated" in flood.output
    hundred_mb = await run_code(
        grader, "for _ in range(100):\n    print('y' * 1024 * 1024)\n" + ADD
    )
    assert hundred_mb.passed == 2
    assert len(hundred_mb.output) < LIMITS.output_bytes + 200
    assert hundred_mb.output.endswith(f"[output truncated after {LIMITS.output_bytes} bytes]")


async def test_results_cannot_be_forged(grader: GraderClient) -> None:
    forged = await run_code(
        grader,
        "import os\n"
        "for fd in range(3, 20):\n"
        "    try:\n"
        '        os.write(fd, b\'{"name": "small", "verdict": "PASSED", "message": ""}\\n\')\n'
        "    except OSError:\n"
        "        pass\n"
        "print('PASSED')\n"
        "def add(a, b):\n"
        "    return 0\n",
    )
    assert [o.verdict for o in forged.outcomes] == [Verdict.FAILED, Verdict.FAILED]
    peeking = await run_code(
        grader,
        "def add(a, b):\n"
        "    try:\n"
        "        raise ValueError\n"
        "    except ValueError as error:\n"
        "        print(error.__traceback__.tb_frame.f_back.f_locals)\n",
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
async def test_the_runner_cannot_be_subverted(grader: GraderClient, attack: str) -> None:
    result = await run_code(grader, attack + "def add(a, b):\n    return 0\n")
    assert result.passed == 0, result


async def test_the_standard_library_is_importable(grader: GraderClient) -> None:
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
    result = await run_code(grader, source)
    assert result.passed == 2, result


@pytest.mark.parametrize("user", USERS)
async def test_a_grader_killed_mid_run_leaves_nothing_and_loses_no_job(
    settings: Settings, user: str
) -> None:
    queue = f"grader.test.killed.{uuid.uuid4().hex[:8]}"
    async with grader_client(settings, queue) as client:
        async with grader_process(settings, queue, user) as first:
            waiting = asyncio.ensure_future(run_code(client, "import time\ntime.sleep(100)\n"))
            await eventually(sandbox_processes, within=30)  # the job runs
            first.send_signal(signal.SIGKILL)  # before it answered or acknowledged
            await first.wait()
            await eventually(lambda: not sandbox_processes(), within=10)
        assert not waiting.done()
        async with grader_process(settings, queue, user):  # the job is delivered again
            result = await waiting
        assert [o.verdict for o in result.outcomes] == [Verdict.TIMEOUT, Verdict.TIMEOUT]


@pytest.mark.parametrize("source", ["x = 1\n" * 20_000, "x = '\x00'\n"])
async def test_oversized_or_binary_source_is_refused_without_running(
    grader: GraderClient, source: str
) -> None:
    result = await run_code(grader, source)
    assert [o.verdict for o in result.outcomes] == [Verdict.REFUSED, Verdict.REFUSED]
    assert result.duration_ms == 0


async def test_many_runs_at_once_all_finish(grader: GraderClient) -> None:
    results = await asyncio.gather(*(run_code(grader, ADD) for _ in range(8)))
    assert all(result.passed == 2 for result in results)
