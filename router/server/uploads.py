"""Reading GraphQL multipart requests (file uploads) from clients.

https://github.com/jaydenseric/graphql-multipart-request-spec: the parts are `operations`
(the GraphQL request, with null where each file goes), then `map` (file part name -> paths
of those nulls, e.g. "variables.files.0"), then the files. The body is parsed as it streams
in and refused as soon as it passes a limit; files are kept in memory, which the limits bound.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from router import jsonio
from router.server.errors import BadRequest
from router.transport.multipart import UploadedFile

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

MULTIPART = "multipart/form-data"
MAX_UPLOAD_BYTES = 20 * 1024 * 1024  # the whole body, files included
MAX_UPLOAD_FILES = 10
MAX_FIELD_BYTES = 1024 * 1024  # `operations` and `map`: as large as a JSON request may be

# Like Apollo Router: a browser cannot send these headers cross-origin without a CORS
# preflight, so a form on another site cannot make a logged-in user's browser post files.
PREFLIGHT_HEADERS = ("apollo-require-preflight", "x-apollo-operation-name")

PathSegment = str | int


@dataclass(frozen=True)
class UploadLimits:
    max_bytes: int = MAX_UPLOAD_BYTES
    max_files: int = MAX_UPLOAD_FILES
    max_field_bytes: int = MAX_FIELD_BYTES


def _too_large(message: str) -> BadRequest:
    return BadRequest(message, 413, "PAYLOAD_TOO_LARGE")


def check_preflight(headers: Mapping[str, str]) -> None:
    if not any(headers.get(name, "").strip() for name in PREFLIGHT_HEADERS):
        raise BadRequest(
            "multipart requests must carry a non-empty Apollo-Require-Preflight or "
            "X-Apollo-Operation-Name header (CSRF prevention)"
        )


def _json_part(raw: bytes, name: str) -> Any:
    try:
        return jsonio.loads(raw)
    except ValueError as error:
        raise BadRequest(f"the {name} part is not valid JSON") from error


def _operations(raw: bytes) -> dict[str, Any]:
    operations = _json_part(raw, "operations")
    if isinstance(operations, list):
        raise BadRequest("batched operations are not supported; send one operation per request")
    if not isinstance(operations, dict):
        raise BadRequest("the operations part must be a JSON object")
    variables = operations.get("variables")
    if variables is not None and not isinstance(variables, dict):
        raise BadRequest("variables must be a JSON object")
    return operations


def _target(operations: dict[str, Any], path: str, name: str) -> list[PathSegment]:
    """The segments of a map path, which must lead to a null inside the variables."""
    segments: list[PathSegment] = []
    value: Any = operations
    keys = path.split(".")
    if len(keys) < 2 or keys[0] != "variables":
        raise BadRequest(f"map path {path!r} of file {name!r} does not point into the variables")
    for key in keys:
        if isinstance(value, dict) and key in value:
            segments.append(key)
            value = value[key]
        elif isinstance(value, list) and key.isascii() and key.isdigit() and int(key) < len(value):
            segments.append(int(key))
            value = value[int(key)]
        else:
            raise BadRequest(f"map path {path!r} of file {name!r} is not in the variables")
    if value is not None:
        raise BadRequest(f"map path {path!r} of file {name!r} does not point at a null")
    return segments


def _file_map(
    raw: bytes, operations: dict[str, Any], limits: UploadLimits
) -> dict[str, list[list[PathSegment]]]:
    mapping = _json_part(raw, "map")
    if not isinstance(mapping, dict):
        raise BadRequest("the map part must be a JSON object of file names to lists of paths")
    if len(mapping) > limits.max_files:
        raise _too_large(f"the request has {len(mapping)} files; the limit is {limits.max_files}")
    result: dict[str, list[list[PathSegment]]] = {}
    seen: set[str] = set()
    for name, paths in mapping.items():
        if not isinstance(paths, list) or not paths or not all(isinstance(p, str) for p in paths):
            raise BadRequest(f"the map entry for file {name!r} must be a non-empty list of paths")
        for path in paths:
            if path in seen:
                raise BadRequest(f"map path {path!r} is given more than once")
            seen.add(path)
        result[name] = [_target(operations, path, name) for path in paths]
    return result


class _MultipartForm:
    """Callbacks for python-multipart's streaming parser, checking each part as it ends."""

    def __init__(self, limits: UploadLimits) -> None:
        self.limits = limits
        self.operations: dict[str, Any] | None = None
        self.map: dict[str, list[list[PathSegment]]] | None = None
        self.files: dict[str, UploadedFile] = {}
        self.ended = False
        self._headers: dict[str, bytes] = {}
        self._field = b""
        self._value = b""
        self._name = ""
        self._filename = ""
        self._chunks: list[bytes] = []
        self._size = 0

    def callbacks(self) -> "MultipartCallbacks":
        return {
            "on_part_begin": self._part_begin,
            "on_header_field": self._header_field,
            "on_header_value": self._header_value,
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
            "on_end": self._end,
        }

    def _part_begin(self) -> None:
        self._headers = {}
        self._chunks = []
        self._size = 0

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._field += data[start:end]

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def _header_end(self) -> None:
        self._headers[self._field.decode("latin-1").strip().lower()] = self._value.strip()
        self._field = self._value = b""

    def _headers_finished(self) -> None:
        disposition, options = parse_options_header(self._headers.get("content-disposition"))
        name = options.get(b"name")
        if disposition != b"form-data" or name is None:
            raise BadRequest("every part needs a Content-Disposition: form-data header with a name")
        # Browsers send names and file names as raw UTF-8.
        self._name = name.decode(errors="replace")
        self._filename = options.get(b"filename", b"").decode(errors="replace")
        if self.operations is None:
            if self._name != "operations":
                raise BadRequest("the first part must be operations (GraphQL multipart request)")
        elif self.map is None:
            if self._name != "map":
                raise BadRequest("the second part must be map (GraphQL multipart request)")
        elif self._name not in self.map:
            raise BadRequest(f"the file part {self._name!r} is not in the map")
        elif self._name in self.files:
            raise BadRequest(f"the file part {self._name!r} is sent more than once")

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        self._size += end - start
        if self.map is None and self._size > self.limits.max_field_bytes:
            raise _too_large(
                f"the {self._name} part is larger than {self.limits.max_field_bytes} bytes"
            )
        self._chunks.append(data[start:end])

    def _part_end(self) -> None:
        raw = b"".join(self._chunks)
        self._chunks = []
        if self.operations is None:
            self.operations = _operations(raw)
        elif self.map is None:
            self.map = _file_map(raw, self.operations, self.limits)
        else:
            content_type = self._headers.get("content-type", b"").decode("latin-1")
            self.files[self._name] = UploadedFile(
                self._filename, content_type or "application/octet-stream", raw
            )

    def _end(self) -> None:
        self.ended = True

    def result(self) -> dict[str, Any]:
        """The operations with each file at its paths, once the whole body has been parsed."""
        if not self.ended or self.operations is None or self.map is None:
            raise BadRequest("the multipart body is incomplete: it needs operations, map, files")
        for name, paths in self.map.items():
            upload = self.files.get(name)
            if upload is None:
                raise BadRequest(f"the file {name!r} in the map was not sent")
            for path in paths:
                container: Any = self.operations
                for segment in path[:-1]:
                    container = container[segment]
                container[path[-1]] = upload
        return self.operations


def _boundary(content_type: str) -> bytes:
    _, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if not boundary:
        raise BadRequest("the multipart/form-data content type has no boundary")
    return boundary


async def read_multipart(request: Request, limits: UploadLimits) -> dict[str, Any]:
    """The request's operations object, the uploaded files in place of their nulls."""
    check_preflight(request.headers)
    too_large = _too_large(f"the request body is larger than {limits.max_bytes} bytes")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limits.max_bytes:
        raise too_large
    form = _MultipartForm(limits)
    try:
        parser = MultipartParser(_boundary(request.headers["content-type"]), form.callbacks())
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limits.max_bytes:
                raise too_large
            parser.write(chunk)
    except ValueError as error:  # python-multipart's errors, for a body that is not multipart
        raise BadRequest("the multipart body is malformed") from error
    return form.result()
