"""Files in variables, and subgraph requests that carry them as GraphQL multipart requests.

https://github.com/jaydenseric/graphql-multipart-request-spec: an `operations` part (the
JSON request with null where each file goes), a `map` part (file part name -> the paths of
those nulls) and one part per file. This is how Apollo Router forwards uploads.
"""

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from router import jsonio

# Strawberry does not ask for it, but Apollo Server and Apollo Router refuse multipart
# requests without a CSRF-prevention header; sending it keeps every kind of subgraph happy.
PREFLIGHT_HEADER = "apollo-require-preflight"


@dataclass(frozen=True)
class UploadedFile:
    """A file a client uploaded, held in memory (uploads are bounded) until it is forwarded."""

    filename: str
    content_type: str
    data: bytes = field(repr=False)  # never megabytes in a log line

    @property
    def size(self) -> int:
        return len(self.data)


def contains_uploads(value: Any) -> bool:
    """Whether an uploaded file is anywhere inside a JSON-like value."""
    if isinstance(value, UploadedFile):
        return True
    if isinstance(value, dict):
        return any(contains_uploads(item) for item in value.values())
    if isinstance(value, list | tuple):
        return any(contains_uploads(item) for item in value)
    return False


class _Extractor:
    """Copies a value with files replaced by null, noting where each file was."""

    def __init__(self) -> None:
        self.files: list[UploadedFile] = []
        self.paths: list[list[str]] = []
        self._index: dict[int, int] = {}  # id(file) -> part; a file used twice is sent once

    def copy(self, value: Any, path: str) -> Any:
        if isinstance(value, UploadedFile):
            index = self._index.get(id(value))
            if index is None:
                index = self._index[id(value)] = len(self.files)
                self.files.append(value)
                self.paths.append([])
            self.paths[index].append(path)
            return None
        if isinstance(value, dict):
            return {key: self.copy(item, f"{path}.{key}") for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [self.copy(item, f"{path}.{i}") for i, item in enumerate(value)]
        return value


def _quoted(value: str) -> bytes:
    # As browsers encode form-data names: a quote or line break cannot end the parameter.
    escaped = value.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")
    return f'"{escaped}"'.encode()


def _header_value(value: str) -> bytes:
    return value.replace("\r", "").replace("\n", "").encode()


def encode_multipart(payload: Mapping[str, Any]) -> tuple[bytes, str]:
    """A GraphQL request whose variables hold files, as (body, content type)."""
    extractor = _Extractor()
    operations = {key: extractor.copy(value, key) for key, value in payload.items()}
    mapping = {str(i): paths for i, paths in enumerate(extractor.paths)}
    parts: list[tuple[bytes, bytes]] = [
        (b'form-data; name="operations"', jsonio.dumps(operations)),
        (b'form-data; name="map"', jsonio.dumps(mapping)),
    ]
    for index, upload in enumerate(extractor.files):
        disposition = f'form-data; name="{index}"; filename='.encode() + _quoted(upload.filename)
        content_type = _header_value(upload.content_type or "application/octet-stream")
        parts.append((disposition + b"\r\ncontent-type: " + content_type, upload.data))
    boundary = _boundary([data for _, data in parts])
    delimiter = b"--" + boundary
    chunks: list[bytes] = []
    for headers, data in parts:
        chunks += [delimiter, b"\r\ncontent-disposition: ", headers, b"\r\n\r\n", data, b"\r\n"]
    chunks += [delimiter, b"--\r\n"]
    return b"".join(chunks), f"multipart/form-data; boundary={boundary.decode()}"


def _boundary(contents: list[bytes]) -> bytes:
    """A random boundary; checked against the contents since files are arbitrary bytes."""
    while True:
        boundary = b"graphql-" + secrets.token_hex(16).encode()
        if not any(boundary in data for data in contents):
            return boundary
