"""A Zipkin collector for the benchmark: accepts `POST /api/v2/spans` on loopback, counts the
spans and discards them (what a real collector's network hop costs the router, without
its storage). Prints its count when stopped (SIGTERM or Ctrl-C).

Usage: python bench/zipkin_sink.py PORT"""

from __future__ import annotations

import contextlib
import json
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Count:
    spans = 0
    lock = threading.Lock()


class Sink(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        try:
            received = len(json.loads(body))
        except (ValueError, TypeError):
            received = 0
        with Count.lock:
            Count.spans += received
        self.send_response(202)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        return


def main(port: int) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", port), Sink)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    print(f"zipkin sink: {Count.spans} spans received", file=sys.stderr)


if __name__ == "__main__":
    main(int(sys.argv[1]))
