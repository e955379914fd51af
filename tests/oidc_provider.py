"""A local OpenID Connect provider for tests, assembled from Authlib's server components.

A stand-in for a third party is allowed only if it speaks the real protocol, so nothing here
decides a protocol question itself: Authlib's `AuthorizationServer`, `AuthorizationCodeGrant`,
`OpenIDCode` and `CodeChallenge` validate requests, issue codes and sign ID tokens. This module
adds what Authlib leaves to a framework integration (a Starlette adapter; Authlib ships only
Flask and Django ones), in-memory storage, and `Misbehaviour`: switches that make the provider
lie in one specific way, so a relying party's tests can prove it refuses each lie.

The end user is authenticated by the standard `login_hint` parameter instead of a login page.
"""

from __future__ import annotations

import json
import secrets
import time
from collections import defaultdict
from dataclasses import dataclass
from functools import cached_property
from typing import Any, cast
from urllib.parse import parse_qsl

from authlib.oauth2.rfc6749 import (
    AuthorizationServer,
    ClientMixin,
    InvalidRequestError,
    JsonPayload,
    JsonRequest,
    OAuth2Error,
    OAuth2Payload,
    OAuth2Request,
    list_to_scope,
    scope_to_list,
)
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import AuthorizationCodeMixin, OpenIDCode, UserInfo
from authlib.oidc.discovery import OpenIDProviderMetadata
from joserfc.jwk import RSAKey
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

SCOPES = ("openid", "email", "profile")
SIGNING_ALGORITHM = "RS256"
CODE_LIFETIME_SECONDS = 60.0
ACCESS_TOKEN_LIFETIME_SECONDS = 3600
ID_TOKEN_LIFETIME_SECONDS = 3600
TOKEN_ENDPOINT_AUTH_METHODS = ("client_secret_basic", "client_secret_post")

Fields = list[tuple[str, str]]


@dataclass
class ProviderUser:
    subject: str
    email: str | None
    email_verified: bool
    name: str


@dataclass
class Misbehaviour:
    """Ways to lie, all off by default; a test turns on one to prove the relying party notices."""

    id_token_nonce: str | None = None  # this nonce instead of the requested one
    id_token_audience: str | None = None  # "aud" is [this] instead of [client_id]
    id_token_issuer: str | None = None  # "iss" override
    id_token_expired: bool = False  # exp an hour ago, iat and auth_time two hours ago
    foreign_signing_key: bool = False  # signed by a key missing from the JWKS, under the same kid
    discovery_issuer: str | None = None  # the discovery document names another issuer


@dataclass(frozen=True)
class _Received:
    """An HTTP request read to its end: Authlib's server is synchronous and cannot await a body."""

    method: str
    url: str
    headers: Headers
    query: Fields
    form: Fields


def _first_values(fields: Fields) -> dict[str, str]:
    """The first value of each name, as a framework's `request.args.get` would return it."""
    values: dict[str, str] = {}
    for name, value in fields:
        values.setdefault(name, value)
    return values


async def _receive(request: Request) -> _Received:
    form: Fields = []
    if request.method == "POST":
        # Parsed by hand: this is all the token endpoint accepts, and it spares python-multipart.
        form = parse_qsl((await request.body()).decode(), keep_blank_values=True)
    return _Received(
        request.method, str(request.url), request.headers, request.query_params.multi_items(), form
    )


# --- The Starlette adapter: what Authlib's Flask integration does for Flask. ---


class _Payload(OAuth2Payload):  # type: ignore[misc]
    def __init__(self, fields: Fields) -> None:
        self._fields = fields

    @property
    def data(self) -> dict[str, str]:
        return _first_values(self._fields)

    @cached_property
    def datalist(self) -> defaultdict[str, list[str]]:
        values: defaultdict[str, list[str]] = defaultdict(list)
        for name, value in self._fields:
            values[name].append(value)
        return values


class _Request(OAuth2Request):  # type: ignore[misc]
    def __init__(self, received: _Received) -> None:
        super().__init__(method=received.method, uri=received.url, headers=received.headers)
        self._received = received
        self.payload = _Payload(received.query + received.form)

    @property
    def args(self) -> dict[str, str]:
        return _first_values(self._received.query)

    @property
    def form(self) -> dict[str, str]:
        return _first_values(self._received.form)


