"""A Zipkin collector on loopback for the tests: `POST /api/v2/spans` (JSON v2), each body
validated against Zipkin's published API (`tests/data/zipkin/zipkin2-api.yaml`, its
`ListOfSpans`); the spans kept, and every body that did not validate kept with its error.

It runs on a thread of its own, so that processes under test (the router, `lms dev`'s
services) and the test's own event loop can both export to it."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from common.infra.ports import LOOPBACK

API = Path(__file__).parent / "data" / "zipkin" / "zipkin2-api.yaml"


def span_list_schema() -> dict[str, Any]:
    """Zipkin's `ListOfSpans`, as a JSON Schema with the API's definitions beside it."""
    definitions = yaml.safe_load(API.read_text())["definitions"]
    return {"$ref": "#/definitions/ListOfSpans", "definitions": definitions}


class ZipkinCollector:
    def __init__(self) -> None:
        self.validator = jsonschema.Draft4Validator(
            span_list_schema(), format_checker=jsonschema.FormatChecker()
        )
        self.spans: list[dict[str, Any]] = []
        self.invalid: list[str] = []
        self._lock = threading.Lock()
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                status = collector.receive(self.path, body)
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer((LOOPBACK, 0), Handler)
        self.url = f"http://{LOOPBACK}:{self.server.server_port}/api/v2/spans"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def receive(self, path: str, body: bytes) -> int:
        if path != "/api/v2/spans":
            return 404
        try:
            spans = json.loads(body)
            self.validator.validate(spans)
        except (ValueError, jsonschema.ValidationError) as error:
            with self._lock:
                self.invalid.append(f"{type(error).__name__}: {str(error)[:500]}")
            return 400
        with self._lock:
            self.spans.extend(spans)
        return 202

    def received(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.spans)

    def trace(self, trace_id: str) -> list[dict[str, Any]]:
        return [span for span in self.received() if span["traceId"] == trace_id]

    def complete(
        self, trace_id: str, expected: set[tuple[str, str]]
    ) -> list[dict[str, Any]] | None:
        """The trace's spans once every (service, span name) expected has arrived, else None:
        each process exports its own batches, on its own schedule."""
        spans = self.trace(trace_id)
        return spans if expected <= {(service(s), s["name"]) for s in spans} else None

    def __enter__(self) -> ZipkinCollector:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join()


def collector() -> Iterator[ZipkinCollector]:
    """For a fixture: a running collector, stopped afterwards."""
    with ZipkinCollector() as running:
        yield running


def ancestry(spans: list[dict[str, Any]], span: dict[str, Any]) -> list[dict[str, Any]]:
    """`span` and its ancestors among `spans`, nearest first: the last is the first whose
    parent is not among them (the trace's root, or a span of the client's)."""
    by_id = {each["id"]: each for each in spans}
    chain = [span]
    while (parent := by_id.get(chain[-1].get("parentId", ""))) is not None:
        chain.append(parent)
    return chain


def service(span: dict[str, Any]) -> str:
    return str(span.get("localEndpoint", {}).get("serviceName", ""))
