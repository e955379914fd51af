"""Who a rate limit counts a request against: the verified token's subject, else the
verified API key (by its SHA-256, never the key), else the client's address.

The address is the socket's peer or, when the peer is one of ``trusted_proxies`` (the
ingress controller's addresses or network), the right-most entry of the X-Forwarded-For chain
(every header in order) that is not a trusted proxy: each trusted proxy appended the address
it saw, so what the client wrote itself sits further left and is never read. Reading stops at
an entry that is not an IP address: whoever wrote it is not believed, and the last trusted
hop read is the answer. A client reaching the router from anywhere else is its peer, whatever
it writes. The subgraphs get this address alone as their X-Forwarded-For
(router/server/http.py), never the chain the client sent. The subgraphs read theirs the same
way (common/graphql/context.py; the router imports nothing of the platform)."""

import functools
import hashlib
import ipaddress
from collections.abc import Sequence

from starlette.requests import HTTPConnection

from router.config.rate_limit import Network


def client_identity(
    subject: str | None,
    api_key: str | None,
    forwarded_for: Sequence[str],
    peer: str | None,
    trusted_proxies: Sequence[Network],
) -> str:
    if subject:
        return f"sub:{subject}"
    if api_key:
        return f"key:{hashlib.sha256(api_key.encode()).hexdigest()}"
    return f"addr:{client_address(forwarded_for, peer, trusted_proxies)}"


def connection_identity(
    connection: HTTPConnection,
    subject: str | None,
    api_key: str | None,
    trusted_proxies: Sequence[Network],
) -> str:
    """`client_identity` of an HTTP request or a WebSocket; ``subject`` and ``api_key`` only
    once verified (anyone could make them up)."""
    peer = connection.client.host if connection.client is not None else None
    forwarded = connection.headers.getlist("x-forwarded-for")
    return client_identity(subject, api_key, forwarded, peer, trusted_proxies)


def client_address(
    forwarded_for: Sequence[str], peer: str | None, trusted_proxies: Sequence[Network]
) -> str:
    """``forwarded_for``: the X-Forwarded-For header values, in the order they came."""
    client = _address(peer)
    if client is None:
        return peer or "unknown"
    if not _trusted(client, trusted_proxies):
        return str(client)
    entries = (entry.strip() for value in forwarded_for for entry in value.split(","))
    for entry in reversed([entry for entry in entries if entry]):
        address = _address(entry)
        if address is None:  # not an address: whoever wrote it is not believed
            break
        client = address
        if not _trusted(address, trusted_proxies):
            break
    return str(client)


@functools.lru_cache(maxsize=1024)  # a request's peer is parsed twice, and peers come back
def _address(text: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text) if text else None
    except ValueError:
        return None


def _trusted(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address, proxies: Sequence[Network]
) -> bool:
    return any(address.version == network.version and address in network for network in proxies)
