"""Compression at the router, over HTTP: answers in brotli or gzip as `Accept-Encoding`
asks (q-values, `*`, `identity`), only for JSON/HTML/JS/CSS above 1 KiB; request bodies in
gzip, br or deflate, bounded once decoded (a zip bomb gets 413), a corrupt one 400, an
unknown encoding 415, each with its code. Compressed multipart uploads are decoded too."""

import gzip
import json
import os
import re
import zlib
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import urljoin

import brotli
import httpx
import pytest
from prometheus_client import Counter

from router.metrics import REGISTRY
from router.server.compression import MIN_SIZE
from router.server.http import MAX_BODY_BYTES
from router.server.uploads import UploadLimits
from tests.integration.router.served import served_router
from tests.integration.router.test_uploads import (
    PREFLIGHT,
    UPLOAD,
    Factory,
    make_router,
    recorders,
)
from tests.support import error_codes

__all__ = ["make_router", "recorders"]  # the upload tests' routers, fixtures here too

BIG = {"query": "{ __schema { types { name fields { name } } } }"}  # several KiB of JSON
SMALL = {"query": "{ topProduct { name } }"}
ENCODE: dict[str, Callable[[bytes], bytes]] = {
    "gzip": gzip.compress,
    "br": brotli.compress,
    "deflate": zlib.compress,
}
BOMB: dict[str, Callable[[bytes], bytes]] = {
    **ENCODE,
    "br": lambda data: brotli.compress(data, quality=4),  # quicker to make than quality 11
}
DECODE: dict[str, Callable[[bytes], bytes]] = {
    "gzip": gzip.decompress,
    "br": brotli.decompress,
}


@pytest.fixture
async def router() -> AsyncIterator[str]:
    async with served_router() as url:
        yield url


async def _raw(url: str, body: Any = BIG, **headers: str) -> tuple[httpx.Response, bytes]:
    """The answer and its body as sent (httpx would decode it)."""
    async with (
        httpx.AsyncClient() as client,
        client.stream("POST", f"{url}/graphql", json=body, headers=headers) as response,
    ):
        raw = b"".join([part async for part in response.aiter_raw()])
    return response, raw


async def _send(url: str, body: bytes, **headers: str) -> httpx.Response:
    async with httpx.AsyncClient() as client:
        headers = {"content-type": "application/json", **headers}
        return await client.post(f"{url}/graphql", content=body, headers=headers)


@pytest.mark.parametrize(
    ("accept", "coding"),
    [
        ("gzip", "gzip"),
        ("br", "br"),
        ("gzip, deflate, br", "br"),  # a tie: brotli
        ("gzip;q=0.9, br;q=0.5", "gzip"),
        ("br;q=0, gzip", "gzip"),
        ("*", "br"),
        ("*;q=0, gzip;q=0.1", "gzip"),
        ("identity;q=0.5, *;q=0.2", "br"),
        ("GZIP;Q=1", "gzip"),
        ("x-gzip", "gzip"),
        ("br;q=nonsense, gzip;q=0.3", "gzip"),
    ],
)
async def test_answers_are_compressed_as_the_client_prefers(
    router: str, accept: str, coding: str
) -> None:
    response, raw = await _raw(router, **{"accept-encoding": accept})
    assert response.headers["content-encoding"] == coding
    assert "Accept-Encoding" in response.headers["vary"]
    assert int(response.headers["content-length"]) == len(raw)
    answer = json.loads(DECODE[coding](raw))
    assert {"name": "Product", "fields": [{"name": "id"}, {"name": "name"}, {"name": "price"}, {"name": "reviews"}]} in answer["data"]["__schema"]["types"]  # fmt: skip


@pytest.mark.parametrize(
    "accept", ["identity", "br;q=0, gzip;q=0", "*;q=0", "deflate", "gzip;q=2", "", "compress"]
)
async def test_answers_are_sent_as_they_are_unless_a_supported_coding_is_acceptable(
    router: str, accept: str
) -> None:
    response, raw = await _raw(router, **{"accept-encoding": accept})
    assert "content-encoding" not in response.headers
    assert "Accept-Encoding" in response.headers["vary"]
    assert json.loads(raw)["data"]["__schema"]["types"]


async def test_small_answers_are_not_compressed(router: str) -> None:
    response, raw = await _raw(router, SMALL, **{"accept-encoding": "gzip, br"})
    assert "content-encoding" not in response.headers
    assert "Accept-Encoding" in response.headers["vary"]  # a larger one would be
    assert json.loads(raw) == {"data": {"topProduct": {"name": "Chair"}}}


async def test_other_types_are_not_compressed(router: str) -> None:
    # Prometheus' text, made longer than the threshold with a metric of this test's own
    padding = Counter("router_test_padding", "pads /metrics", ["n"], registry=REGISTRY)
    for n in range(100):
        padding.labels(str(n)).inc()
    try:
        async with httpx.AsyncClient() as client:
            metrics = await client.get(f"{router}/metrics", headers={"accept-encoding": "gzip"})
    finally:
        REGISTRY.unregister(padding)
    assert metrics.headers["content-type"].startswith("text/plain")
    assert len(metrics.content) > 2 * MIN_SIZE
    assert "content-encoding" not in metrics.headers
    assert "Accept-Encoding" not in metrics.headers.get("vary", "")


