"""`traffic_shaping`: what applies to one subgraph (`all`, with `subgraphs.<name>` over it key
by key) and the bad values refused with their key path."""

from typing import Any

import pytest
from pydantic import ValidationError

from router.config import RouterConfig
from router.config.traffic import subgraph_shaping


def _shaping(traffic: dict[str, Any]) -> RouterConfig:
    return RouterConfig.model_validate({"traffic_shaping": traffic})


def test_deduplication_is_on_by_default_and_policies_off() -> None:
    shaping = subgraph_shaping(RouterConfig().traffic_shaping, "products")
    assert shaping.deduplicate_query is True
    assert (shaping.experimental_retry, shaping.circuit_breaker, shaping.bulkhead) == (
        None,
        None,
        None,
    )


def test_a_subgraph_overrides_all_key_by_key() -> None:
    config = _shaping(
        {
            "all": {
                "timeout": "2s",
                "circuit_breaker": {"minimum_requests": 20, "open_for": "30s"},
                "bulkhead": {"max_concurrent": 8},
                "experimental_retry": {"attempts": 3},
            },
            "subgraphs": {
                "products": {
                    "deduplicate_query": False,
                    "circuit_breaker": {"open_for": "1s"},
                    "bulkhead": None,
                }
            },
        }
    ).traffic_shaping
    products = subgraph_shaping(config, "products")
    assert products.timeout == 2.0
    assert products.deduplicate_query is False
    assert products.circuit_breaker is not None
    assert (products.circuit_breaker.minimum_requests, products.circuit_breaker.open_for) == (
        20,
        1.0,
    )
    assert products.bulkhead is None
    assert products.experimental_retry is not None
    assert products.experimental_retry.attempts == 3
    other = subgraph_shaping(config, "reviews")
    assert other.deduplicate_query is True
    assert other.bulkhead is not None
    assert other.bulkhead.max_concurrent == 8
    assert other.circuit_breaker is not None
    assert other.circuit_breaker.open_for == 30.0


@pytest.mark.parametrize(
    ("traffic", "path"),
    [
        ({"all": {"circuit_breaker": {"failure_rate": 1.5}}}, "failure_rate"),
        ({"all": {"circuit_breaker": {"window": 0}}}, "window"),
        ({"all": {"circuit_breaker": {"open_for": "-1s"}}}, "open_for"),
        ({"all": {"circuit_breaker": {"trip": 3}}}, "trip"),
        ({"subgraphs": {"x": {"bulkhead": {"max_concurrent": 0}}}}, "max_concurrent"),
        ({"all": {"bulkhead": {"max_waiting": -1}}}, "max_waiting"),
        ({"all": {"experimental_retry": {"attempts": 0}}}, "attempts"),
        ({"all": {"experimental_retry": {"retry_mutations": True}}}, "retry_mutations"),
        ({"all": {"experimental_retry": {"backoff": "soon"}}}, "backoff"),
        ({"all": {"deduplicate_query": "sometimes"}}, "deduplicate_query"),
    ],
)
def test_bad_values_are_refused_with_their_key(traffic: dict[str, Any], path: str) -> None:
    with pytest.raises(ValidationError) as refused:
        _shaping(traffic)
    assert any(error["loc"][-1] == path for error in refused.value.errors())
