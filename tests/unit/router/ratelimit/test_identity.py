"""Whom a rate limit counts a request against, and what a client cannot forge."""

import hashlib
import ipaddress

from router.ratelimit.identity import client_address, client_identity

PROXIES = (ipaddress.ip_network("10.0.0.0/24"),)  # the ingress controller's network


def test_the_subject_then_the_api_key_by_its_hash_then_the_address() -> None:
    assert client_identity("user-1", "key-1", ["203.0.113.9"], "10.0.0.1", ()) == "sub:user-1"
    by_key = client_identity(None, "key-1", [], "10.0.0.1", ())
    assert by_key == f"key:{hashlib.sha256(b'key-1').hexdigest()}"
    assert "key-1" not in by_key
    assert client_identity("", None, ["203.0.113.9"], "10.0.0.1", ()) == "addr:10.0.0.1"


def test_without_trusted_proxies_the_socket_peer_is_the_client() -> None:
    assert client_address(["198.51.100.7"], "10.0.0.1", ()) == "10.0.0.1"
    assert client_address([], "10.0.0.1", ()) == "10.0.0.1"


def test_a_peer_that_is_not_a_trusted_proxy_is_the_client_whatever_it_writes() -> None:
    assert client_address(["10.0.0.2, 198.51.100.7"], "203.0.113.9", PROXIES) == "203.0.113.9"


def test_behind_trusted_proxies_the_right_most_untrusted_entry_is_the_client() -> None:
    # the client forged 198.51.100.7; the first proxy appended 203.0.113.9 (the address it
    # saw), the second proxy 10.0.0.2, and the router's peer is a third (10.0.0.3)
    chain = ["198.51.100.7, 203.0.113.9", "10.0.0.2"]
    assert client_address(chain, "10.0.0.3", PROXIES) == "203.0.113.9"
    assert client_address(["203.0.113.9"], "10.0.0.3", PROXIES) == "203.0.113.9"


def test_a_trusted_proxy_without_a_chain_is_the_client() -> None:
    assert client_address([], "10.0.0.3", PROXIES) == "10.0.0.3"
    assert client_address(["10.0.0.5"], "10.0.0.3", PROXIES) == "10.0.0.5"


def test_no_peer_is_one_unknown_client() -> None:
    assert client_address([], None, ()) == "unknown"
    assert client_address(["198.51.100.7"], "testclient", PROXIES) == "testclient"


def test_empty_entries_are_not_hops() -> None:
    chain = ["198.51.100.7,, ", " ,203.0.113.9,"]
    assert client_address(chain, "10.0.0.1", PROXIES) == "203.0.113.9"


def test_an_entry_that_is_not_an_address_is_never_the_client() -> None:
    # a trusted proxy passed on what the client wrote: the last trusted hop is counted
    assert client_address(["unknown"], "10.0.0.3", PROXIES) == "10.0.0.3"
    assert client_address(["198.51.100.7, <script>"], "10.0.0.3", PROXIES) == "10.0.0.3"
    assert client_address(["198.51.100.7, <script>, 10.0.0.4"], "10.0.0.3", PROXIES) == "10.0.0.4"
    assert client_address(["2001:DB8::7"], "10.0.0.3", PROXIES) == "2001:db8::7"
