"""The router's traces, as a router process exports them to a Zipkin collector: sampling at 0
exports nothing of a new trace, the parent-based sampler follows a client's sampled flag, the
subgraph request carries the router's own span, and bad tracing settings are refused in one
line naming the key."""

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.integration.router.conftest import SUPERGRAPH, make_subgraphs
from tests.router_process import router_process
from tests.zipkin import ZipkinCollector, ancestry, collector, service

pytestmark = pytest.mark.usefixtures("fast_export")

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
SAMPLED = f"00-{TRACE_ID}-00f067aa0ba902b7-01"
QUERY = "{ topProduct { name reviews { body } } }"  # the products and reviews subgraphs


@pytest.fixture
def fast_export(monkeypatch: pytest.MonkeyPatch) -> None:
    """The router process exports finished spans within 100 ms (the SDK's variable)."""
    monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "100")


zipkin = pytest.fixture(collector)


def _config(tmp_path: Path, zipkin: ZipkinCollector, sampler: str) -> Path:
    path = tmp_path / "router.yaml"
    path.write_text(
        "telemetry:\n  exporters:\n    tracing:\n"
        f"      common:\n        sampler: {sampler}\n"
        f"      zipkin:\n        enabled: true\n        endpoint: {zipkin.url}\n"
    )
    return path


async def _query(url: str, headers: dict[str, str] | None = None) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.post(f"{url}/graphql", json={"query": QUERY}, headers=headers)
    assert response.json()["data"]["topProduct"]["name"] == "Chair"


async def test_sampling_at_zero_exports_nothing_but_a_sampled_parent_is_followed(
    tmp_path: Path, zipkin: ZipkinCollector
) -> None:
    config = _config(tmp_path, zipkin, "0")
    async with router_process(arguments=["--config", str(config)]) as url:
        await _query(url)  # a new trace: the ratio (0) says no
        await _query(url, {"traceparent": f"00-{'1' * 32}-{'2' * 16}-00"})  # unsampled parent
        await _query(url, {"traceparent": SAMPLED})
    # the router has stopped: whatever it recorded was exported on the way out
    assert zipkin.invalid == []
    assert {span["traceId"] for span in zipkin.received()} == {TRACE_ID}


async def test_a_dropped_trace_makes_no_span_and_the_subgraphs_are_told_it_is_dropped(
    tmp_path: Path, zipkin: ZipkinCollector
) -> None:
    """Sampling at 0: the subgraph requests carry the router's (unsampled) span, so that the
    subgraphs' parent-based samplers drop the trace too instead of starting traces of their
    own; one context for the whole request, not one per fetch."""
    graphs = make_subgraphs()
    config = _config(tmp_path, zipkin, "0")
    async with router_process(arguments=["--config", str(config)], graphs=graphs) as url:
        await _query(url)
    assert zipkin.received() == []
    sent = [h["traceparent"] for g in ("products", "reviews") for h in graphs[g].headers]
    assert len(sent) == 2
    assert len(set(sent)) == 1  # the request's server span
    version, trace_id, _, flags = sent[0].split("-")
    assert version == "00"
    assert int(flags, 16) & 1 == 0  # not sampled (the SDK may set the random-id flag, 02)
    assert trace_id != "0" * 32


async def test_one_trace_from_the_request_to_each_subgraph_fetch(
    tmp_path: Path, zipkin: ZipkinCollector
) -> None:
    config = _config(tmp_path, zipkin, "always_on")
    async with router_process(arguments=["--config", str(config)]) as url:
        await _query(url, {"traceparent": SAMPLED})
    assert zipkin.invalid == []
    spans = zipkin.trace(TRACE_ID)
    assert {service(span) for span in spans} == {"router"}
    names = {span["name"] for span in spans}
    assert {"POST /graphql", "parse_validate", "query_planning", "execution"} <= names
    fetches = [span for span in spans if span["name"].startswith("fetch ")]
    assert sorted(span["tags"]["graphql.subgraph"] for span in fetches) == ["products", "reviews"]
    for fetch in fetches:
        chain = ancestry(spans, fetch)
        assert chain[-1]["name"] == "POST /graphql"
        assert chain[-1]["parentId"] == SAMPLED.split("-")[2]  # the client's span
        assert fetch["kind"] == "CLIENT"
    entity_fetch = next(span for span in fetches if span["tags"]["graphql.subgraph"] == "reviews")
    assert entity_fetch["tags"]["graphql.entities"] == "1"


@pytest.mark.parametrize(
    ("tracing", "message"),
    [
        (
            "common:\n        sampler: 1.5",
            "telemetry.exporters.tracing.common.sampler: should be less than or equal to 1",
        ),
        (
            "zipkin:\n        enabled: true\n        endpoint: not-a-url",
            "telemetry.exporters.tracing.zipkin.endpoint: should be a valid URL",
        ),
        (
            "otlp:\n        protocol: grpc",
            "telemetry.exporters.tracing.otlp.protocol: should be 'http'",
        ),
    ],
)
def test_bad_tracing_settings_are_one_line_naming_the_key(
    tmp_path: Path, tracing: str, message: str
) -> None:
    supergraph = tmp_path / "supergraph.graphql"
    supergraph.write_text(SUPERGRAPH)
    config = tmp_path / "router.yaml"
    config.write_text(f"telemetry:\n  exporters:\n    tracing:\n      {tracing}\n")
    serve = ["serve", "--supergraph", str(supergraph), "--config", str(config)]
    done = subprocess.run(
        [sys.executable, "-m", "router", *serve],
        capture_output=True,
        text=True,
        timeout=60,
        env=os.environ,
    )
    assert done.returncode == 2
    [line] = done.stderr.splitlines()
    assert line.startswith(f"error: {config}: {message}")
