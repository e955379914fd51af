"""Client addresses and the networks they are trusted from: parsed, never taken as strings.

An address read from a header is believed only if it parses as an IPv4 or IPv6 address
(written canonically); anything else (``unknown``, a host name, a port-suffixed form) is
ignored, never trusted and never counted as a client."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def ip_address(text: str) -> str | None:
    """``text`` as a canonical IP address, or None when it is not one."""
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        return None


def networks(entries: Sequence[str]) -> tuple[Network, ...]:
    """Addresses and networks (``10.0.0.0/8``, ``::1``); ValueError whose argument is the
    first entry that is neither."""
    parsed = []
    for entry in entries:
        try:
            parsed.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            raise ValueError(entry) from None
    return tuple(parsed)


def within(address: str, trusted: Sequence[Network]) -> bool:
    parsed = ipaddress.ip_address(address)
    return any(parsed in network for network in trusted)
