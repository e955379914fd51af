"""Rate limits in `router.yaml`: bad values are refused with their key path."""

import ipaddress
from typing import Any

import pytest
from pydantic import ValidationError

from router.config import RouterConfig


def _refusal(config: dict[str, Any]) -> tuple[str, str]:
    with pytest.raises(ValidationError) as refused:
        RouterConfig.model_validate(config)
    (problem,) = refused.value.errors()
    return ".".join(str(part) for part in problem["loc"]), problem["msg"]


@pytest.mark.parametrize(
    ("config", "path", "message"),
    [
        (
            {"rate_limit": {"per_client": {"capacity": 0, "interval": "1s"}}},
            "rate_limit.per_client.capacity",
            "greater than 0",
        ),
        (
            {"traffic_shaping": {"router": {"global_rate_limit": {"capacity": 5, "interval": -1}}}},
            "traffic_shaping.router.global_rate_limit.interval",
            "cannot be negative",
        ),
        (
            {"rate_limit": {"per_operation": {"capacity": 5, "interval": "0s"}}},
            "rate_limit.per_operation.interval",
            "longer than zero",
        ),
        (
            {"traffic_shaping": {"subgraphs": {"users": {"global_rate_limit": {"capacity": 1}}}}},
            "traffic_shaping.subgraphs.users.global_rate_limit.interval",
            "Field required",
        ),
        (
            {"rate_limit": {"trusted_proxies": ["10.0.0.0/8", "ingress"]}},
            "rate_limit.trusted_proxies",
            "'ingress' is not an IP address or network",
        ),
        (
            {"rate_limit": {"trusted_proxies": 1}},
            "rate_limit.trusted_proxies",
            "a list of IP addresses or networks",
        ),
        (
            {"rate_limit": {"when_redis_down": "ajar"}},
            "rate_limit.when_redis_down",
            "'open' or 'closed'",
        ),
        (
            {"rate_limit": {"redis": {"url": "redis://127.0.0.1:1", "timeout": "soon"}}},
            "rate_limit.redis.timeout",
            "a duration",
        ),
        (
            {"rate_limit": {"per_client": {"capacity": 5, "interval": "1s", "burst": 9}}},
            "rate_limit.per_client.burst",
            "Extra inputs are not permitted",
        ),
    ],
)
def test_a_bad_rate_limit_is_refused_with_its_key_path(
    config: dict[str, Any], path: str, message: str
) -> None:
    refused_path, refused_message = _refusal(config)
    assert refused_path == path
    assert message in refused_message


def test_a_good_rate_limit_reads_durations_as_apollo_router_writes_them() -> None:
    config = RouterConfig.model_validate(
        {
            "traffic_shaping": {
                "all": {"global_rate_limit": {"capacity": 10, "interval": "500ms"}}
            },
            "rate_limit": {
                "per_client": {"capacity": 100, "interval": "1m"},
                "trusted_proxies": ["127.0.0.1"],
            },
        }
    )
    assert config.traffic_shaping.all.global_rate_limit is not None
    assert config.traffic_shaping.all.global_rate_limit.interval == 0.5
    assert config.rate_limit.per_client is not None
    assert config.rate_limit.per_client.interval == 60.0


def test_trusted_proxies_are_addresses_and_networks_in_a_list_or_one_text() -> None:
    """One text, comma-separated, is what `${env.NAME}` expands to; empty is none."""
    written = {"rate_limit": {"trusted_proxies": ["10.0.0.0/8", "192.168.1.7", "2001:db8::/32"]}}
    expanded = {"rate_limit": {"trusted_proxies": " 10.0.0.0/8, 192.168.1.7,2001:db8::/32 "}}
    expected = [
        ipaddress.ip_network("10.0.0.0/8"),
        ipaddress.ip_network("192.168.1.7/32"),
        ipaddress.ip_network("2001:db8::/32"),
    ]
    for config in (written, expanded):
        assert list(RouterConfig.model_validate(config).rate_limit.trusted_proxies) == expected
    none = RouterConfig.model_validate({"rate_limit": {"trusted_proxies": ""}})
    assert none.rate_limit.trusted_proxies == ()
    assert RouterConfig().rate_limit.trusted_proxies == ()
