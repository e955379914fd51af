"""Where lesson attachments live: a small interface, and local disk as the default.

Files are addressed by their SHA-256 (content-addressed), so the same bytes uploaded twice
are stored once, and a key can never name a path outside the storage root.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Protocol

from common.errors import BadUserInput

MAX_ATTACHMENT_BYTES: Final = 10 * 1024 * 1024

# Allowed types: the extension decides the type, and the first bytes must agree with it.
_ZIP = b"PK\x03\x04"
ALLOWED_TYPES: Final[dict[str, tuple[str, tuple[bytes, ...] | None]]] = {
    ".pdf": ("application/pdf", (b"%PDF-",)),
    ".png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    ".jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".gif": ("image/gif", (b"GIF87a", b"GIF89a")),
    ".webp": ("image/webp", (b"RIFF",)),
    ".mp4": ("video/mp4", None),
    ".zip": ("application/zip", (_ZIP,)),
    ".docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        (_ZIP,),
    ),
    ".pptx": (
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        (_ZIP,),
    ),
    ".xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (_ZIP,)),
    ".txt": ("text/plain", None),
    ".md": ("text/markdown", None),
    ".csv": ("text/csv", None),
}
_TEXT_TYPES: Final = frozenset({"text/plain", "text/markdown", "text/csv"})
_KEY = re.compile(r"^[0-9a-f]{64}$")
_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f/\\]")


@dataclass(frozen=True, slots=True)
class CheckedFile:
    filename: str
    content_type: str
    data: bytes
    sha256: str


def check_upload(
    filename: str, data: bytes, *, max_bytes: int = MAX_ATTACHMENT_BYTES
) -> CheckedFile:
    """The file's safe name, real type and checksum, or BAD_USER_INPUT saying what is wrong."""
    name = _UNSAFE_NAME.sub("_", os.path.basename(filename.replace("\\", "/"))).strip()[:255]
    if not name or name in {".", ".."}:
        raise BadUserInput("The file needs a name.", field="file")
    if len(data) > max_bytes:
        raise BadUserInput(
            f"The file is {len(data)} bytes; the limit is {max_bytes} bytes.", field="file"
        )
    if not data:
        raise BadUserInput("The file is empty.", field="file")
    extension = os.path.splitext(name)[1].lower()
    if extension not in ALLOWED_TYPES:
        allowed = ", ".join(sorted(ALLOWED_TYPES))
        raise BadUserInput(
            f"Files of type {extension or '(none)'} are not allowed; allowed: {allowed}.",
            field="file",
        )
    content_type, signatures = ALLOWED_TYPES[extension]
    if signatures is not None and not data.startswith(signatures):
        raise BadUserInput(f"The file's content is not {content_type}.", field="file")
    if content_type in _TEXT_TYPES:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            raise BadUserInput("A text file must be UTF-8.", field="file") from None
    return CheckedFile(name, content_type, data, hashlib.sha256(data).hexdigest())


class Storage(Protocol):
    async def put(self, file: CheckedFile) -> str:
        """Store the bytes; returns the key to read them back with."""
        ...

    async def get(self, key: str) -> bytes | None: ...


class LocalDiskStorage:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        if not _KEY.match(key):
            raise ValueError("not a storage key")
        return self.root / key[:2] / key

    async def put(self, file: CheckedFile) -> str:
        key = file.sha256
        await asyncio.to_thread(self._write, self._path(key), file.data)
        return key

    async def get(self, key: str) -> bytes | None:
        try:
            path = self._path(key)
        except ValueError:
            return None
        return await asyncio.to_thread(self._read, path)

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        if path.exists():
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        partial.write_bytes(data)
        partial.replace(path)  # atomic: readers never see half a file

    @staticmethod
    def _read(path: Path) -> bytes | None:
        try:
            return path.read_bytes()
        except FileNotFoundError:
            return None
