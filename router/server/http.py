"""GraphQL-over-HTTP: reading requests and writing responses."""

from typing import Any
from urllib.parse import unquote_to_bytes

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from router import jsonio
from router.access_record import current_record
from router.gateway.gateway import GraphQLRequest, GraphQLResponse
from router.gateway.variables import variables_problem
from router.server.errors import BadRequest
from router.server.uploads import MULTIPART, UploadLimits, read_multipart

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
MAX_BODY_BYTES = 1024 * 1024


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


def _build(payload: Any, request: Request, method: str, *, uploads: bool = False) -> GraphQLRequest:
    if not isinstance(payload, dict):
        raise BadRequest("the request body must be a JSON object")
    query = payload.get("query")
    if not isinstance(query, str) or not query.strip():
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
    headers = (
        {"authorization": request.headers["authorization"]}
        if ("authorization" in request.headers)
        else {}
    )
    if request.client is not None:  # subgraphs see who is calling (rate limits, audit)
        chain = request.headers.get("x-forwarded-for")
        peer = request.client.host
        headers["x-forwarded-for"] = f"{chain}, {peer}" if chain else peer
    return GraphQLRequest(query, variables, operation_name or None, headers, method, uploads)


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
    headers = {"allow": result.allow} if result.allow else None
    body = jsonio.dumps(result.body)
    return Response(body, result.status, headers=headers, media_type=media_type(request))