class _JsonPayload(JsonPayload):  # type: ignore[misc]
    def __init__(self, received: _Received) -> None:
        self._received = received

    @property
    def data(self) -> dict[str, str]:
        return _first_values(self._received.form)


class _JsonRequest(JsonRequest):  # type: ignore[misc]
    def __init__(self, received: _Received) -> None:
        super().__init__(received.method, received.url, received.headers)
        self.payload = _JsonPayload(received)


class _Server(AuthorizationServer):  # type: ignore[misc]
    def __init__(self, provider: OpenIDProvider) -> None:
        super().__init__(scopes_supported=list(SCOPES))
        self.provider = provider
        self.register_token_generator(
            "default",
            BearerTokenGenerator(
                lambda **_: secrets.token_urlsafe(32),
                expires_generator=ACCESS_TOKEN_LIFETIME_SECONDS,
            ),
        )
        self.register_grant(
            _CodeGrant, [_RequiredS256Challenge(required=True), _OpenIDCode(provider)]
        )

    def query_client(self, client_id: str) -> _Client | None:
        """Built on each call, so a test that changes the provider's secret is obeyed at once."""
        provider = self.provider
        if client_id != provider.client_id:
            return None
        return _Client(provider.client_id, provider.client_secret, provider._redirect_uris)

    def save_token(self, token: dict[str, Any], request: _Request) -> None:
        expires_at = time.time() + ACCESS_TOKEN_LIFETIME_SECONDS
        self.provider._access_tokens[token["access_token"]] = _AccessToken(
            request.user, token.get("scope", ""), expires_at
        )

    def create_oauth2_request(self, request: _Received | _Request) -> _Request:
        return request if isinstance(request, _Request) else _Request(request)

    def create_json_request(self, request: _Received) -> _JsonRequest:
        return _JsonRequest(request)

    def handle_response(
        self, status: int, body: dict[str, Any] | str, headers: list[tuple[str, str]]
    ) -> Response:
        content = json.dumps(body) if isinstance(body, dict) else body
        return Response(content, status_code=status, headers=dict(headers))

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        """Flask sends blinker signals here; nothing listens in tests."""


# --- Models and grants: Authlib's extension points, over dicts in the provider. ---


