"""Checks every domain applies to what clients send; each failure names the field."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from typing import Final
from urllib.parse import quote, urlsplit, urlunsplit

from common.errors import BadUserInput

TAG_CHARACTERS: Final = re.compile(r"[a-z0-9+#.]+")
MAX_URL: Final = 2048
URL_FORBIDDEN: Final = re.compile(r"[\x00-\x20\x7f-\x9f\"'<>\\`]")
URL_SAFE: Final = "/%:@!$&()*+,;=-._~?"  # kept as written; the rest is percent-encoded
URL_HOST: Final = re.compile(r"[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?")
LOOPBACK_HOSTS: Final = frozenset({"localhost", "127.0.0.1", "::1"})


def text(value: str, *, field: str, low: int, high: int) -> str:
    """`value` with runs of whitespace collapsed, between `low` and `high` characters."""
    cleaned = " ".join(value.split())
    if not low <= len(cleaned) <= high:
        raise BadUserInput(f"{field} must be {low} to {high} characters long.", field=field)
    return cleaned


def tags(values: Sequence[str], *, limit: int, owner: str, field: str = "tags") -> list[str]:
    """Lowercase, hyphenated, deduplicated and sorted tags ("Data Science" → "data-science")."""
    normalised = sorted({"-".join(TAG_CHARACTERS.findall(tag.lower())) for tag in values})
    if any(not tag or len(tag) > 50 for tag in normalised):
        raise BadUserInput("Each tag must be 1 to 50 letters or digits.", field=field)
    if len(normalised) > limit:
        raise BadUserInput(f"{owner} can have at most {limit} tags.", field=field)
    return normalised


def url(value: str, *, field: str, loopback_http: bool = False) -> str:
    """`value` as an absolute https URL, parsed and written again (scheme and host in lower
    case, characters beyond ASCII percent-encoded), so what is stored is what was checked.

    Refused: anything but https (plain http only with `loopback_http`, for a page on this
    machine, as RFC 8252 allows redirects to loopback), a user name or password in it, more
    than `MAX_URL` characters, and whitespace, control characters, quotes, angle brackets,
    backslashes or backticks anywhere (they break out of the HTML attribute a URL lands in).
    """
    cleaned = value.strip()
    if not cleaned or len(cleaned) > MAX_URL:
        raise BadUserInput(f"{field} must be a URL of 1 to {MAX_URL} characters.", field=field)
    if URL_FORBIDDEN.search(cleaned):
        raise BadUserInput(
            f"{field} must not contain spaces, control characters, quotes, angle brackets, "
            "backslashes or backticks (percent-encode them).",
            field=field,
        )
    try:
        parts = urlsplit(cleaned)
        host = (parts.hostname or "").encode("idna").decode("ascii")
        port = parts.port
    except (ValueError, UnicodeError):
        raise BadUserInput(f"{field} is not a well-formed URL.", field=field) from None
    if parts.username is not None or parts.password is not None:
        raise BadUserInput(f"{field} must not carry a user name or password.", field=field)
    scheme = parts.scheme.lower()
    plain_allowed = loopback_http and scheme == "http" and host in LOOPBACK_HOSTS
    if (scheme != "https" and not plain_allowed) or not _host(host):
        raise BadUserInput(f"{field} must be an https URL with a host name.", field=field)
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc = f"{netloc}:{port}"
    written = urlunsplit(
        (
            scheme,
            netloc,
            quote(parts.path, safe=URL_SAFE) or "/",
            quote(parts.query, safe=URL_SAFE),
            quote(parts.fragment, safe=URL_SAFE),
        )
    )
    if len(written) > MAX_URL:
        raise BadUserInput(f"{field} must be a URL of 1 to {MAX_URL} characters.", field=field)
    return written


def _host(name: str) -> bool:
    """A DNS name (already IDNA-encoded) or an IP address."""
    if URL_HOST.fullmatch(name):
        return True
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True
