"""Who is calling: X-Forwarded-For is believed only as far as trusted proxies vouch for it."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from common.addresses import networks
from common.graphql.context import client_address

TRUSTED = networks(("127.0.0.1", "::1", "10.0.0.0/8"))


def _request(peer: str, forwarded: str | None = None) -> Request:
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded is not None else []
    return Request({"type": "http", "headers": headers, "client": (peer, 5000)})


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        ("203.0.113.7", None, "203.0.113.7"),  # a direct caller
        ("203.0.113.7", "10.0.0.1", "203.0.113.7"),  # untrusted peer: its header is ignored
        ("127.0.0.1", "198.51.100.4", "198.51.100.4"),  # through the router
        ("127.0.0.1", "1.2.3.4, 198.51.100.4", "198.51.100.4"),  # forged left part ignored
        ("127.0.0.1", "198.51.100.4, 127.0.0.1", "198.51.100.4"),  # several trusted hops
        ("127.0.0.1", "127.0.0.1", "127.0.0.1"),  # all local: the dev run
        ("127.0.0.1", None, "127.0.0.1"),
        ("127.0.0.1", " , ", "127.0.0.1"),
        ("10.1.2.3", "198.51.100.4", "198.51.100.4"),  # a proxy in a trusted network
        ("127.0.0.1", "198.51.100.4, 10.9.9.9", "198.51.100.4"),  # through two of them
        # what is not an address is never a client, and nothing left of it is believed
        ("127.0.0.1", "unknown", "127.0.0.1"),
        ("127.0.0.1", "198.51.100.4, evil, 10.9.9.9", "10.9.9.9"),
        ("127.0.0.1", "198.51.100.4:5000", "127.0.0.1"),
        ("127.0.0.1", "2001:DB8::1", "2001:db8::1"),  # written canonically
    ],
)
def test_client_address(peer: str, forwarded: str | None, expected: str) -> None:
    assert client_address(_request(peer, forwarded), TRUSTED) == expected


def test_a_peer_that_is_not_an_address_is_no_client() -> None:
    assert client_address(_request("testclient", "198.51.100.4"), TRUSTED) is None
