"""File uploads through the router: GraphQL multipart requests in, multipart subgraph fetches out.

Two Strawberry subgraphs composed by the router's own composition: `files` takes the uploads
(`scalar Upload`) and `scans` adds a field to its result entity, so one operation makes a
fetch that carries files (multipart) and one that does not (JSON).
"""

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import httpx
import pytest
import strawberry
import uvicorn
from graphql import GraphQLScalarType
from starlette.types import ASGIApp, Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.federation import Schema
from strawberry.file_uploads import Upload

from router.composition import SubgraphInput, compose
from router.server import create_app
from router.server.uploads import UploadLimits
from router.supergraph import load_supergraph
from router.transport import HttpTransport, StreamTransport, Transport
from router.transport.multipart import UploadedFile, encode_multipart
from tests.integration.router.subgraphs import local_client, mounted
from tests.unit.router.supergraphs import local_graphs

PREFLIGHT = {"apollo-require-preflight": "true"}
UPLOAD = "mutation($file: Upload!, $note: String) { upload(file: $file, note: $note) { filename contentType size sha256 note } }"
UPLOAD_MANY = "mutation($files: [Upload!]!) { uploadMany(files: $files) { filename size sha256 } }"
ATTACH = "mutation($input: AttachmentInput!) { attach(input: $input) { filename sha256 note } }"


@strawberry.federation.type(keys=["sha256"])
class UploadResult:
    sha256: str
    filename: str
    content_type: str
    size: int
    note: str | None = None


@strawberry.input
class AttachmentInput:
    title: str
    file: Upload


async def _describe(file: Any, note: str | None = None) -> UploadResult:
    # Strawberry hands the resolver Starlette's UploadFile for an `Upload` argument (the same
    # object twice when one file is mapped to two paths).
    await file.seek(0)
    data = await file.read()
    return UploadResult(
        sha256=hashlib.sha256(data).hexdigest(),
        filename=file.filename,
        content_type=file.content_type,
        size=len(data),
        note=note,
    )


async def _describe_all(files: list[Any], note: str | None = None) -> list[UploadResult]:
    try:
        return [await _describe(file, note) for file in files]
    finally:
        for file in files:  # Strawberry leaves the spooled files open
            await file.close()


@strawberry.type
class FilesQuery:
    @strawberry.field
    def ping(self) -> str:
        return "pong"


@strawberry.type
class FilesMutation:
    @strawberry.mutation
    async def upload(self, file: Upload, note: str | None = None) -> UploadResult:
        return (await _describe_all([file], note))[0]

    @strawberry.mutation
    async def upload_many(self, files: list[Upload]) -> list[UploadResult]:
        return await _describe_all(files)

    @strawberry.mutation
    async def attach(self, input: AttachmentInput) -> UploadResult:
        return (await _describe_all([input.file], input.title))[0]


@strawberry.federation.type(keys=["sha256"], name="UploadResult")
class ScannedUpload:
    sha256: str

    @strawberry.field
    def verdict(self) -> str:
        return "clean"

    @classmethod
    def resolve_reference(cls, sha256: str) -> "ScannedUpload":
        return cls(sha256=sha256)


@strawberry.type
class ScansQuery:
    @strawberry.field
    def scanner(self) -> str:
        return "ok"


FILES = Schema(query=FilesQuery, mutation=FilesMutation, federation_version="2.9")
SCANS = Schema(query=ScansQuery, types=[ScannedUpload], federation_version="2.9")


def _sdl(schema: Schema) -> str:
    result = schema.execute_sync("{ _service { sdl } }")
    assert result.data is not None
    return str(result.data["_service"]["sdl"])


def _supergraph(urls: dict[str, str]) -> str:
    result = compose(
        [
            SubgraphInput("files", urls["files"], _sdl(FILES)),
            SubgraphInput("scans", urls["scans"], _sdl(SCANS)),
        ]
    )
    assert result.supergraph_sdl is not None, result.errors
    return result.supergraph_sdl


