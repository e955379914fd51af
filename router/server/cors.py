"""CORS, as Apollo Router answers it: the first policy admitting a request's `Origin` (one of
its `origins` exactly, or one of its `match_origins` as a whole) decides the headers; its
unset keys come from the section. A preflight (OPTIONS with Access-Control-Request-Method) is
answered here and never reaches the gateway: 204 with the policy's headers, or 403
`CORS_ORIGIN_NOT_ALLOWED` without any CORS header for an origin no policy admits (Apollo
Router answers 200 without them: the browser fails either way; the code says why). Every
answer carries `Vary: Origin`, so that a cache never gives one origin's answer to another.

A WebSocket upgrade from a browser page (it carries `Origin`) is refused (HTTP 403) unless
the page is the router's own (GraphiQL) or CORS admits its origin: another site must not open
subscriptions in a user's browser. A client without `Origin` is no browser, and is let in."""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from router.config.cors import CorsSection
from router.errors import error
from router.gateway.gateway import GraphQLResponse
from router.server.headers import add_vary, header, response_headers, set_header
from router.server.http import respond

_VARY = "Origin"
_VARY_BYTES = _VARY.encode()


@dataclass(frozen=True, slots=True)
class Grant:
    """What one policy gives an origin it admits, its section's values filled in."""

    origins: frozenset[str]
    patterns: tuple[re.Pattern[str], ...]
    credentials: bool
    allow_headers: tuple[str, ...]  # empty: a preflight's requested headers are allowed
    expose_headers: tuple[str, ...]
    methods: tuple[str, ...]
    max_age: float | None

    def admits(self, origin: str) -> bool:
        return origin in self.origins or any(p.fullmatch(origin) for p in self.patterns)


@dataclass(frozen=True, slots=True)
class CorsRules:
    any_origin: bool
    grants: tuple[Grant, ...]
    fallback: Grant  # the section's own values: with `allow_any_origin`, for every origin

    @classmethod
    def of(cls, section: CorsSection) -> "CorsRules":
        def grant(
            origins: Sequence[str] = (),
            patterns: Sequence[str] = (),
            credentials: bool | None = None,
            allow_headers: tuple[str, ...] | None = None,
            expose_headers: tuple[str, ...] | None = None,
            methods: tuple[str, ...] | None = None,
            max_age: float | None = None,
        ) -> Grant:
            return Grant(
                frozenset(origins),
                tuple(re.compile(p) for p in patterns),
                # never with any origin (the configuration refuses asking for both)
                not section.allow_any_origin
                and (section.allow_credentials if credentials is None else credentials),
                section.allow_headers if allow_headers is None else allow_headers,
                section.expose_headers if expose_headers is None else expose_headers,
                section.methods if methods is None else methods,
                section.max_age if max_age is None else max_age,
            )

        grants = tuple(
            grant(
                p.origins,
                p.match_origins,
                p.allow_credentials,
                p.allow_headers,
                p.expose_headers,
                p.methods,
                p.max_age,
            )
            for p in section.policies
        )
        return cls(section.allow_any_origin, grants, grant())

    def grant(self, origin: str) -> Grant | None:
        """The grant for a browser's origin, None when CORS does not admit it."""
        if origin == "null":  # sandboxed pages and files: only ever `allow_any_origin`
            return self.fallback if self.any_origin else None
        found = next((g for g in self.grants if g.admits(origin)), None)
        return found or (self.fallback if self.any_origin else None)

    def allow_origin(self, origin: str) -> str:
        return "*" if self.any_origin else origin


def _actual_headers(rules: CorsRules, grant: Grant, origin: str) -> dict[str, str]:
    headers = {"access-control-allow-origin": rules.allow_origin(origin)}
    if grant.credentials:
        headers["access-control-allow-credentials"] = "true"
    if grant.expose_headers:
        headers["access-control-expose-headers"] = ", ".join(grant.expose_headers)
    return headers


def _preflight_headers(
    rules: CorsRules, grant: Grant, origin: str, requested: str | None
) -> dict[str, str]:
    headers = {"access-control-allow-origin": rules.allow_origin(origin)}
    if grant.credentials:
        headers["access-control-allow-credentials"] = "true"
    allowed = ", ".join(grant.allow_headers) if grant.allow_headers else requested
    if allowed:
        headers["access-control-allow-headers"] = allowed
    headers["access-control-allow-methods"] = ", ".join(grant.methods)
    if grant.max_age is not None:
        headers["access-control-max-age"] = str(int(grant.max_age))
    return headers


def _same_origin(origin: str, host: str | None) -> bool:
    """Whether a page's origin is the router's own (the Host it was asked for)."""
    return host is not None and urlsplit(origin).netloc.lower() == host.lower()


class CorsMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        rules: CorsRules = scope["app"].state.router.cors
        origin = header(scope, b"origin")
        if scope["type"] == "websocket":
            host = header(scope, b"host")
            if origin is None or _same_origin(origin, host) or rules.grant(origin):
                await self.app(scope, receive, send)
            else:
                await receive()  # websocket.connect
                await send({"type": "websocket.close", "code": 1008})  # HTTP 403
            return
        grant = rules.grant(origin) if origin is not None else None
        if (
            origin is not None
            and scope["method"] == "OPTIONS"
            and header(scope, b"access-control-request-method") is not None
        ):
            response = _preflight_answer(Request(scope), rules, grant, origin)
            await response(scope, receive, send)
            return
        added = (
            [
                (name.encode(), value.encode("latin-1"))
                for name, value in _actual_headers(rules, grant, origin).items()
            ]
            if grant and origin
            else []
        )

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = response_headers(message)
                for name, value in added:
                    set_header(headers, name, value)
                add_vary(headers, _VARY_BYTES)  # with an Origin or without
            await send(message)

        await self.app(scope, receive, send_with_cors)


def _preflight_answer(
    request: Request, rules: CorsRules, grant: Grant | None, origin: str
) -> Response:
    if grant is None:
        message = f"the origin {origin!r} may not call this router from a browser"
        refused = GraphQLResponse(403, {"errors": [error(message, "CORS_ORIGIN_NOT_ALLOWED")]})
        response = respond(request, refused)
    else:
        requested = request.headers.get("access-control-request-headers")
        response = Response(
            status_code=204, headers=_preflight_headers(rules, grant, origin, requested)
        )
    response.headers.add_vary_header(_VARY)
    if grant is not None and not grant.allow_headers:  # mirrored: varies with what is asked
        response.headers.add_vary_header("Access-Control-Request-Headers")
    return response
