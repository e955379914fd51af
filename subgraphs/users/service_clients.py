"""Services' own credentials traded for short-lived access tokens: the OAuth 2
client-credentials grant (RFC 6749 section 4.4), answered at ``POST /oauth/token``.

Each service (common/auth/principal.py, SERVICE_CLIENT_SCOPES) has a client id (its name)
and a secret only it is given; this subgraph keeps the secret's SHA-256 and compares digests
in constant time. The token carries the service's scopes (all of them, or the ones it asks
for), never a role: no service acts as an administrator.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote_plus

from common.auth.principal import SERVICE_CLIENT_SCOPES
from common.auth.tokens import TokenIssuer
from common.settings import Settings

SERVICE_TOKEN_TTL = 300  # seconds; callers renew shortly before (common/auth/service_identity.py)
MAX_REQUEST_BYTES = 4096
NO_CLIENT = hashlib.sha256(b"no such client").digest()


class OAuthError(Exception):
    """An RFC 6749 section 5.2 error: its code, a description, and the HTTP status."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status


@dataclass(frozen=True, slots=True)
class ServiceToken:
    access_token: str
    expires_in: int
    scope: str


@dataclass(frozen=True, slots=True)
class TokenRequest:
    grant_type: str
    client_id: str
    client_secret: str
    scope: str | None


def token_request(authorization: str | None, body: bytes) -> TokenRequest:
    """The form-encoded request, the client authenticated by HTTP Basic (RFC 6749 2.3.1:
    id and secret form-encoded, then base64) or by ``client_id`` and ``client_secret`` in
    the body, not both."""
    if len(body) > MAX_REQUEST_BYTES:
        raise OAuthError("invalid_request", "The request is too large.")
    try:
        form = parse_qs(body.decode(), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        raise OAuthError("invalid_request", "The request body is not UTF-8.") from None
    if any(len(values) > 1 for values in form.values()):
        raise OAuthError("invalid_request", "A parameter is given more than once.")
    fields = {name: values[0] for name, values in form.items()}
    grant_type = fields.get("grant_type", "")
    if not grant_type:
        raise OAuthError("invalid_request", "grant_type is missing.")
    scheme, _, credentials = (authorization or "").partition(" ")
    if authorization and scheme.lower() == "basic":
        if "client_secret" in fields:
            raise OAuthError("invalid_request", "Authenticate the client one way, not two.")
        client_id, secret = _basic(credentials.strip())
    elif authorization:
        raise OAuthError("invalid_client", "Authenticate the client with HTTP Basic.", 401)
    else:
        client_id, secret = fields.get("client_id", ""), fields.get("client_secret", "")
    if not client_id or not secret:
        raise OAuthError("invalid_client", "The client did not authenticate.", 401)
    return TokenRequest(grant_type, client_id, secret, fields.get("scope"))


def _basic(credentials: str) -> tuple[str, str]:
    try:
        decoded = base64.b64decode(credentials, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise OAuthError("invalid_client", "The Basic credentials are malformed.", 401) from None
    client_id, colon, secret = decoded.partition(":")
    if not colon:
        raise OAuthError("invalid_client", "The Basic credentials are malformed.", 401)
    return unquote_plus(client_id), unquote_plus(secret)


class ServiceClients:
    def __init__(self, settings: Settings, issuer: TokenIssuer) -> None:
        self._digests = {
            client: settings.client_secret_sha256(client) for client in SERVICE_CLIENT_SCOPES
        }
        self._issuer = issuer

    def grant(self, request: TokenRequest) -> ServiceToken:
        if request.grant_type != "client_credentials":
            raise OAuthError(
                "unsupported_grant_type", "Only the client_credentials grant is supported."
            )
        client = self._authenticated(request.client_id, request.client_secret)
        allowed = SERVICE_CLIENT_SCOPES[client]
        wanted = allowed if request.scope is None else frozenset(request.scope.split())
        if not wanted or not wanted <= allowed:
            beyond = " ".join(sorted(wanted - allowed)) or "(none)"
            raise OAuthError("invalid_scope", f"Scopes not granted to this client: {beyond}.")
        return ServiceToken(
            access_token=self._issuer.issue_service(client, wanted, SERVICE_TOKEN_TTL),
            expires_in=SERVICE_TOKEN_TTL,
            scope=" ".join(sorted(wanted)),
        )

    def _authenticated(self, client_id: str, secret: str) -> str:
        """The client, if the secret is its own; an unknown client costs the same."""
        expected = self._digests.get(client_id, NO_CLIENT)
        given = hashlib.sha256(secret.encode()).digest()
        if not hmac.compare_digest(expected, given) or client_id not in self._digests:
            raise OAuthError("invalid_client", "Unknown client or wrong secret.", 401)
        return client_id
