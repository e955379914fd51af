"""`python -m router` and `router.cli.main`: plan printing and a real served process."""

import asyncio
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from router.cli import main
from tests.integration.router.conftest import SUPERGRAPH, RawServer
from tests.integration.router.raw_http import QUERY, TOP_PRODUCT, answer, read_request
from tests.integration.router.test_progressive_override import labelled_supergraph


@pytest.fixture
def supergraph_file(tmp_path: Path) -> Path:
    path = tmp_path / "supergraph.graphql"
    path.write_text(SUPERGRAPH)
    return path


def test_plan_prints_a_readable_plan(
    supergraph_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    query = tmp_path / "q.graphql"
    query.write_text("query Q { products { name reviews { body } } }")
    code = main(["plan", "--supergraph", str(supergraph_file), "--query", str(query)])
    out = capsys.readouterr().out
    assert code == 0
    assert out.startswith('QueryPlan {\n  Sequence {\n    Fetch(service: "products")')
    assert 'Flatten(path: "products.@")' in out


def test_plan_reports_unknown_operation(
    supergraph_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    query = tmp_path / "q.graphql"
    query.write_text("query Q { products { name } }")
    args = ["plan", "--supergraph", str(supergraph_file), "--query", str(query)]
    assert main([*args, "--operation-name", "Nope"]) == 1
    assert "Nope" in capsys.readouterr().err


def test_bad_supergraph_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.graphql"
    path.write_text("type Query { a: Int }")
    query = tmp_path / "q.graphql"
    query.write_text("{ a }")
    assert main(["plan", "--supergraph", str(path), "--query", str(query)]) == 2
    assert "not a supergraph" in capsys.readouterr().err


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_served_process_answers_health_and_exits_on_sigterm(supergraph_file: Path) -> None:
    port = _free_port()
    command = [sys.executable, "-m", "router", "--supergraph", str(supergraph_file)]
    process = subprocess.Popen([*command, "--port", str(port)])
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        assert response.json()["status"] == "ok"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_plan_takes_override_labels(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "labelled.graphql"
    path.write_text(labelled_supergraph("beta"))
    query = tmp_path / "q.graphql"
    query.write_text('{ product(id: "p1") { price } }')
    args = ["plan", "--supergraph", str(path), "--query", str(query)]
    assert main(args) == 0
    assert 'service: "new"' not in capsys.readouterr().out
    assert main([*args, "--override-label", "beta"]) == 0
    assert 'Fetch(service: "new")' in capsys.readouterr().out


async def test_served_process_bounds_subgraph_answers(
    supergraph_file: Path, raw_server: RawServer
) -> None:
    """`--max-subgraph-response-bytes` reaches the subgraph client of a served router."""

    async def oversized(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(answer(TOP_PRODUCT + b" " * 2000))
        await writer.drain()
        writer.close()

    url = await raw_server(oversized)
    port = _free_port()
    overrides = [
        arg
        for name in ("products", "reviews", "users")
        for arg in ("--subgraph-url", f"{name}={url}")
    ]
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *["-m", "router", "--supergraph", str(supergraph_file), "--port", str(port)],
        *["--max-subgraph-response-bytes", "1000", "--no-watch", *overrides],
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
            for _ in range(100):
                try:
                    await client.get("/health")
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
            body = (await client.post("/graphql", json=QUERY)).json()
    finally:
        process.terminate()
        await process.wait()
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "SUBGRAPH_RESPONSE_TOO_LARGE"


def test_a_jwt_algorithm_open_to_forgery_is_refused_in_one_line(supergraph_file: Path) -> None:
    """HS256 would let anyone holding the public JWKS sign tokens; `none` needs no key."""
    for algorithm in ("HS256", "none"):
        done = subprocess.run(
            [
                *(sys.executable, "-m", "router", "serve", "--supergraph", str(supergraph_file)),
                *("--jwks-url", "http://127.0.0.1:9/jwks.json", "--jwt-issuer", "https://i"),
                *("--jwt-audience", "a", "--jwt-algorithm", algorithm),
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 2, done.stderr
        assert done.stderr.startswith("error: JWT algorithms must be some of"), done.stderr
        assert done.stderr.count("\n") == 1
