"""`rate_limit:` (this router's own section): per client and per operation limits, and the
Redis that every router replica shares them through (it also backs `traffic_shaping`'s
`global_rate_limit`s, the whole router's and each subgraph's). Without `redis`, each router
process limits on its own, as Apollo Router's `global_rate_limit` does."""

import ipaddress
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, WithJsonSchema

from router.config.base import Duration, PositiveInt, Section
from router.config.traffic import GlobalRateLimit

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(value: Any) -> tuple[Network, ...]:
    """Addresses and networks (``10.0.0.0/8``, ``10.1.2.3``): a list, or one text of them
    separated by commas (as `${env.NAME}` expands to; empty: none)."""
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        raise ValueError(
            "a list of IP addresses or networks (or one text of them, comma-separated)"
        )
    found = []
    for item in items:
        text = item.strip() if isinstance(item, str) else item
        if text == "":
            continue
        try:
            found.append(ipaddress.ip_network(text, strict=False))
        except (TypeError, ValueError):
            raise ValueError(f"{item!r} is not an IP address or network") from None
    return tuple(found)


Networks = Annotated[
    tuple[Network, ...],
    BeforeValidator(parse_networks),
    WithJsonSchema(
        {
            "anyOf": [{"type": "array", "items": {"type": "string"}}, {"type": "string"}],
            "description": "IP addresses or networks, or one text of them separated by commas",
        }
    ),
]


class RateLimitRedis(Section):
    url: str
    # the keys' prefix: routers sharing one limit share it
    namespace: str = "router:rate"
    # the longest a decision waits for Redis before Redis counts as down
    timeout: Duration = 0.2


class RateLimitSection(Section):
    # false: per_client and per_operation are not applied (they stay written)
    enabled: bool = True
    redis: RateLimitRedis | None = None
    # when Redis cannot be reached: `open` decides with an in-process limiter of the same
    # rates, `closed` refuses the request (503 RATE_LIMIT_UNAVAILABLE)
    when_redis_down: Literal["open", "closed"] = "open"
    # client identity: the verified token's subject, else the verified API key, else the
    # client address (the socket's peer; when the peer is one of ``trusted_proxies``, the
    # right-most X-Forwarded-For entry that is not)
    per_client: GlobalRateLimit | None = None
    # per (client, operation name); operations without a name share one
    per_operation: GlobalRateLimit | None = None
    trusted_proxies: Networks = Field(
        default=(),
        description="the proxies in front of the router (the ingress controller's addresses "
        "or network) whose X-Forwarded-For is believed, or one text of them separated by "
        "commas; none: the socket's peer is the client",
    )
    # the least Retry-After a refusal announces, in whole seconds
    retry_after_minimum: PositiveInt = 1