@dataclass
class _Client(ClientMixin):  # type: ignore[misc]
    client_id: str
    client_secret: str
    redirect_uris: list[str]

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> None:
        """None, so a request without redirect_uri fails: OpenID Connect requires it."""

    def get_allowed_scope(self, scope: str | None) -> str | None:
        """None (invalid_scope) unless openid is asked for: this provider only does OIDC."""
        requested = scope_to_list(scope) or []
        if "openid" not in requested:
            return None
        return str(list_to_scope([s for s in requested if s in SCOPES]))

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return secrets.compare_digest(self.client_secret, client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in TOKEN_ENDPOINT_AUTH_METHODS

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


@dataclass
class _AuthorizationCode(AuthorizationCodeMixin):  # type: ignore[misc]
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    subject: str
    nonce: str | None
    auth_time: int
    code_challenge: str
    code_challenge_method: str
    expires_at: float

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time


@dataclass
class _AccessToken:
    user: ProviderUser
    scope: str
    expires_at: float


class _CodeGrant(AuthorizationCodeGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = list(TOKEN_ENDPOINT_AUTH_METHODS)

    @property
    def provider(self) -> OpenIDProvider:
        provider: OpenIDProvider = self.server.provider
        return provider

    def save_authorization_code(self, code: str, request: _Request) -> None:
        data = request.payload.data
        if nonce := data.get("nonce"):
            self.provider._nonces_seen.add(nonce)
        self.provider._codes[code] = _AuthorizationCode(
            code=code,
            client_id=request.client.client_id,
            redirect_uri=request.payload.redirect_uri,
            scope=request.scope,
            subject=request.user.subject,
            nonce=data.get("nonce"),
            auth_time=int(time.time()),
            code_challenge=data["code_challenge"],
            code_challenge_method=data["code_challenge_method"],
            expires_at=time.time() + self.provider.code_lifetime,
        )

    def query_authorization_code(self, code: str, client: _Client) -> _AuthorizationCode | None:
        """Redeeming consumes the code, even if the redemption then fails (a wrong verifier)."""
        found = self.provider._codes.pop(code, None)
        if found is None or found.client_id != client.client_id or found.expires_at <= time.time():
            return None
        return found

    def delete_authorization_code(self, authorization_code: _AuthorizationCode) -> None:
        self.provider._codes.pop(authorization_code.code, None)

    def authenticate_user(self, authorization_code: _AuthorizationCode) -> ProviderUser | None:
        return self.provider._users.get(authorization_code.subject)


class _RequiredS256Challenge(CodeChallenge):  # type: ignore[misc]
    """PKCE with S256 on every request.

    Authlib's `required=True` only makes public clients send a verifier; a confidential client
    may still skip PKCE altogether, and "plain" is accepted. Our relying party must always use
    S256, so a request without it is refused at the authorization endpoint.
    """

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant: _CodeGrant, redirect_uri: str | None) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("PKCE is required: missing 'code_challenge'.")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("PKCE 'code_challenge_method' must be S256.")
        super().validate_code_challenge(grant, redirect_uri)


class _OpenIDCode(OpenIDCode):  # type: ignore[misc]
    """ID tokens for the code flow; where `Misbehaviour` bends the claims and the key."""

    def __init__(self, provider: OpenIDProvider) -> None:
        super().__init__(require_nonce=True)
        self.provider = provider

    def exists_nonce(self, nonce: str, request: _Request) -> bool:
        return nonce in self.provider._nonces_seen

    def generate_user_info(self, user: ProviderUser, scope: str) -> UserInfo:
        return self.provider._user_info(user, scope)

    def resolve_client_private_key(self, client: _Client) -> RSAKey:
        if self.provider.misbehaviour.foreign_signing_key:
            return self.provider._foreign_key
        return self.provider._signing_key

    def get_client_algorithm(self, client: _Client) -> str:
        return SIGNING_ALGORITHM

    def get_encode_header(self, client: _Client) -> dict[str, str]:
        return {"alg": SIGNING_ALGORITHM, "typ": "JWT", "kid": self.provider._kid}

    def get_client_claims(self, client: _Client) -> dict[str, Any]:
        lie = self.provider.misbehaviour
        now = int(time.time())
        issued = now - 2 * ID_TOKEN_LIFETIME_SECONDS if lie.id_token_expired else now
        return {
            "iss": lie.id_token_issuer or self.provider.issuer,
            "aud": [lie.id_token_audience or client.client_id],
            "iat": issued,
            "exp": issued + ID_TOKEN_LIFETIME_SECONDS,
        }

    def get_authorization_code_claims(
        self, authorization_code: _AuthorizationCode
    ) -> dict[str, Any]:
        claims: dict[str, Any] = super().get_authorization_code_claims(authorization_code)
        lie = self.provider.misbehaviour
        if lie.id_token_nonce is not None:
            claims["nonce"] = lie.id_token_nonce
        if lie.id_token_expired:
            claims["auth_time"] = int(time.time()) - 2 * ID_TOKEN_LIFETIME_SECONDS
        return claims


# --- The provider. ---


class OpenIDProvider:
    """One issuer with one registered confidential client, its users, and all state in memory."""

    code_lifetime: float = CODE_LIFETIME_SECONDS

    def __init__(
        self,
        issuer: str,
        client_id: str,
        client_secret: str,
        redirect_uris: list[str],
        *,
        signing_key: RSAKey | None = None,
    ) -> None:
        """`signing_key` lets a test module generate its RSA key once (about 50 ms each)."""
        self.issuer = issuer
        self.client_id = client_id
        self.client_secret = client_secret
        self.misbehaviour = Misbehaviour()
        self.token_requests: list[dict[str, str]] = []
        self._signing_key = signing_key or RSAKey.generate_key(2048, auto_kid=True)
        self._signing_key.ensure_kid()
        self._kid: str = self._signing_key.kid or ""
        self._redirect_uris = list(redirect_uris)
        self._users: dict[str, ProviderUser] = {}
        self._codes: dict[str, _AuthorizationCode] = {}
        self._access_tokens: dict[str, _AccessToken] = {}
        self._nonces_seen: set[str] = set()
        self._server = _Server(self)
        self._app = Starlette(
            routes=[
                Route("/.well-known/openid-configuration", self._discovery, methods=["GET"]),
                Route("/authorize", self._authorize, methods=["GET", "POST"]),
                Route("/token", self._token, methods=["POST"]),
                Route("/jwks", self._jwks, methods=["GET"]),
                Route("/userinfo", self._userinfo, methods=["GET", "POST"]),
            ]
        )

    def add_user(self, user: ProviderUser) -> None:
        self._users[user.subject] = user

    @property
    def app(self) -> Starlette:
        return self._app

    @cached_property
    def _foreign_key(self) -> RSAKey:
        """Generated on first use only: most tests never sign with it."""
        return RSAKey.generate_key(2048, parameters={"kid": self._kid})

    def _endpoint(self, path: str) -> str:
        return self.issuer.rstrip("/") + path

    def _metadata(self) -> dict[str, Any]:
        metadata = OpenIDProviderMetadata(
            issuer=self.misbehaviour.discovery_issuer or self.issuer,
            authorization_endpoint=self._endpoint("/authorize"),
            token_endpoint=self._endpoint("/token"),
            jwks_uri=self._endpoint("/jwks"),
            userinfo_endpoint=self._endpoint("/userinfo"),
            response_types_supported=["code"],
            response_modes_supported=["query"],
            grant_types_supported=["authorization_code"],
            subject_types_supported=["public"],
            id_token_signing_alg_values_supported=[SIGNING_ALGORITHM],
            scopes_supported=list(SCOPES),
            token_endpoint_auth_methods_supported=list(TOKEN_ENDPOINT_AUTH_METHODS),
            code_challenge_methods_supported=["S256"],
            claims_supported=[
                *("iss", "sub", "aud", "iat", "exp", "auth_time", "nonce", "at_hash"),
                *("email", "email_verified", "name"),
            ],
        )
        metadata.validate()
        return dict(metadata)

    def _user_by_hint(self, login_hint: str | None) -> ProviderUser | None:
        if not login_hint:
            return None
        if login_hint in self._users:
            return self._users[login_hint]
        wanted = login_hint.casefold()
        return next(
            (u for u in self._users.values() if u.email and u.email.casefold() == wanted), None
        )

    def _user_info(self, user: ProviderUser, scope: str) -> UserInfo:
        claims: dict[str, Any] = {"sub": user.subject, "name": user.name}
        if user.email is not None:
            claims |= {"email": user.email, "email_verified": user.email_verified}
        return UserInfo(claims).filter(scope)

    async def _discovery(self, request: Request) -> Response:
        return JSONResponse(self._metadata())

    async def _jwks(self, request: Request) -> Response:
        public = {
            **self._signing_key.as_dict(private=False),
            "use": "sig",
            "alg": SIGNING_ALGORITHM,
        }
        return JSONResponse({"keys": [public]})

    async def _authorize(self, request: Request) -> Response:
        """Validate before deciding about the user, as Authlib's consent flow does.

        So a bad client or redirect_uri is a 400 and never a redirect, and only a valid request
        learns whether login_hint named a user (a code) or not (access_denied).
        """
        received = await _receive(request)
        user = self._user_by_hint(_first_values(received.query + received.form).get("login_hint"))
        try:
            grant = self._server.get_consent_grant(received, end_user=user)
        except OAuth2Error as error:
            return cast(Response, self._server.handle_error_response(None, error))
        return cast(
            Response,
            self._server.create_authorization_response(grant.request, grant_user=user, grant=grant),
        )

    async def _token(self, request: Request) -> Response:
        received = await _receive(request)
        self.token_requests.append(_first_values(received.form))
        return cast(Response, self._server.create_token_response(received))

    async def _userinfo(self, request: Request) -> Response:
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        token = self._access_tokens.get(value) if scheme.lower() == "bearer" else None
        if token is None or token.expires_at <= time.time():
            challenge = 'Bearer error="invalid_token"'
            return Response(status_code=401, headers={"WWW-Authenticate": challenge})
        return JSONResponse(dict(self._user_info(token.user, token.scope)))
