"""`demand_control:` of router.yaml: Apollo Router's keys, bad values refused."""

from typing import Any

import pytest
from pydantic import ValidationError

from router.config import RouterConfig
from router.gateway.demand import DemandPolicy


def _section(**demand_control: Any) -> RouterConfig:
    return RouterConfig.model_validate({"demand_control": demand_control})


def test_apollo_router_keys() -> None:
    config = _section(
        enabled=True,
        mode="enforce",
        strategy={"static_estimated": {"list_size": 25, "max": 5000}},
    )
    assert DemandPolicy.from_config(config.demand_control) == DemandPolicy(True, 25, 5000.0)


def test_off_unless_enabled() -> None:
    assert DemandPolicy.from_config(_section(mode="enforce").demand_control) is None
    policy = DemandPolicy.from_config(_section(enabled=True).demand_control)
    assert policy == DemandPolicy(enforce=False, list_size=10, max=10_000.0)


@pytest.mark.parametrize(
    ("section", "where"),
    [
        ({"mode": "block"}, "demand_control.mode"),
        ({"strategy": {"static_estimated": {"max": 0}}}, "max"),
        ({"strategy": {"static_estimated": {"list_size": -1}}}, "list_size"),
        ({"strategy": {"static_estimated": {"maximum": 10}}}, "maximum"),
        ({"strategy": {"dynamic": {}}}, "dynamic"),
    ],
)
def test_bad_values_are_refused(section: dict[str, Any], where: str) -> None:
    with pytest.raises(ValidationError, match=where):
        _section(**section)
