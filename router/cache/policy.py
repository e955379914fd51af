"""RFC 9111 `Cache-Control` as the subgraphs send it (Apollo Server's values): how long an
answer may be kept and by whom. An answer without one, or with one that does not say a
positive `max-age` (or says `no-store`, `no-cache`), is not cacheable: `None` here."""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from router.transport.base import CACHE_CONTROL

NO_STORE = "no-store"


@dataclass(frozen=True, slots=True)
class CachePolicy:
    max_age: int  # seconds, > 0
    private: bool = False

    def header(self) -> str:
        return f"max-age={self.max_age}, {'private' if self.private else 'public'}"


def parse_cache_control(value: str | None) -> CachePolicy | None:
    if not value:
        return None
    max_age: int | None = None
    private = False
    for directive in value.lower().split(","):
        name, _, argument = directive.strip().partition("=")
        if name in ("no-store", "no-cache"):
            return None
        if name == "private":
            private = True
        elif name == "max-age":
            try:
                max_age = int(argument.strip().strip('"'))
            except ValueError:
                return None
    if max_age is None or max_age <= 0:
        return None
    return CachePolicy(max_age, private)


def answer_policy(response: dict[str, Any]) -> CachePolicy | None:
    """A subgraph answer's policy (as the transport kept its header); an answer with errors
    is never cacheable."""
    if response.get("errors"):
        return None
    header = response.get(CACHE_CONTROL)
    return parse_cache_control(header) if isinstance(header, str) else None


def combined(policies: Iterable[CachePolicy | None]) -> CachePolicy | None:
    """The policy of an answer made of several: the shortest max-age, private if any part
    is; None (not cacheable) if any part is not, or there is no part."""
    max_age: int | None = None
    private = False
    for policy in policies:
        if policy is None:
            return None
        max_age = policy.max_age if max_age is None else min(max_age, policy.max_age)
        private = private or policy.private
    return None if max_age is None else CachePolicy(max_age, private)


def response_headers(
    kind: str, body: dict[str, Any], policies: list[CachePolicy | None], personal: bool = False
) -> dict[str, str]:
    """The client response's `Cache-Control` (and `Vary`) from the policies of the answers it
    was made of: `no-store` for anything but a query answered without errors, all of whose
    parts were cacheable; private when `personal` (an authenticated caller was let through
    `@authenticated`, `@requiresScopes` or `@policy`: another caller may not see the same)."""
    policy = None if kind != "query" or body.get("errors") else combined(policies)
    if policy is None:
        return {"cache-control": NO_STORE}
    if policy.private or personal:
        policy = CachePolicy(policy.max_age, private=True)
        return {"cache-control": policy.header(), "vary": "Authorization"}
    return {"cache-control": policy.header()}
