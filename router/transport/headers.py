"""Which of the client's headers each subgraph request carries: `headers:` in router.yaml,
applied per subgraph by `HeaderPropagation`, the outermost layer of the policy stack.

Every subgraph request starts with `authorization` (the verified token, an API key's traded
one too) and `x-forwarded-for` (the one client address the router believes): those are
implicit, and a `remove` rule can take them away. The
rules then run in order, `headers.all` first, then `headers.subgraphs.<name>`, as Apollo
Router runs them. Whatever the rules say, hop-by-hop and body headers (`host`,
`content-length`, `connection`, …) are never forwarded, and the client's `traceparent` and
`tracestate` always are (tracing on, the router's own span's instead)."""

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from router.config import RouterConfig
from router.config.headers import HeadersSection, InsertRule, PropagateRule, Rule
from router.transport.base import Transport
from router.transport.layer import Layer

IMPLICIT = ("authorization", "x-forwarded-for")
TRACE_CONTEXT = ("traceparent", "tracestate")
# Headers that differ from one request to the next while asking for the same thing: requests
# differing only in these may share one execution (the shared one carries the first's).
PER_REQUEST = frozenset({"x-forwarded-for", *TRACE_CONTEXT})
# RFC 9110 §7.6.1 hop-by-hop headers, and those describing the client's own request body or
# connection: the router writes its own.
NEVER = frozenset(
    {
        "accept",
        "accept-encoding",
        "connection",
        "content-encoding",
        "content-length",
        "content-type",
        "expect",
        "host",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)


def never_forwarded(name: str) -> bool:
    return name in NEVER or name.startswith("sec-websocket-")


class ForwardedHeaders(Mapping[str, str]):
    """A request's headers as the executor hands them to the transport: as a mapping, what
    every subgraph gets when no rule says otherwise (`IMPLICIT` and `TRACE_CONTEXT`);
    `client`, every header of the client's request, for `HeaderPropagation` to apply the
    rules to. A transport without that layer thus forwards what the router always has."""

    __slots__ = ("_default", "_lines", "_shared", "client")

    def __init__(self, client: Mapping[str, str]) -> None:
        self.client: Mapping[str, str] = client_headers(client)
        self._default = {name: client[name] for name in IMPLICIT + TRACE_CONTEXT if name in client}
        # worked out on first use, once for all of the request's fetches
        self._shared: tuple[tuple[str, str], ...] | None = None
        self._lines: bytes | None = None

    def shared(self) -> tuple[tuple[str, str], ...]:
        """`shared_items` of these headers."""
        if self._shared is None:
            self._shared = shared_items(self._default)
        return self._shared

    def lines(self) -> bytes:
        """`header_lines` of these headers."""
        if self._lines is None:
            self._lines = header_lines(self._default)
        return self._lines

    def __getitem__(self, name: str) -> str:
        return self._default[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._default)

    def __len__(self) -> int:
        return len(self._default)


def shared_items(headers: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """What of `headers` requests must have in common to share one (all but
    `PER_REQUEST`), in order."""
    if isinstance(headers, ForwardedHeaders):
        return headers.shared()
    return tuple(sorted(item for item in headers.items() if item[0] not in PER_REQUEST))


def header_lines(headers: Mapping[str, str]) -> bytes:
    """`headers` as HTTP/1.1 header lines (`name: value` and CRLF each), line breaks taken
    out of the values."""
    if isinstance(headers, ForwardedHeaders):
        return headers.lines()
    return "".join(f"{name}: {_unbroken(value)}\r\n" for name, value in headers.items()).encode(
        "latin-1"
    )


def _unbroken(value: str) -> str:
    return value.replace("\r", "").replace("\n", "")


def with_trace_context(headers: Mapping[str, str], context: Mapping[str, str]) -> ForwardedHeaders:
    """`headers` with the router's own span as the trace context (tracing on): whatever the
    rules say, it replaces the client's `traceparent` and `tracestate`."""
    client = {k: v for k, v in client_headers(headers).items() if k not in TRACE_CONTEXT}
    return ForwardedHeaders({**client, **context})


def client_headers(headers: Mapping[str, str]) -> Mapping[str, str]:
    return headers.client if isinstance(headers, ForwardedHeaders) else headers


_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9a-z-]+$")


def as_headers(entries: Mapping[str, str]) -> dict[str, str]:
    """Those of `entries` that can be HTTP headers (a lower-case token name, a value without
    line breaks): what a WebSocket client's `connection_init` payload may carry."""
    return {
        name: value
        for name, value in entries.items()
        if _TOKEN.match(name) and not any(char in value for char in "\r\n\0")
    }


@dataclass(frozen=True, slots=True)
class _Select:
    """The headers a rule acts on: one by name, or those whose name matches a pattern."""

    name: str | None
    pattern: re.Pattern[str] | None

    def __call__(self, name: str) -> bool:
        if self.pattern is not None:
            return self.pattern.search(name) is not None
        return name == self.name


@dataclass(frozen=True, slots=True)
class _Propagate:
    select: _Select
    rename: str | None
    default: str | None


@dataclass(frozen=True, slots=True)
class _Insert:
    name: str
    value: str


@dataclass(frozen=True, slots=True)
class _Remove:
    select: _Select


_Step = _Propagate | _Insert | _Remove


def _select(named: str | None, matching: str | None) -> _Select:
    return _Select(named, re.compile(matching) if matching is not None else None)


def _step(rule: Rule) -> _Step:
    if isinstance(rule, PropagateRule):
        propagate = rule.propagate
        select = _select(propagate.named, propagate.matching)
        return _Propagate(select, propagate.rename, propagate.default)
    if isinstance(rule, InsertRule):
        return _Insert(rule.insert.name, rule.insert.value)
    return _Remove(_select(rule.remove.named, rule.remove.matching))


def _propagate(
    step: _Propagate, client: Mapping[str, str], headers: dict[str, str], propagated: set[str]
) -> None:
    named = step.select.name
    if named is not None:
        target = step.rename or named
        value = client.get(named, step.default)
        if target not in propagated and value is not None:
            headers[target] = value
            propagated.add(target)
        return
    for name, value in client.items():
        if name not in propagated and step.select(name) and not never_forwarded(name):
            headers[name] = value
            propagated.add(name)


def _apply(steps: tuple[_Step, ...], client: Mapping[str, str]) -> dict[str, str]:
    headers = {name: client[name] for name in IMPLICIT if name in client}
    propagated: set[str] = set()  # a propagated name keeps the first value given to it
    for step in steps:
        if isinstance(step, _Insert):
            headers[step.name] = step.value
        elif isinstance(step, _Remove):
            for name in [n for n in headers if step.select(n)]:
                del headers[name]
        else:
            _propagate(step, client, headers, propagated)
    for name in [n for n in headers if never_forwarded(n) or n in TRACE_CONTEXT]:
        del headers[name]
    headers.update((name, client[name]) for name in TRACE_CONTEXT if name in client)
    return headers


class HeaderRules:
    """`headers:` compiled: the headers of a request to each subgraph."""

    def __init__(self, section: HeadersSection) -> None:
        common = tuple(_step(rule) for rule in section.all.request)
        self._all = common
        self._subgraphs = {
            name: common + tuple(_step(rule) for rule in rules.request)
            for name, rules in section.subgraphs.items()
        }

    def for_subgraph(self, service: str, headers: Mapping[str, str]) -> dict[str, str]:
        """What a request to `service` carries, from the client's request `headers`
        (lower-case names; a `ForwardedHeaders` or the client's headers themselves)."""
        return _apply(self._subgraphs.get(service, self._all), client_headers(headers))

    def fingerprint(self, headers: Mapping[str, str]) -> frozenset[tuple[str, str, str]]:
        """What any subgraph would get from these headers, except the client's address and
        trace context (which differ per request): requests that share it send the same
        headers, so they can share one execution."""
        client = client_headers(headers)
        sets = [("", self._all), *self._subgraphs.items()]
        return frozenset(
            (service, name, value)
            for service, steps in sets
            for name, value in _apply(steps, client).items()
            if name not in PER_REQUEST
        )


class HeaderPropagation(Layer):
    """The policy layer that gives each subgraph request the headers its rules select."""

    def __init__(self, inner: Transport, rules: HeaderRules) -> None:
        super().__init__(inner)
        self.rules = rules

    async def send(
        self,
        service: str,
        payload: Mapping[str, Any],
        headers: Mapping[str, str],
        *,
        idempotent: bool = False,
    ) -> dict[str, Any]:
        selected = self.rules.for_subgraph(service, headers)
        return await self.inner.send(service, payload, selected, idempotent=idempotent)

    async def send_multipart(
        self, service: str, payload: Mapping[str, Any], headers: Mapping[str, str]
    ) -> dict[str, Any]:
        selected = self.rules.for_subgraph(service, headers)
        return await self.inner.send_multipart(service, payload, selected)


def header_propagation(inner: Transport, config: RouterConfig) -> Transport:
    """The layer, when rules are configured: without any, the headers the gateway hands
    down are already the default set (`ForwardedHeaders`), so no layer is needed."""
    section = config.headers
    if not section.all.request and not any(rules.request for rules in section.subgraphs.values()):
        return inner
    return HeaderPropagation(inner, HeaderRules(section))
