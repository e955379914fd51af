"""The subgraph client's CPU per call over real loopback sockets, this tree against another.

A small HTTP/1.1 server (its own process) answers every POST with the same JSON body
(Content-Length framing, Node-like headers); `StreamTransport` of each tree, in a process of
its own on uvloop (as the router serves), sends `--calls` queries from `--concurrency`
callers over its keep-alive pool, and reports its process CPU per call. Rounds alternate
between the trees; the ratio is the median of the paired rounds'.

    flock /tmp/bench.lock python bench/subgraph_client.py --tree /work/wt-main

What it leaves out: the router around the client (bench/router_replay.py, without sockets)
and the kernel's side of the server (counted in the server's process, not here).
"""

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEADERS = (
    b"HTTP/1.1 200 OK\r\nx-powered-by: Express\r\ncontent-type: application/json; "
    b"charset=utf-8\r\ndate: Fri, 04 Dec 2026 17:00:00 GMT\r\nconnection: keep-alive\r\n"
    b"keep-alive: timeout=65\r\ncontent-length: %d\r\n\r\n"
)


def serve(port: int, size: int) -> None:
    body = b'{"data":{"x":"' + b"a" * size + b'"}}'
    answer = HEADERS % len(body) + body

    class Answering(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            self.transport = transport
            self.buffer = b""

        def data_received(self, data: bytes) -> None:
            self.buffer += data
            while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
                at = self.buffer.lower().find(b"content-length:", 0, end) + 15
                length = int(self.buffer[at : self.buffer.find(b"\r\n", at)])
                if len(self.buffer) < end + 4 + length:
                    return
                self.buffer = self.buffer[end + 4 + length :]
                self.transport.write(answer)  # type: ignore[attr-defined]

    async def main() -> None:
        server = await asyncio.get_running_loop().create_server(Answering, "127.0.0.1", port)
        await server.serve_forever()

    asyncio.run(main())


def client(port: int, calls: int, concurrency: int) -> None:
    import uvloop

    from router.transport.streams import StreamTransport

    entities = "_entities(representations: $representations) { __typename }"
    payload = {
        "query": f"query($representations: [_Any!]!) {{ {entities} }}",
        "variables": {"representations": [{"__typename": "T", "id": str(i)} for i in range(20)]},
    }

    async def main() -> None:
        transport = StreamTransport({"a": f"http://127.0.0.1:{port}/graphql"})

        async def one(count: int) -> None:
            for _ in range(count):
                await transport.send("a", payload, {"authorization": "Bearer x"})

        await asyncio.gather(*(one(200) for _ in range(concurrency)))  # warm
        started = time.process_time()
        await asyncio.gather(*(one(calls // concurrency) for _ in range(concurrency)))
        print((time.process_time() - started) / calls * 1e6)
        await transport.aclose()

    uvloop.run(main())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tree", required=True, help="the tree to compare with")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=40_000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--size", type=int, default=5000, help="answer body bytes")
    parser.add_argument("--port", type=int, default=18931)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--client", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.port, args.size)
    elif args.client:
        client(args.port, args.calls, args.concurrency)
    else:
        compare(args)


def compare(args: argparse.Namespace) -> None:
    me = [sys.executable, __file__, "--tree", args.tree, "--port", str(args.port)]
    server = subprocess.Popen([*me, "--serve", "--size", str(args.size)])
    time.sleep(1.0)
    trees = {"this tree": str(ROOT), "base": args.tree}
    spent: dict[str, list[float]] = {name: [] for name in trees}
    try:
        for _ in range(args.rounds):
            for name, tree in trees.items():
                out = subprocess.run(
                    [
                        *me,
                        "--client",
                        "--calls",
                        str(args.calls),
                        "--concurrency",
                        f"{args.concurrency}",
                    ],
                    env={**os.environ, "PYTHONPATH": tree},
                    capture_output=True,
                    text=True,
                    check=True,
                )
                spent[name].append(float(out.stdout))
            print(" ".join(f"{name} {spent[name][-1]:.1f} us/call" for name in trees))
    finally:
        server.terminate()
        server.wait(10)
    ratios = [b / t for t, b in zip(spent["this tree"], spent["base"], strict=True)]
    print(
        f"median: this tree {statistics.median(spent['this tree']):.1f} us/call, base "
        f"{statistics.median(spent['base']):.1f}; base / this tree x{statistics.median(ratios):.2f}"
        f" (load average {os.getloadavg()[0]:.2f})"
    )


if __name__ == "__main__":
    main()
