"""Untrusted zip archives, read in memory with bounds checked before anything is
decompressed: the number of entries, each entry's and the total declared size, the
compression ratio (zip bombs), and entry names (absolute paths, `..`, backslashes, drive
letters: zip slip). Nothing is ever extracted to disk; an entry is read up to a limit,
whatever its header claims. Shared by every importer of packages (QTI, Common Cartridge)."""

from __future__ import annotations

import io
import posixpath
import zipfile
from dataclasses import dataclass

from common.errors import BadUserInput


@dataclass(frozen=True, slots=True)
class ZipLimits:
    max_entries: int = 2000
    max_total_bytes: int = 100 * 1024 * 1024
    max_ratio: int = 100
    # Entries up to this size may compress as well as they like (text does).
    ratio_floor: int = 1024 * 1024


def refuse(message: str) -> BadUserInput:
    return BadUserInput(message, field="file")


def safe_name(name: str) -> bool:
    """Whether an entry name stays inside the archive's root wherever it is read."""
    parts = name.split("/")
    return (
        bool(name)
        and not name.startswith("/")
        and "\\" not in name
        and ":" not in parts[0]
        and ".." not in parts
        and "\x00" not in name
    )


def normalised(href: str) -> str:
    """An href of a manifest as an entry name, or BAD_USER_INPUT if it leaves the root."""
    name = posixpath.normpath(href)
    if not safe_name(href) or name.startswith("../") or name == "..":
        raise refuse(f"The manifest names an unsafe path: {href!r}.")
    return name


def open_zip(data: bytes, limits: ZipLimits, not_a_zip: str) -> zipfile.ZipFile:
    """The archive, once every entry's name and declared size passed the limits."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise refuse(not_a_zip) from None
    entries = archive.infolist()
    if len(entries) > limits.max_entries:
        raise refuse(f"The package has more than {limits.max_entries} files.")
    total = 0
    for entry in entries:
        if not safe_name(entry.filename):
            raise refuse(f"The package holds a file with an unsafe name: {entry.filename!r}.")
        total += entry.file_size
        if entry.file_size > limits.ratio_floor * limits.max_ratio or (
            entry.file_size > limits.ratio_floor
            and entry.file_size > limits.max_ratio * entry.compress_size
        ):
            raise refuse(f"{entry.filename} expands too much (a zip bomb?).")
    if total > limits.max_total_bytes:
        raise refuse(
            f"The package expands to more than {limits.max_total_bytes // (1024 * 1024)} MiB."
        )
    return archive


def read_entry(archive: zipfile.ZipFile, name: str, limit: int) -> bytes:
    """At most `limit` + 1 bytes of an entry (the caller refuses the +1), whatever its
    header claims; BAD_USER_INPUT when it is missing or corrupt."""
    try:
        with archive.open(name) as stream:
            return stream.read(limit + 1)
    except KeyError:
        raise refuse(f"The manifest names {name}, which the package does not hold.") from None
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError) as error:
        raise refuse(f"{name} cannot be read from the package ({error}).") from None
