"""Whom a rate limit counts a request against, and what a client cannot forge."""

import hashlib

from router.ratelimit.identity import client_address, client_identity


def test_the_subject_then_the_api_key_by_its_hash_then_the_address() -> None:
    assert client_identity("user-1", "key-1", ["203.0.113.9"], "10.0.0.1", 0) == "sub:user-1"
    by_key = client_identity(None, "key-1", [], "10.0.0.1", 0)
    assert by_key == f"key:{hashlib.sha256(b'key-1').hexdigest()}"
    assert "key-1" not in by_key
    assert client_identity("", None, ["203.0.113.9"], "10.0.0.1", 0) == "addr:10.0.0.1"


def test_without_trusted_proxies_the_socket_peer_is_the_client() -> None:
    assert client_address(["198.51.100.7"], "10.0.0.1", 0) == "10.0.0.1"
    assert client_address([], "10.0.0.1", 0) == "10.0.0.1"


def test_each_trusted_proxy_is_one_hop_from_the_right() -> None:
    # the client forged 198.51.100.7; the first proxy appended 203.0.113.9 (the address it
    # saw), the second 10.0.0.2, and the router's peer is the second proxy (10.0.0.3)
    chain = ["198.51.100.7, 203.0.113.9", "10.0.0.2"]
    assert client_address(chain, "10.0.0.3", 1) == "10.0.0.2"
    assert client_address(chain, "10.0.0.3", 2) == "203.0.113.9"
    assert client_address(chain, "10.0.0.3", 3) == "198.51.100.7"


def test_a_chain_shorter_than_the_proxies_did_not_come_through_them() -> None:
    assert client_address([], "198.51.100.7", 1) == "198.51.100.7"
    assert client_address(["203.0.113.9"], "198.51.100.7", 2) == "198.51.100.7"


def test_no_peer_is_one_unknown_client() -> None:
    assert client_address([], None, 0) == "unknown"


def test_empty_entries_are_not_hops() -> None:
    assert client_address(["198.51.100.7,, ", " ,203.0.113.9,"], "10.0.0.1", 1) == "203.0.113.9"


def test_an_entry_that_is_not_an_address_is_never_the_client() -> None:
    # a proxy trusted for one hop passed on what the client wrote: the peer is counted
    assert client_address(["unknown"], "10.0.0.3", 1) == "10.0.0.3"
    assert client_address(["198.51.100.7, <script>"], "10.0.0.3", 1) == "10.0.0.3"
    assert client_address(["2001:DB8::7"], "10.0.0.3", 1) == "2001:db8::7"
