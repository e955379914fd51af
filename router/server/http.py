"""GraphQL-over-HTTP: reading requests and writing responses."""

from typing import Any
from urllib.parse import unquote_to_bytes

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from router import jsonio
from router.access_record import current_record
from router.gateway.gateway import GraphQLRequest, GraphQLResponse
from router.gateway.variables import variables_problem
from router.ratelimit.identity import client_address
from router.server.errors import BadRequest
from router.server.uploads import MULTIPART, UploadLimits, read_multipart

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
MAX_BODY_BYTES = 1024 * 1024
MAX_PERSISTED_ID_CHARS = 256


_UPLOAD_LIMITS = UploadLimits()


def _too_large() -> BadRequest:
    return BadRequest(
        f"the request body is larger than {MAX_BODY_BYTES} bytes", 413, "PAYLOAD_TOO_LARGE"
    )


async def _read_body(request: Request) -> bytes:
    """The body, refused as soon as it passes the limit (never read whole into memory)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise _too_large()
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise _too_large()
        chunks.append(chunk)
    return b"".join(chunks)


def _unsupported(message: str) -> BadRequest:
    return BadRequest(message, 415, "INVALID_CONTENT_TYPE_HEADER")


def _query_params(request: Request) -> dict[str, str]:
    """The URL's parameters, refused unless they are UTF-8 (Starlette would replace what is
    not with U+FFFD, silently changing the operation or its variables)."""
    params: dict[str, str] = {}
    query_string: bytes = request.scope["query_string"]
    for pair in query_string.replace(b"+", b" ").split(b"&"):
        name, _, value = pair.partition(b"=")
        try:
            params[unquote_to_bytes(name).decode()] = unquote_to_bytes(value).decode()
        except UnicodeDecodeError as error:
            raise BadRequest("the query string is not valid UTF-8") from error
    return params


def _decode_json_param(raw: str | None, name: str) -> Any:
    if raw is None or raw == "":
        return None
    try:
        return jsonio.loads(raw)
    except ValueError as error:
        raise BadRequest(f"the {name} parameter is not valid JSON: {error}") from error


def _persisted_id(extensions: Any) -> str | None:
    """`extensions.persistedQuery.sha256Hash` (Apollo's automatic persisted queries, and the
    id of an operation in a persisted query manifest), checked for shape and version 1."""
    if extensions is None:
        return None
    if not isinstance(extensions, dict):
        raise BadRequest("extensions must be a JSON object")
    persisted = extensions.get("persistedQuery")
    if persisted is None:
        return None
    if not isinstance(persisted, dict):
        raise BadRequest("extensions.persistedQuery must be a JSON object")
    version = persisted.get("version")
    if version != 1 or isinstance(version, bool):
        raise BadRequest(
            f"unsupported persisted query version {jsonio.dumps(version).decode()[:20]} "
            "(version 1 is supported)"
        )
    identifier = persisted.get("sha256Hash")
    if not isinstance(identifier, str) or not 0 < len(identifier) <= MAX_PERSISTED_ID_CHARS:
        raise BadRequest(
            f"extensions.persistedQuery.sha256Hash must be a string of 1 to "
            f"{MAX_PERSISTED_ID_CHARS} characters"
        )
    return identifier


def _client_headers(request: Request) -> dict[str, str]:
    """The request's headers by lower-case name, repeated ones joined with commas, and
    x-forwarded-for replaced by the one client address the router believes (its
    `rate_limit.trusted_proxies`): subgraphs trusting the router see who is calling, and
    nothing the client wrote itself."""
    headers: dict[str, str] = {}
    forwarded: list[str] = []
    for raw_name, raw_value in request.scope["headers"]:
        name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
        if name == "x-forwarded-for":
            forwarded.append(value)
        elif name in headers:
            headers[name] = f"{headers[name]}, {value}"
        else:
            headers[name] = value
    peer = request.scope.get("client")
    if peer is not None:
        trusted = request.app.state.router.config.rate_limit.trusted_proxies
        headers["x-forwarded-for"] = client_address(forwarded, peer[0], trusted)
    return headers


def _build(payload: Any, request: Request, method: str, *, uploads: bool = False) -> GraphQLRequest:
    if not isinstance(payload, dict):
        raise BadRequest("the request body must be a JSON object")
    persisted = _persisted_id(payload.get("extensions"))
    query = payload.get("query")
    if persisted is not None and query is None:
        query = ""  # the persisted query's id stands for it until it is resolved
    elif not isinstance(query, str) or not query.strip():
        raise BadRequest("the request has no query string")
    variables = payload.get("variables")
    if variables is not None and not isinstance(variables, dict):
        raise BadRequest("variables must be a JSON object")
    problem = variables_problem(variables or {})
    if problem is not None:
        raise BadRequest(problem)
    operation_name = payload.get("operationName")
    if operation_name is not None and not isinstance(operation_name, str):
        raise BadRequest("operationName must be a string")
    return GraphQLRequest(
        query,
        variables,
        operation_name or None,
        _client_headers(request),
        method,
        uploads,
        persisted,
    )


async def read_request(request: Request, uploads: UploadLimits = _UPLOAD_LIMITS) -> GraphQLRequest:
    try:
        return await _read_request(request, uploads)
    except ClientDisconnect as gone:  # (or cut off as too slow): nobody is left to answer
        raise BadRequest("the client went away before sending the whole request") from gone


async def _read_request(request: Request, uploads: UploadLimits) -> GraphQLRequest:
    if request.method == "GET":
        params = _query_params(request)
        payload = {
            "query": params.get("query"),
            "variables": _decode_json_param(params.get("variables"), "variables"),
            "operationName": params.get("operationName"),
            "extensions": _decode_json_param(params.get("extensions"), "extensions"),
        }
        return _build(payload, request, "GET")
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == MULTIPART:
        return _build(await read_multipart(request, uploads), request, "POST", uploads=True)
    if not content_type:  # GraphQL over HTTP: a POST without Content-Type SHOULD be refused
        raise _unsupported("the request has no Content-Type header; send application/json")
    if content_type not in (JSON, GRAPHQL_RESPONSE):
        raise _unsupported(
            f"unsupported content type {content_type!r}; send application/json "
            "(or multipart/form-data to upload files)"
        )
    body = await _read_body(request)
    try:
        payload = jsonio.loads(body)
    except ValueError as error:
        raise BadRequest(f"the request body is not valid JSON: {error}") from error
    return _build(payload, request, "POST")


def media_type(request: Request) -> str:
    accept = request.headers.get("accept", "")
    return GRAPHQL_RESPONSE if GRAPHQL_RESPONSE in accept else JSON


def respond(request: Request, result: GraphQLResponse) -> Response:
    record = current_record()
    if record is not None:
        record.note_errors(result.body)
    headers = dict(result.headers) if result.headers else None
    if result.allow:
        headers = {**(headers or {}), "allow": result.allow}
    body = jsonio.dumps(result.body)
    return Response(body, result.status, headers=headers, media_type=media_type(request))
