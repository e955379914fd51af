"""`apq:`, `persisted_queries:` and `headers:` refuse what cannot work, naming the key."""

from typing import Any

import pytest
from pydantic import ValidationError

from router.config import RouterConfig
from router.config.headers import PropagateRule


@pytest.mark.parametrize(
    ("section", "location", "problem"),
    [
        (
            {"persisted_queries": {"safelist": {"enabled": True}}},
            ("persisted_queries",),
            "`safelist` and `log_unknown` need `enabled: true`",
        ),
        (
            {"persisted_queries": {"enabled": True, "safelist": {"require_id": True}}},
            ("persisted_queries", "safelist"),
            "`require_id` needs `enabled: true`",
        ),
        (
            {"apq": {"router": {"cache": {"redis": {"urls": ["redis://a", "redis://b"]}}}}},
            ("apq", "router", "cache", "redis", "urls"),
            "at most 1 item",
        ),
        (
            {"headers": {"all": {"request": [{"insert": {"name": "x a", "value": "v"}}]}}},
            ("headers", "all", "request", 0, "InsertRule", "insert", "name"),
            "'x a' is not an HTTP header name",
        ),
        (
            {"headers": {"all": {"request": [{"insert": {"name": "x-a", "value": "v\r\nx: y"}}]}}},
            ("headers", "all", "request", 0, "InsertRule", "insert", "value"),
            "a header value cannot hold a line break",
        ),
        (
            {"headers": {"subgraphs": {"a": {"request": [{"remove": {"matching": "(["}}]}}}},
            ("headers", "subgraphs", "a", "request", 0, "RemoveRule", "remove", "matching"),
            "'([' is not a regular expression",
        ),
    ],
)
def test_sections_that_cannot_work_are_refused_at_their_key(
    section: dict[str, Any], location: tuple[str | int, ...], problem: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        RouterConfig.model_validate(section)
    matching = [e for e in refused.value.errors() if e["loc"] == location]
    assert matching, refused.value.errors()
    assert problem in matching[0]["msg"]


def test_header_names_are_matched_in_any_case() -> None:
    config = RouterConfig.model_validate(
        {"headers": {"all": {"request": [{"propagate": {"named": "X-Tenant", "rename": "X-T"}}]}}}
    )
    rule = config.headers.all.request[0]
    assert isinstance(rule, PropagateRule)
    assert (rule.propagate.named, rule.propagate.rename) == ("x-tenant", "x-t")