class _Recorder:
    """Notes the headers of every request that reaches a subgraph."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.headers: list[dict[str, str]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.headers.append({k.decode(): v.decode() for k, v in scope["headers"]})
        await self.app(scope, receive, send)

    def content_types(self) -> list[str]:
        return [h.get("content-type", "").split(";")[0] for h in self.headers]


Recorders = dict[str, _Recorder]
Factory = Callable[..., Awaitable[httpx.AsyncClient]]


@pytest.fixture
def recorders() -> Recorders:
    return {
        "files": _Recorder(GraphQL(FILES, multipart_uploads_enabled=True)),
        "scans": _Recorder(GraphQL(SCANS)),
    }


async def _serve(app: ASGIApp) -> tuple[uvicorn.Server, "asyncio.Task[None]", int]:
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    for _ in range(500):
        if server.started:
            break
        await asyncio.sleep(0.01)
    return server, serving, server.servers[0].sockets[0].getsockname()[1]


@pytest.fixture(params=["httpx", "streams"])
async def make_router(
    request: pytest.FixtureRequest, recorders: Recorders
) -> AsyncIterator[Factory]:
    """Routers with the given upload limits, on either subgraph client."""
    apps = mounted(recorders)
    transport: Transport
    if request.param == "streams":
        server, serving, port = await _serve(apps)
        urls = {name: f"http://127.0.0.1:{port}/{name}/graphql" for name in recorders}
        transport = StreamTransport(urls)
    else:
        urls = local_graphs(*recorders)
        transport = HttpTransport(urls, client=local_client(apps))
    supergraph = _supergraph(urls)
    clients: list[httpx.AsyncClient] = []

    async def build(uploads: UploadLimits | None = None) -> httpx.AsyncClient:
        app = create_app(supergraph, transport=transport, uploads=uploads)
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://r")
        clients.append(client)
        return client

    yield build
    for client in clients:
        await client.aclose()
    await transport.aclose()
    if request.param == "streams":
        server.should_exit = True
        await serving


@pytest.fixture
async def router(make_router: Factory) -> httpx.AsyncClient:
    return await make_router(UploadLimits(max_bytes=256 * 1024, max_files=3))


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def _post(
    client: httpx.AsyncClient,
    operations: Any,
    mapping: Any,
    files: dict[str, tuple[str, bytes, str]],
    headers: dict[str, str] = PREFLIGHT,
) -> httpx.Response:
    data = {
        "operations": operations if isinstance(operations, str) else json.dumps(operations),
        "map": mapping if isinstance(mapping, str) else json.dumps(mapping),
    }
    return await client.post("/graphql", data=data, files=files, headers=headers)


def _error(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == code
    assert "Traceback" not in response.text
    return str(error["message"])


# --- composition -----------------------------------------------------------------------------


def test_composition_keeps_the_upload_scalar() -> None:
    api = load_supergraph(_supergraph(local_graphs("files", "scans"))).api_schema
    upload = api.get_type("Upload")
    assert isinstance(upload, GraphQLScalarType)
    assert str(api.mutation_type.fields["upload"].args["file"].type) == "Upload!"  # type: ignore[union-attr]
    assert str(api.get_type("AttachmentInput").fields["file"].type) == "Upload!"  # type: ignore[union-attr]


# --- uploads that work -----------------------------------------------------------------------


async def test_single_file(router: httpx.AsyncClient, recorders: Recorders) -> None:
    content = b"hello, upload\n"
    response = await _post(
        router,
        {"query": UPLOAD, "variables": {"file": None, "note": "first"}},
        {"0": ["variables.file"]},
        {"0": ("hello.txt", content, "text/plain")},
    )
    assert response.status_code == 200, response.text
    assert response.json() == {
        "data": {
            "upload": {
                "filename": "hello.txt",
                "contentType": "text/plain",
                "size": len(content),
                "sha256": _sha(content),
                "note": "first",
            }
        }
    }
    [headers] = recorders["files"].headers
    assert headers["content-type"].startswith("multipart/form-data; boundary=")
    assert headers["apollo-require-preflight"] == "true"


async def test_multiple_files(router: httpx.AsyncClient) -> None:
    first, second = b"one" * 100, bytes(range(256)) * 40
    response = await _post(
        router,
        {"query": UPLOAD_MANY, "variables": {"files": [None, None]}},
        {"a": ["variables.files.0"], "b": ["variables.files.1"]},
        {
            "a": ("one.txt", first, "text/plain"),
            "b": ("two.bin", second, "application/octet-stream"),
        },
    )
    assert response.status_code == 200, response.text
    assert response.json()["data"]["uploadMany"] == [
        {"filename": "one.txt", "size": len(first), "sha256": _sha(first)},
        {"filename": "two.bin", "size": len(second), "sha256": _sha(second)},
    ]


async def test_file_in_a_nested_input_object(router: httpx.AsyncClient) -> None:
    content = b"%PDF-1.7 not really"
    response = await _post(
        router,
        {"query": ATTACH, "variables": {"input": {"title": "Syllabus", "file": None}}},
        {"0": ["variables.input.file"]},
        {"0": ("syllabus.pdf", content, "application/pdf")},
    )
    assert response.status_code == 200, response.text
    assert response.json()["data"]["attach"] == {
        "filename": "syllabus.pdf",
        "sha256": _sha(content),
        "note": "Syllabus",
    }


async def test_one_file_at_two_paths(router: httpx.AsyncClient) -> None:
    content = b"twice"
    response = await _post(
        router,
        {"query": UPLOAD_MANY, "variables": {"files": [None, None]}},
        {"0": ["variables.files.0", "variables.files.1"]},
        {"0": ("twice.txt", content, "text/plain")},
    )
    assert response.status_code == 200, response.text
    assert [r["sha256"] for r in response.json()["data"]["uploadMany"]] == [_sha(content)] * 2


async def test_binary_content_and_unicode_file_name(router: httpx.AsyncClient) -> None:
    # Bytes that look like multipart framing must arrive unchanged.
    content = bytes(range(256)) + b"\r\n--graphql-boundary\r\n\r\n" + bytes(range(255, -1, -1))
    response = await _post(
        router,
        {"query": UPLOAD, "variables": {"file": None}},
        {"0": ["variables.file"]},
        {"0": ("résumé.bin", content, "application/octet-stream")},
    )
    assert response.status_code == 200, response.text
    result = response.json()["data"]["upload"]
    assert (result["filename"], result["sha256"]) == ("résumé.bin", _sha(content))


async def test_only_the_fetch_with_files_is_multipart(
    router: httpx.AsyncClient, recorders: Recorders
) -> None:
    content = b"scan me"
    query = "mutation($file: Upload!) { upload(file: $file) { sha256 verdict } }"
    response = await _post(
        router,
        {"query": query, "variables": {"file": None}},
        {"0": ["variables.file"]},
        {"0": ("scan.txt", content, "text/plain")},
        headers={"x-apollo-operation-name": "Scan"},
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"data": {"upload": {"sha256": _sha(content), "verdict": "clean"}}}
    assert recorders["files"].content_types() == ["multipart/form-data"]
    assert recorders["scans"].content_types() == ["application/json"]


async def test_uploads_above_the_json_body_limit_with_default_limits(
    make_router: Factory,
) -> None:
    client = await make_router()
    content = b"x" * (2 * 1024 * 1024)  # twice the JSON body limit
    response = await _post(
        client,
        {"query": UPLOAD, "variables": {"file": None}},
        {"0": ["variables.file"]},
        {"0": ("big.bin", content, "application/octet-stream")},
    )
    assert response.status_code == 200, response.text
    assert response.json()["data"]["upload"]["sha256"] == _sha(content)


async def test_json_requests_are_unchanged(router: httpx.AsyncClient, recorders: Recorders) -> None:
    response = await router.post("/graphql", json={"query": "{ ping scanner }"})
    assert response.json() == {"data": {"ping": "pong", "scanner": "ok"}}
    assert recorders["files"].content_types() == ["application/json"]
    assert "apollo-require-preflight" not in recorders["files"].headers[0]


# --- refused requests ------------------------------------------------------------------------


ONE_FILE = {"0": ("a.txt", b"a", "text/plain")}
OPERATIONS = {"query": UPLOAD, "variables": {"file": None}}


async def test_missing_preflight_header(router: httpx.AsyncClient) -> None:
    for headers in ({}, {"apollo-require-preflight": ""}):
        response = await _post(router, OPERATIONS, {"0": ["variables.file"]}, ONE_FILE, headers)
        message = _error(response, 400, "BAD_REQUEST")
        assert "Apollo-Require-Preflight" in message


@pytest.mark.parametrize(
    ("operations", "mapping", "expected"),
    [
        ("{not json", {"0": ["variables.file"]}, "operations part is not valid JSON"),
        ([OPERATIONS], {"0": ["0.variables.file"]}, "batched operations are not supported"),
        ('"query"', {"0": ["variables.file"]}, "operations part must be a JSON object"),
        ({"query": UPLOAD, "variables": [None]}, {}, "variables must be a JSON object"),
        (OPERATIONS, "{not json", "map part is not valid JSON"),
        (OPERATIONS, ["variables.file"], "map part must be a JSON object"),
        (OPERATIONS, {"0": "variables.file"}, "must be a non-empty list of paths"),
        (OPERATIONS, {"0": []}, "must be a non-empty list of paths"),
        (OPERATIONS, {"0": ["query"]}, "does not point into the variables"),
        (OPERATIONS, {"0": ["variables.other"]}, "is not in the variables"),
        (OPERATIONS, {"0": ["variables.file.0"]}, "is not in the variables"),
        (OPERATIONS, {"0": ["variables.file", "variables.file"]}, "more than once"),
        (
            {"query": UPLOAD, "variables": {"file": "already here"}},
            {"0": ["variables.file"]},
            "does not point at a null",
        ),
        (
            {"query": UPLOAD_MANY, "variables": {"files": [None]}},
            {"0": ["variables.files.1"]},
            "is not in the variables",
        ),
    ],
)
async def test_malformed_operations_or_map(
    router: httpx.AsyncClient, operations: Any, mapping: Any, expected: str
) -> None:
    response = await _post(router, operations, mapping, ONE_FILE)
    assert expected in _error(response, 400, "BAD_REQUEST")


async def test_file_in_the_map_but_not_sent(router: httpx.AsyncClient) -> None:
    operations = {"query": UPLOAD_MANY, "variables": {"files": [None, None]}}
    mapping = {"0": ["variables.files.0"], "1": ["variables.files.1"]}
    response = await _post(router, operations, mapping, ONE_FILE)
    assert "'1' in the map was not sent" in _error(response, 400, "BAD_REQUEST")


async def test_file_sent_but_not_in_the_map(router: httpx.AsyncClient) -> None:
    files = {**ONE_FILE, "extra": ("b.txt", b"b", "text/plain")}
    response = await _post(router, OPERATIONS, {"0": ["variables.file"]}, files)
    assert "'extra' is not in the map" in _error(response, 400, "BAD_REQUEST")


async def test_operations_must_come_first(router: httpx.AsyncClient) -> None:
    response = await router.post(
        "/graphql",
        data={"map": json.dumps({"0": ["variables.file"]}), "operations": json.dumps(OPERATIONS)},
        files=ONE_FILE,
        headers=PREFLIGHT,
    )
    assert "first part must be operations" in _error(response, 400, "BAD_REQUEST")


async def test_file_of_the_wrong_type_is_a_variable_error(router: httpx.AsyncClient) -> None:
    operations = {"query": UPLOAD, "variables": {"file": None, "note": None}}
    mapping = {"0": ["variables.file"], "1": ["variables.note"]}
    files = {**ONE_FILE, "1": ("note.txt", b"n", "text/plain")}
    response = await _post(router, operations, mapping, files)
    assert "$note" in _error(response, 400, "BAD_USER_INPUT")


async def test_too_large(router: httpx.AsyncClient) -> None:
    big = {"0": ("big.bin", b"x" * (256 * 1024), "application/octet-stream")}
    response = await _post(router, OPERATIONS, {"0": ["variables.file"]}, big)
    assert "larger than 262144 bytes" in _error(response, 413, "PAYLOAD_TOO_LARGE")


async def test_too_large_without_a_content_length(router: httpx.AsyncClient) -> None:
    request = router.build_request(
        "POST",
        "/graphql",
        data={"operations": json.dumps(OPERATIONS), "map": json.dumps({"0": ["variables.file"]})},
        files={"0": ("big.bin", b"x" * (300 * 1024), "application/octet-stream")},
        headers=PREFLIGHT,
    )
    body = request.read()

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(body), 16 * 1024):
            yield body[start : start + 16 * 1024]

    response = await router.post(
        "/graphql",
        content=_agen(chunks()),
        headers={**PREFLIGHT, "content-type": request.headers["content-type"]},
    )
    assert "content-length" not in response.request.headers
    _error(response, 413, "PAYLOAD_TOO_LARGE")


async def _agen(items: Iterator[bytes]) -> AsyncIterator[bytes]:
    for item in items:
        yield item


async def test_too_many_files(router: httpx.AsyncClient) -> None:
    count = 4
    operations = {"query": UPLOAD_MANY, "variables": {"files": [None] * count}}
    mapping = {str(i): [f"variables.files.{i}"] for i in range(count)}
    files = {str(i): (f"{i}.txt", b"x", "text/plain") for i in range(count)}
    response = await _post(router, operations, mapping, files)
    assert "4 files; the limit is 3" in _error(response, 413, "PAYLOAD_TOO_LARGE")


async def test_operations_part_over_the_field_limit(make_router: Factory) -> None:
    client = await make_router(UploadLimits(max_field_bytes=1024))
    operations = {"query": UPLOAD, "variables": {"file": None, "note": "n" * 2000}}
    response = await _post(client, operations, {"0": ["variables.file"]}, ONE_FILE)
    assert "operations part is larger" in _error(response, 413, "PAYLOAD_TOO_LARGE")


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("multipart/form-data", b"--x\r\n"),
        ("multipart/form-data; boundary=x", b"not multipart at all"),
        ("multipart/form-data; boundary=x", b"--x\r\ncontent-disposition: form-data\r\n\r\n{}"),
        (
            "multipart/form-data; boundary=x",
            b'--x\r\ncontent-disposition: form-data; name="operations"\r\n\r\n{"query":"{ ping }"}',
        ),
    ],
)
async def test_broken_multipart_bodies(
    router: httpx.AsyncClient, content_type: str, body: bytes
) -> None:
    headers = {**PREFLIGHT, "content-type": content_type}
    response = await router.post("/graphql", content=body, headers=headers)
    _error(response, 400, "BAD_REQUEST")


async def test_multipart_without_files_is_served(router: httpx.AsyncClient) -> None:
    body = (
        b'--x\r\ncontent-disposition: form-data; name="operations"\r\n\r\n{"query":"{ ping }"}\r\n'
        b'--x\r\ncontent-disposition: form-data; name="map"\r\n\r\n{}\r\n--x--\r\n'
    )
    headers = {**PREFLIGHT, "content-type": "multipart/form-data; boundary=x"}
    response = await router.post("/graphql", content=body, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json() == {"data": {"ping": "pong"}}


# --- the encoding sent to subgraphs ----------------------------------------------------------


def test_encoding_replaces_files_with_nulls_and_maps_them() -> None:
    shared = UploadedFile('a "quoted"\r\nname.txt', "text/plain", b"shared")
    other = UploadedFile("b.bin", "", b"other")
    payload = {"query": "q", "variables": {"x": shared, "list": [other, shared], "n": 1}}
    body, content_type = encode_multipart(payload)
    boundary = content_type.split("boundary=")[1].encode()
    parts = body.split(b"--" + boundary)
    assert parts[0] == b""
    assert parts[-1] == b"--\r\n"
    operations, mapping, first, second = (p.split(b"\r\n\r\n", 1) for p in parts[1:-1])
    assert json.loads(operations[1]) == {
        "query": "q",
        "variables": {"x": None, "list": [None, None], "n": 1},
    }
    assert json.loads(mapping[1]) == {
        "0": ["variables.x", "variables.list.1"],
        "1": ["variables.list.0"],
    }
    assert b'filename="a %22quoted%22%0D%0Aname.txt"' in first[0]
    assert first[1] == b"shared\r\n"
    assert b"content-type: application/octet-stream" in second[0]
    assert second[1] == b"other\r\n"
