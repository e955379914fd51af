"""A sampling profiler for a running server, without ptrace: runs a Python module (as
``python -m``) with a CPU-time timer (``signal.setitimer(ITIMER_PROF)``) whose handler
records the interrupted stack, and the garbage collector's runs timed through
``gc.callbacks``. At exit (a server stopped by SIGTERM/SIGINT exits normally) it writes
the samples' split to OUT: each function's own samples and the samples under it, and
the share under a few named parts of the HTTP path (uvicorn's protocol, the app, the
writes).

Usage (in place of ``python -m router serve ...``, e.g. as bench/peer_gateways.sh's command):
    python bench/sample_profile.py OUT.txt [--interval-ms 1] -- -m router serve ...

Caveat: time spent in C with no Python frame running (the event loop's own polling and
socket reads under uvloop) is counted on the next Python frame to run; the timer's signal
itself costs a few microseconds per sample (about 1 % at 1 ms)."""

import atexit
import collections
import gc
import os
import runpy
import signal
import sys
import time
from pathlib import Path
from types import FrameType

# A part of the path: a sample counts for the first (innermost) frame matching a rule.
PARTS = (
    ("gc (collections, timed separately below)", ("gc_collect", "sample_profile.py:on_gc")),
    (
        "the answer's send (head, transport.write)",
        ("httptools_impl.py:send", "http_protocol.py:send"),
    ),
    ("HTTP protocol (uvicorn, router/server/http_protocol.py)", ("uvicorn/", "http_protocol.py")),
    ("execution (router/execution, router/query_planner)", ("router/execution/",)),
    ("subgraph client (router/transport)", ("router/transport/",)),
    ("gateway (router/gateway, router/policies)", ("router/gateway/", "router/policies/")),
    ("ASGI app: middleware, endpoint (router/server, starlette)", ("router/server/", "starlette/")),
    ("asyncio / event loop", ("asyncio/", "uvloop")),
    ("start-up (imports, schema)", ("importlib", "router/cli.py")),
)


def main() -> None:
    out = Path(sys.argv[1])
    args = sys.argv[2:]
    interval = 0.001
    if args[:1] == ["--interval-ms"]:
        interval, args = float(args[1]) / 1000, args[2:]
    if args[:1] == ["--"]:
        args = args[1:]
    assert args[:1] == ["-m"], "usage: sample_profile.py OUT [--interval-ms N] -- -m MODULE ARGS"
    module = args[1]

    own: collections.Counter[str] = collections.Counter()
    under: collections.Counter[str] = collections.Counter()
    parts: collections.Counter[str] = collections.Counter()
    gc_time = [0.0, 0.0]  # seconds, started
    gc_runs: collections.Counter[int] = collections.Counter()
    gc_by: collections.Counter[int] = collections.Counter()  # seconds by generation
    gc_walked: collections.Counter[int] = collections.Counter()  # objects collected
    total = [0]

    def name(frame: FrameType) -> str:
        code = frame.f_code
        path = code.co_filename
        short = path.split("site-packages/")[-1].split("/wt-")[-1]
        return f"{short}:{code.co_name}"

    def sample(signum: int, frame: FrameType | None) -> None:
        total[0] += 1
        names = []
        while frame is not None:
            names.append(name(frame))
            frame = frame.f_back
        if not names:
            return
        own[names[0]] += 1
        for item in set(names):
            under[item] += 1
        for item in names:  # the innermost frame a part names
            label = next((label for label, marks in PARTS if any(m in item for m in marks)), None)
            if label is not None:
                parts[label] += 1
                break
        else:
            parts["other"] += 1

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            gc_time[1] = time.process_time()
        else:
            spent = time.process_time() - gc_time[1]
            gc_time[0] += spent
            gc_runs[info["generation"]] += 1
            gc_by[info["generation"]] += spent  # type: ignore[assignment]
            gc_walked[info["generation"]] += info["collected"]

    def report() -> None:
        signal.setitimer(signal.ITIMER_PROF, 0)
        n = max(total[0], 1)
        cpu = time.process_time()
        lines = [
            f"samples: {total[0]} over {cpu:.1f} s of CPU (asked every {interval * 1000:g} ms; "
            f"one per {cpu / n * 1000:.1f} ms: the kernel's timer ticks bound it)",
            "",
        ]
        lines.append("parts (the innermost frame a part names):")
        for label, count in parts.most_common():
            lines.append(f"  {100 * count / n:5.1f} %  {label}")
        lines.append("")
        lines.append(
            f"gc: {gc_time[0] * 1000:.1f} ms in {sum(gc_runs.values())} collections "
            f"(by generation {dict(sorted(gc_runs.items()))}); thresholds {gc.get_threshold()}"
        )
        for generation in sorted(gc_runs):
            runs, spent = gc_runs[generation], gc_by[generation]
            lines.append(
                f"  generation {generation}: {spent * 1000:.1f} ms, {spent / runs * 1000:.2f} ms a "
                f"collection, {gc_walked[generation]} objects freed"
            )
        lines.append("")
        lines.append("own samples (top 60):")
        for item, count in own.most_common(60):
            lines.append(f"  {100 * count / n:5.1f} %  {item}")
        lines.append("")
        lines.append("samples under (top 80):")
        for item, count in under.most_common(80):
            lines.append(f"  {100 * count / n:5.1f} %  {item}")
        out.write_text("\n".join(lines) + "\n")

    gc.callbacks.append(on_gc)
    atexit.register(report)
    signal.signal(signal.SIGPROF, sample)
    signal.setitimer(signal.ITIMER_PROF, interval, interval)
    young = os.environ.get("SAMPLE_GC_YOUNG")  # try another young threshold for `serve`
    if young:
        from router.server import collector

        collector.YOUNG_THRESHOLD = int(young)  # type: ignore[misc]
    sys.argv = [module, *args[2:]]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
