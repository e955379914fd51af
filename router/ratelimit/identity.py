"""Who a rate limit counts a request against: the verified token's subject, else the
verified API key (by its SHA-256, never the key), else the client's address.

The address is the X-Forwarded-For entry ``trusted_proxies`` hops from the right of the
chain (every X-Forwarded-For header in order, then the socket's peer): each trusted proxy
appended the address it saw, so what the client wrote itself sits to the left and is never
read. With fewer entries than hops the request did not come through the proxies, and the
peer is the client; an entry that is not an IP address is never taken for a client either
(the peer is). The router must be reachable only through those proxies: a client that
reaches it directly can write the entry that would be read. The subgraphs get this address
alone as their X-Forwarded-For (router/server/http.py), never the chain the client sent."""

import hashlib
import ipaddress
from collections.abc import Sequence

from starlette.requests import HTTPConnection


def client_identity(
    subject: str | None,
    api_key: str | None,
    forwarded_for: Sequence[str],
    peer: str | None,
    trusted_proxies: int,
) -> str:
    if subject:
        return f"sub:{subject}"
    if api_key:
        return f"key:{hashlib.sha256(api_key.encode()).hexdigest()}"
    return f"addr:{client_address(forwarded_for, peer, trusted_proxies)}"


def connection_identity(
    connection: HTTPConnection, subject: str | None, api_key: str | None, trusted_proxies: int
) -> str:
    """`client_identity` of an HTTP request or a WebSocket; ``subject`` and ``api_key`` only
    once verified (anyone could make them up)."""
    peer = connection.client.host if connection.client is not None else None
    forwarded = connection.headers.getlist("x-forwarded-for")
    return client_identity(subject, api_key, forwarded, peer, trusted_proxies)


def client_address(forwarded_for: Sequence[str], peer: str | None, trusted_proxies: int) -> str:
    """``forwarded_for``: the X-Forwarded-For header values, in the order they came."""
    entries = (entry.strip() for value in forwarded_for for entry in value.split(","))
    chain = [entry for entry in entries if entry]
    chain.append(peer or "unknown")
    if trusted_proxies >= len(chain):
        return chain[-1]
    entry = chain[-1 - trusted_proxies]
    try:
        return str(ipaddress.ip_address(entry))
    except ValueError:  # not an address: whoever wrote it is not believed
        return chain[-1]
