"""Sign-in with external OpenID Connect providers: authorization code flow with PKCE (and
with SAML 2.0 identity providers, the same three steps: saml_sign_in.py).

For a frontend it is three steps:

1. ``startExternalSignIn(provider, redirectUri)`` answers an ``authorizationUrl`` and a
   ``state``. The frontend keeps the state and sends the browser to the URL.
2. The provider signs the person in and sends the browser back to
   ``redirectUri?code=…&state=…``. The frontend checks that the state is the one it kept
   (so nobody can slip their own sign-in into someone else's browser), then calls
3. ``completeExternalSignIn(state, code)`` for tokens, as ``login`` answers them (or
   ``MFA_REQUIRED`` when the account has a second factor).

Linking a provider to an account someone is signed in to is the same three steps with
``startExternalIdentityLink`` and ``linkExternalIdentity``: the sign-in under way then
belongs to that account, and only that account, signed in, can finish it.

Between steps 1 and 3 the server keeps, in Redis for ten minutes and for one use, the
provider, the redirect URI, the PKCE code verifier, the nonce, and the account a link is
for. The verifier never leaves
the server, so a code intercepted on its way back is worth nothing to whoever took it.

Providers are found by discovery from their issuer (``/.well-known/openid-configuration``),
whose ``issuer`` must be the configured one. Authlib (its Starlette client) builds the
authorization URL, trades the code at the token endpoint and verifies the ID token: signed
by a key of the provider's JWKS (refetched on an unknown ``kid``) with an asymmetric
algorithm, from that issuer, for our client id, unexpired, carrying our nonce.
"""

from __future__ import annotations

import json
import secrets
import uuid
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlencode

import httpx
from authlib.integrations.base_client import OAuthError
from joserfc.errors import JoseError
from redis.asyncio import Redis

from common.errors import BadUserInput, Forbidden, Unauthenticated, Unavailable
from common.saml_settings import SamlIdentityProvider
from common.settings import SignInProvider
from common.validation import url
from subgraphs.users.passwords import digest
from subgraphs.users.saml_sign_in import SamlSignIn

with warnings.catch_warnings():
    # Authlib would rather run on the httpx2 fork and says so when it finds httpx, which is
    # what this project uses everywhere (and what its exceptions below are).
    warnings.filterwarnings("ignore", message="The httpx module is deprecated")
    from authlib.integrations.starlette_client import OAuth

PENDING_SECONDS: Final = 600
SCOPE: Final = "openid email profile"
# What an ID token may be signed with: a public-key algorithm, so that a provider's
# published key can never double as a shared secret (RFC 8725, section 2.1).
ASYMMETRIC_ALGORITHMS: Final = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
MAX_CODE: Final = 2048
MAX_STATE: Final = 256
SIGN_IN_UNKNOWN: Final = (
    "This sign-in is unknown, expired (10 minutes) or already completed; start it again."
)
STARTED_TO_LINK: Final = (
    "This sign-in was started to link a provider to an account; it is spent: start again."
)
NOT_STARTED_TO_LINK: Final = (
    "This sign-in was not started with startExternalIdentityLink; it is spent: start again."
)
ANOTHER_ACCOUNTS_LINK: Final = "This link was started from another account; it is spent."


@dataclass(frozen=True, slots=True)
class ExternalIdentity:
    """Who an ID token says signed in, at which provider."""

    provider: str
    issuer: str
    subject: str
    email: str | None
    email_verified: bool
    name: str | None
    protocol: str = "oidc"  # or "saml"
    roles: tuple[str, ...] = ()  # what a SAML IdP's attributes give a new account


@dataclass(frozen=True, slots=True)
class SignInStart:
    authorization_url: str
    state: str
    expires_in: int


