"""GraphQL types of sign-in with external OpenID and SAML providers (external_sign_in.py)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from subgraphs.users.external_sign_in import SignInStart
from subgraphs.users.loaders import UsersInfo
from subgraphs.users.models import ExternalIdentityRow


@strawberry.type(description="An external OpenID or SAML provider people can sign in with.")
class SignInProvider:
    name: str = strawberry.field(description="What startExternalSignIn takes as provider.")
    display_name: str = strawberry.field(description="What a sign-in button shows.")


@strawberry.type(description="A sign-in under way: send the browser to authorizationUrl.")
class ExternalSignInStart:
    authorization_url: str = strawberry.field(
        description="The provider's sign-in page, with this sign-in's state, nonce and PKCE "
        "challenge."
    )
    state: str = strawberry.field(
        description="Keep it: the provider sends it back with the code, and it must match "
        "before completeExternalSignIn is called."
    )
    expires_in: int = strawberry.field(description="Seconds left to complete the sign-in.")


def sign_in_start_of(start: SignInStart) -> ExternalSignInStart:
    return ExternalSignInStart(
        authorization_url=start.authorization_url, state=start.state, expires_in=start.expires_in
    )


@strawberry.type(description="An account at an external provider that signs in as this user.")
class LinkedIdentity:
    provider: str
    email: str | None = strawberry.field(description="As the provider last gave it.")
    linked_at: datetime
    last_sign_in_at: datetime | None


def linked_identity_of(row: ExternalIdentityRow) -> LinkedIdentity:
    return LinkedIdentity(
        provider=row.provider,
        email=row.email,
        linked_at=row.linked_at,
        last_sign_in_at=row.last_sign_in_at,
    )


@strawberry.input
class StartExternalSignInInput:
    provider: str = strawberry.field(description="A name from signInProviders.")
    redirect_uri: str = strawberry.field(
        description="Where the provider sends the browser back: one of the platform's "
        "allowed frontend pages, exactly."
    )


@strawberry.input
class CompleteExternalSignInInput:
    state: str = strawberry.field(description="The state the provider sent back.")
    code: str = strawberry.field(description="The code the provider sent back.")


@strawberry.input
class UnlinkExternalIdentityInput:
    provider: str


@strawberry.type
class ExternalSignInQueries:
    @strawberry.field(description="The external providers one can sign in with.")
    def sign_in_providers(self, info: UsersInfo) -> list[SignInProvider]:
        return [
            SignInProvider(name=provider.name, display_name=provider.display_name)
            for provider in info.context.service.users.external.providers
        ]
