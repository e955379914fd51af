"""Per-request context: the caller (or why their token was refused), sessions, loaders."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket

from common.addresses import Network, ip_address, within
from common.auth import Principal, TokenVerifier
from common.auth.tokens import InvalidToken
from common.errors import Forbidden, Unauthenticated
from common.graphql.cache_control.policy import CachePolicy

REALM = "lms"

ServiceT = TypeVar("ServiceT")
LoadersT = TypeVar("LoadersT")


@dataclass(slots=True)
class RequestContext(Generic[ServiceT, LoadersT]):
    request: Request | WebSocket
    response: Response | None
    principal: Principal | None
    auth_error: Unauthenticated | None
    service: ServiceT
    loaders: LoadersT
    client_address: str | None = None
    connection_params: dict[str, object] | None = None  # a WebSocket's connection_init payload
    cache_policy: CachePolicy = field(default_factory=CachePolicy)  # the operation's, so far

    def require_principal(self, *, service_scope: str | None = None) -> Principal:
        """The caller, or UNAUTHENTICATED saying why (no token, expired, forged…), with the
        RFC 6750 challenge on the HTTP response. A service acting for itself is no signed-in
        user: FORBIDDEN, unless ``service_scope`` names a scope its token was granted."""
        if self.auth_error is not None:
            self._challenge(self.auth_error)
            raise self.auth_error
        if self.principal is None:
            self._challenge(None)
            raise Unauthenticated("Sign in first: this needs an access token.")
        if self.principal.is_service and not (
            service_scope is not None and self.principal.service_may(service_scope)
        ):
            needed = "" if service_scope is None else f" without the scope {service_scope}"
            raise Forbidden(f"A service's token is not accepted here{needed}.")
        return self.principal

    def caller(self) -> Principal | None:
        """The caller, or None when anonymous; a refused token is still UNAUTHENTICATED, never
        taken for an anonymous call."""
        if self.auth_error is not None:
            self._challenge(self.auth_error)
            raise self.auth_error
        return self.principal

    def _challenge(self, refusal: Unauthenticated | None) -> None:
        if self.response is not None:
            self.response.headers["www-authenticate"] = bearer_challenge(refusal)


def bearer_challenge(refusal: Unauthenticated | None) -> str:
    """`WWW-Authenticate` (RFC 6750 section 3): `error="invalid_token"` and why when a token
    was refused, the bare challenge when none was sent (or not as a bearer token)."""
    plain = f'Bearer realm="{REALM}"'
    if not isinstance(refusal, InvalidToken):
        return plain
    # a quoted-string of RFC 6750's error_description characters: printable ASCII, no " or \
    described = "".join(c if " " <= c <= "~" and c not in '"\\' else "'" for c in refusal.message)
    return f'{plain}, error="invalid_token", error_description="{described}"'


def client_address(request: Request | WebSocket, trusted: Sequence[Network]) -> str | None:
    """The caller's IP address: the peer, or, when the peer is a trusted proxy (the router),
    the right-most X-Forwarded-For entry that is not one. Reading stops at an entry that is
    not an IP address: it and everything left of it were written by someone untrusted, so
    the last trusted hop read is the answer."""
    peer = ip_address(request.client.host) if request.client else None
    if peer is None or not within(peer, trusted):
        return peer
    header = request.headers.get("x-forwarded-for", "")
    client = peer
    for entry in reversed([item for item in header.split(",") if item.strip()]):
        address = ip_address(entry)
        if address is None:
            break
        client = address
        if not within(address, trusted):
            break
    return client


async def authenticate(
    verifier: TokenVerifier, authorization: str | None
) -> tuple[Principal | None, Unauthenticated | None]:
    if not authorization:
        return None, None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None, Unauthenticated("The Authorization header must be 'Bearer <token>'.")
    try:
        return await verifier.verify(token.strip()), None
    except Unauthenticated as error:
        return None, error
