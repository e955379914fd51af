"""Sign-in with external OpenID Connect providers: authorization code flow with PKCE.

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
import uuid
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import httpx
from authlib.integrations.base_client import OAuthError
from joserfc.errors import JoseError
from redis.asyncio import Redis

from common.errors import BadUserInput, Forbidden, Unauthenticated, Unavailable
from common.settings import SignInProvider
from common.validation import url
from subgraphs.users.passwords import digest

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


@dataclass(frozen=True, slots=True)
class SignInStart:
    authorization_url: str
    state: str
    expires_in: int


class ExternalSignIn:
    """The configured providers, and the sign-ins under way with them."""

    def __init__(
        self, providers: Sequence[SignInProvider], redirect_uris: Sequence[str], redis: Redis
    ) -> None:
        self._providers = {provider.name: provider for provider in providers}
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
    def providers(self) -> list[SignInProvider]:
        return list(self._providers.values())

    def links_by_email(self, provider_name: str) -> bool:
        """Whether the provider's verified email may link a first sign-in to an account."""
        provider = self._providers.get(provider_name)
        return provider is not None and provider.link_by_email

    async def start(
        self, provider_name: str, redirect_uri: str, *, link_to: uuid.UUID | None = None
    ) -> SignInStart:
        """A sign-in under way; with `link_to`, one only that user can finish, to link."""
        provider = self._provider(provider_name)
        # checked as every URL is (http only to loopback), then matched exactly as written
        url(redirect_uri, field="redirectUri", loopback_http=True)
        if redirect_uri not in self._redirect_uris:
            raise BadUserInput(
                "redirectUri is not one of the pages this platform may send people back to "
                "(LMS_OIDC_REDIRECT_URIS).",
                field="redirectUri",
            )
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

    def _provider(self, name: str) -> SignInProvider:
        provider = self._providers.get(name)
        if provider is None:
            known = ", ".join(sorted(self._providers)) or "none is configured"
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
