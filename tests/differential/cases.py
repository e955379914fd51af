"""Known differences from Apollo Gateway: each class has a recogniser and a minimal reproduction.

APOLLO_WRONG: Apollo Gateway answers wrongly and the router rightly; these stay, and
`test_known_differences` asserts the router's right answer for each.
PENDING_FIXES: the router answers wrongly; another branch of issue 18 fixes the class. When the
fix merges, its reproduction stops differing and `test_known_differences` fails: drop the entry
(and the random runs then hold the router to Apollo's answer for that class too).
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.differential.compare import normalise
from tests.differential.harness import Answer

NON_NULL = "Cannot return null for non-nullable field"


@dataclass(frozen=True)
class Known:
    name: str
    reason: str
    matches: Callable[[Answer, Answer, str], bool]
    world: str
    query: str
    variables: dict[str, Any] = field(default_factory=dict)
    router_data: Any = None


def _errors(answer: Answer) -> list[dict[str, Any]]:
    body = answer.body if isinstance(answer.body, dict) else {}
    return [e for e in body.get("errors") or [] if isinstance(e, dict)]


def _apollo_fails_on_shadowing_alias(ours: Answer, theirs: Answer, query: str) -> bool:
    pattern = re.compile(r"Invalid non-\w+ value .* (returned by subgraph|for __typename)")
    return (
        ours.status == 200
        and theirs.status >= 400
        and any(pattern.search(str(e.get("message"))) for e in _errors(theirs))
    )


def _extra_non_null_errors(ours: Answer, theirs: Answer, query: str) -> bool:
    a, b = normalise(ours), normalise(theirs)
    if a.data != b.data or a.status != b.status or not set(b.error_paths) < set(a.error_paths):
        return False
    extra = set(a.error_paths) - set(b.error_paths)
    return all(
        str(e.get("message", "")).startswith(NON_NULL)
        for e in _errors(ours)
        if ".".join(map(str, e.get("path") or [])) in extra
    )


APOLLO_WRONG: tuple[Known, ...] = (
    Known(
        "alias shadowing a field the plan adds",
        "An alias equal to a key field or to __typename, on a field of another type, makes Apollo "
        "Gateway read the aliased value where it expects its own key or __typename selection: "
        "it fails the whole request (400, INTERNAL_SERVER_ERROR 'Invalid non-object value'). "
        "The aliases are valid GraphQL; the router answers them.",
        _apollo_fails_on_shadowing_alias,
        "commerce",
        "{ products { sku: warehouse { id } shippingEstimate } }",
        router_data=None,
    ),
)

PENDING_FIXES: tuple[Known, ...] = (
    Known(
        "spurious non-null errors after null propagation",
        "Once a null has propagated up to `data`, the router adds 'Cannot return null' errors "
        "for sibling fields that were only nulled by that propagation; Apollo reports the one "
        "real error.",
        _extra_non_null_errors,
        "commerce",
        "{ products { inStock } topProduct { dimensions { length } } }",
    ),
)

KNOWN = (*APOLLO_WRONG, *PENDING_FIXES)


def classify(ours: Answer, theirs: Answer, query: str) -> str | None:
    """The name of the known class this difference belongs to, or None."""
    return next((known.name for known in KNOWN if known.matches(ours, theirs, query)), None)