async def test_graphiqls_bundles_are_compressed_as_they_stream(router: str) -> None:
    async with httpx.AsyncClient() as client:
        page = await client.get(f"{router}/graphql", headers={"accept": "text/html"})
        [script] = re.findall(r'src="([^"]*graphiql-[^"]*\.min\.js)"', page.text)
        url = urljoin(f"{router}/graphql", script)
        plain = await client.get(url)
        async with client.stream("GET", url, headers={"accept-encoding": "br"}) as response:
            raw = b"".join([part async for part in response.aiter_raw()])
    assert response.headers["content-encoding"] == "br"
    assert "content-length" not in response.headers  # streamed
    assert brotli.decompress(raw) == plain.content
    assert len(raw) < len(plain.content) / 2


@pytest.mark.parametrize("coding", ["gzip", "br", "deflate", "identity"])
async def test_compressed_request_bodies_are_read(router: str, coding: str) -> None:
    body = json.dumps(SMALL).encode()
    encoded = ENCODE[coding](body) if coding != "identity" else body
    response = await _send(router, encoded, **{"content-encoding": coding})
    assert response.json() == {"data": {"topProduct": {"name": "Chair"}}}


@pytest.mark.parametrize("coding", ["gzip", "br", "deflate"])
async def test_a_zip_bomb_is_refused_once_decoded_past_the_body_limit(
    router: str, coding: str
) -> None:
    padding = b" " * (32 * MAX_BODY_BYTES)  # 32 MiB of JSON whitespace, a few KiB encoded
    bomb = BOMB[coding](json.dumps(SMALL).encode() + padding)
    assert len(bomb) < MAX_BODY_BYTES / 10
    response = await _send(router, bomb, **{"content-encoding": coding})
    assert response.status_code == 413
    assert error_codes(response.json()) == ["PAYLOAD_TOO_LARGE"]
    # and the router is still there
    assert (await _raw(router, SMALL))[0].status_code == 200


async def test_an_encoded_body_is_bounded_before_it_is_decoded(router: str) -> None:
    incompressible = gzip.compress(os.urandom(UploadLimits.max_bytes + 1024), compresslevel=1)
    assert len(incompressible) > UploadLimits.max_bytes
    response = await _send(router, incompressible, **{"content-encoding": "gzip"})
    assert response.status_code == 413
    assert error_codes(response.json()) == ["PAYLOAD_TOO_LARGE"]


def _corrupt(coding: str) -> list[bytes]:
    good = ENCODE[coding](json.dumps(SMALL).encode())
    return [
        good[: len(good) // 2],  # cut short
        good + b"trailing bytes",
        good[:4] + b"\xff" * 32,
        b"not compressed at all",
        b"",
    ]


@pytest.mark.parametrize("coding", ["gzip", "br", "deflate"])
async def test_a_body_that_does_not_decode_is_a_bad_request(router: str, coding: str) -> None:
    for body in _corrupt(coding):
        response = await _send(router, body, **{"content-encoding": coding})
        assert response.status_code == 400, body
        assert error_codes(response.json()) == ["INVALID_CONTENT_ENCODING"]
        assert coding in response.json()["errors"][0]["message"]


@pytest.mark.parametrize("coding", ["compress", "zstd", "gzip, br", "gzip, gzip", "x-unknown"])
async def test_an_unsupported_encoding_is_refused(router: str, coding: str) -> None:
    body = gzip.compress(json.dumps(SMALL).encode())
    response = await _send(router, body, **{"content-encoding": coding})
    assert response.status_code == 415
    assert error_codes(response.json()) == ["UNSUPPORTED_CONTENT_ENCODING"]
    assert response.headers["accept-encoding"] == "gzip, br, deflate"


async def _upload(factory: Factory, coding: str, content: bytes) -> httpx.Response:
    client = await factory(UploadLimits(max_bytes=256 * 1024, max_files=3))
    request = client.build_request(
        "POST",
        "/graphql",
        data={
            "operations": json.dumps({"query": UPLOAD, "variables": {"file": None}}),
            "map": json.dumps({"0": ["variables.file"]}),
        },
        files={"0": ("notes.txt", content, "text/plain")},
        headers=PREFLIGHT,
    )
    body = ENCODE[coding](request.read())
    headers = {**PREFLIGHT, "content-type": request.headers["content-type"]}
    return await client.post(
        "/graphql", content=body, headers={**headers, "content-encoding": coding}
    )


@pytest.mark.parametrize("coding", ["gzip", "br"])
async def test_a_compressed_multipart_upload_is_decoded(make_router: Factory, coding: str) -> None:
    content = b"the same line, again and again\n" * 1000
    response = await _upload(make_router, coding, content)
    assert response.status_code == 200, response.text
    assert response.json()["data"]["upload"]["size"] == len(content)


async def test_a_compressed_upload_is_bounded_by_the_upload_limit(make_router: Factory) -> None:
    response = await _upload(make_router, "gzip", b"\0" * (1024 * 1024))
    assert response.status_code == 413
    assert error_codes(response.json()) == ["PAYLOAD_TOO_LARGE"]