class ExternalSignIn:
    """The configured providers, and the sign-ins under way with them."""

    def __init__(
        self,
        providers: Sequence[SignInProvider],
        redirect_uris: Sequence[str],
        redis: Redis,
        saml: SamlSignIn,
    ) -> None:
        self._providers = {provider.name: provider for provider in providers}
        self.saml = saml
        self._redirect_uris = frozenset(redirect_uris)
        self._redis = redis
        self._checked: set[str] = set()  # providers whose discovery document passed
        self._oauth = OAuth()
        for provider in providers:
            self._oauth.register(
                provider.name,
                client_id=provider.client_id,
                client_secret=provider.client_secret or None,
                server_metadata_url=f"{provider.issuer}/.well-known/openid-configuration",
                client_kwargs={
                    "scope": SCOPE,
                    "code_challenge_method": "S256",
                    # a public client (no secret) proves itself by PKCE alone
                    "token_endpoint_auth_method": (
                        "client_secret_basic" if provider.client_secret else "none"
                    ),
                    "timeout": 10.0,
                },
            )

    @property
    def providers(self) -> list[SignInProvider | SamlIdentityProvider]:
        return [*self._providers.values(), *self.saml.providers]

    def links_by_email(self, provider_name: str) -> bool:
        """Whether the provider's verified email may link a first sign-in to an account."""
        provider = self._providers.get(provider_name) or self.saml.get(provider_name)
        return provider is not None and provider.link_by_email

    async def start(
        self, provider_name: str, redirect_uri: str, *, link_to: uuid.UUID | None = None
    ) -> SignInStart:
        """A sign-in under way; with `link_to`, one only that user can finish, to link."""
        idp = self.saml.get(provider_name)
        if idp is not None:
            return await self._start_saml(idp, redirect_uri, link_to)
        provider = self._provider(provider_name)
        self._check_redirect(redirect_uri)
        client = await self._client(provider)
        try:
            authorization = await client.create_authorization_url(redirect_uri)
        except (httpx.HTTPError, OAuthError, RuntimeError, ValueError) as error:
            raise _unavailable(provider) from error
        pending = {
            "provider": provider.name,
            "redirect_uri": redirect_uri,
            "code_verifier": authorization["code_verifier"],
            "nonce": authorization["nonce"],
            "link_to": None if link_to is None else str(link_to),
        }
        state: str = authorization["state"]
        await self._redis.set(_pending_key(state), json.dumps(pending), ex=PENDING_SECONDS)
        return SignInStart(authorization["url"], state, PENDING_SECONDS)

    def _check_redirect(self, redirect_uri: str) -> None:
        # checked as every URL is (http only to loopback), then matched exactly as written
        url(redirect_uri, field="redirectUri", loopback_http=True)
        if redirect_uri not in self._redirect_uris:
            raise BadUserInput(
                "redirectUri is not one of the pages this platform may send people back to "
                "(LMS_OIDC_REDIRECT_URIS).",
                field="redirectUri",
            )

    async def _start_saml(
        self, idp: SamlIdentityProvider, redirect_uri: str, link_to: uuid.UUID | None
    ) -> SignInStart:
        self._check_redirect(redirect_uri)
        state = secrets.token_urlsafe(32)  # the RelayState
        request = await self.saml.authn_request(idp, state)
        pending = {
            "protocol": "saml",
            "provider": idp.name,
            "redirect_uri": redirect_uri,
            "request_id": request.request_id,
            "link_to": None if link_to is None else str(link_to),
        }
        await self._redis.set(_pending_key(state), json.dumps(pending), ex=PENDING_SECONDS)
        return SignInStart(request.url, state, PENDING_SECONDS)

    async def received_saml_response(self, relay_state: str, saml_response: str) -> str:
        """Keep an IdP's Response (verified by `finish`) for the sign-in its RelayState names,
        which is spent: where to send the browser, with the state and a one-time code."""
        raw = None
        if relay_state and len(relay_state) <= MAX_STATE:
            raw = await self._redis.getdel(_pending_key(relay_state))
        pending = json.loads(raw) if raw is not None else {}
        if pending.get("protocol") != "saml" or "response" in pending:
            raise Unauthenticated(SIGN_IN_UNKNOWN)
        code = secrets.token_urlsafe(32)
        pending |= {"response": saml_response, "code": digest(code)}
        await self._redis.set(_pending_key(relay_state), json.dumps(pending), ex=PENDING_SECONDS)
        return f"{pending['redirect_uri']}?{urlencode({'state': relay_state, 'code': code})}"

    async def finish(
        self, state: str, code: str, *, link_to: uuid.UUID | None = None
    ) -> ExternalIdentity:
        """The identity the provider vouches for, once: the sign-in is spent either way.
        `link_to` must be the user a link was started for (None: a sign-in)."""
        if not state or len(state) > MAX_STATE:
            raise Unauthenticated(SIGN_IN_UNKNOWN)
        if not code or len(code) > MAX_CODE:
            raise BadUserInput("code must be the code the provider sent back.", field="code")
        raw = await self._redis.getdel(_pending_key(state))
        if raw is None:
            raise Unauthenticated(SIGN_IN_UNKNOWN)
        pending = json.loads(raw)
        _check_purpose(pending.get("link_to"), link_to)
        if pending.get("protocol") == "saml":
            return await self._saml_identity(pending, code)
        provider = self._providers.get(pending["provider"])
        if provider is None:  # configuration changed under a sign-in
            raise Unauthenticated(SIGN_IN_UNKNOWN)
        client = await self._client(provider)
        try:
            token = await client.fetch_access_token(
                redirect_uri=pending["redirect_uri"],
                code=code,
                code_verifier=pending["code_verifier"],
            )
        except OAuthError as refused:
            raise Unauthenticated(
                f"{provider.display_name} refused the sign-in ({refused.error}); start again."
            ) from refused
        except (httpx.HTTPError, ValueError) as error:
            raise _unavailable(provider) from error
        return await self._identity(client, provider, token, pending["nonce"])

    async def _identity(
        self, client: Any, provider: SignInProvider, token: dict[str, Any], nonce: str
    ) -> ExternalIdentity:
        if not isinstance(token.get("id_token"), str):
            raise Unauthenticated(f"{provider.display_name} sent no identity token.")
        options = {
            "iss": {"essential": True, "value": provider.issuer},
            "aud": {"essential": True, "value": provider.client_id},
            "sub": {"essential": True},
        }
        try:
            claims = await client.parse_id_token(token, nonce, claims_options=options, leeway=60)
        except (JoseError, ValueError, KeyError) as error:
            raise Unauthenticated(
                f"The identity token from {provider.display_name} did not verify; start again."
            ) from error
        except httpx.HTTPError as error:
            raise _unavailable(provider) from error
        email = claims.get("email")
        name = claims.get("name")
        return ExternalIdentity(
            provider=provider.name,
            issuer=provider.issuer,
            subject=str(claims["sub"]),
            email=email.strip().lower() if isinstance(email, str) and email.strip() else None,
            email_verified=claims.get("email_verified") is True,
            name=name if isinstance(name, str) else None,
        )

    async def _saml_identity(self, pending: dict[str, Any], code: str) -> ExternalIdentity:
        idp = self.saml.get(pending["provider"])
        if (
            idp is None  # configuration changed under a sign-in
            or "response" not in pending  # the IdP has not answered yet
            or not secrets.compare_digest(pending["code"], digest(code))
        ):
            raise Unauthenticated(SIGN_IN_UNKNOWN)
        said = await self.saml.verify(idp, pending["response"], pending["request_id"])
        return ExternalIdentity(
            provider=idp.name,
            issuer=idp.entity_id,
            subject=said.subject,
            email=said.email,
            # the institution's directory, configured by an administrator, vouches for it
            email_verified=said.email is not None,
            name=said.name,
            protocol="saml",
            roles=said.roles,
        )

    def _provider(self, name: str) -> SignInProvider:
        provider = self._providers.get(name)
        if provider is None:
            names = [*self._providers, *(idp.name for idp in self.saml.providers)]
            known = ", ".join(sorted(names)) or "none is configured"
            raise BadUserInput(f"No sign-in provider {name[:40]!r} ({known}).", field="provider")
        return provider

    async def _client(self, provider: SignInProvider) -> Any:
        """Authlib's client of the provider, its discovery document loaded and checked
        (once: Authlib keeps the document)."""
        client = self._oauth.create_client(provider.name)
        if provider.name in self._checked:
            return client
        try:
            metadata = await client.load_server_metadata()
        except (httpx.HTTPError, ValueError) as error:
            raise _unavailable(provider) from error
        if metadata.get("issuer") != provider.issuer:
            client.server_metadata.clear()  # not remembered: asked again next time
            raise Unavailable(
                f"{provider.display_name}'s discovery document names another issuer; "
                "sign-in with it is refused until that is fixed."
            )
        algorithms = metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
        metadata["id_token_signing_alg_values_supported"] = [
            algorithm for algorithm in algorithms if algorithm in ASYMMETRIC_ALGORITHMS
        ] or ["RS256"]
        self._checked.add(provider.name)
        return client


def _check_purpose(started_for: object, link_to: uuid.UUID | None) -> None:
    if link_to is None:
        if started_for is not None:
            raise Unauthenticated(STARTED_TO_LINK)
    elif started_for is None:
        raise Unauthenticated(NOT_STARTED_TO_LINK)
    elif started_for != str(link_to):
        raise Forbidden(ANOTHER_ACCOUNTS_LINK)


def _pending_key(state: str) -> str:
    return f"lms:users:external-sign-in:{digest(state)}"


def _unavailable(provider: SignInProvider) -> Unavailable:
    return Unavailable(f"{provider.display_name} cannot be reached just now; try again later.")
