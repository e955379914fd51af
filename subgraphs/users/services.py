"""The users subgraph's service layer, built once at startup from the runtime."""

from __future__ import annotations

import time
from dataclasses import dataclass

from common.auth import TokenIssuer
from common.auth.account_guesses import AccountGuesses
from common.auth.keys import platform_signing_key
from common.auth.quota import Quota
from common.auth.revocations import TokenRevoker
from common.auth.throttle import Rule, Throttle
from common.clock import Clock
from common.graphql.app import ServiceRuntime
from subgraphs.users.account_mail import Postman
from subgraphs.users.data_exports import DataExports
from subgraphs.users.email_links import EmailLinks
from subgraphs.users.external_sign_in import ExternalSignIn
from subgraphs.users.mfa import Factors
from subgraphs.users.revocations import DurableRevocations
from subgraphs.users.saml_sign_in import SamlSignIn
from subgraphs.users.sealing import SecretBox
from subgraphs.users.service import UsersService
from subgraphs.users.service_clients import ServiceClients

HOUR, DAY = 3600, 24 * 3600


@dataclass(frozen=True, slots=True)
class UsersServices:
    users: UsersService  # accounts and sign-in, with its MFA, API keys and external sign-in
    clients: ServiceClients  # the other services, trading their credentials for tokens
    exports: DataExports  # personal data exports (GDPR art. 15/20)


def build_services(runtime: ServiceRuntime, clock: Clock = time.time) -> UsersServices:
    """The services, reading one-time codes and sign-in lockouts on `clock`."""
    settings = runtime.settings
    issuer = TokenIssuer(
        platform_signing_key(settings),
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        ttl_seconds=settings.access_token_ttl,
    )
    per_account = Rule("account", settings.sign_in_failures_per_account, settings.sign_in_lockout)
    per_client = Rule("client", settings.sign_in_failures_per_account, settings.sign_in_lockout)
    per_address = Rule("address", settings.sign_in_failures_per_address, settings.sign_in_lockout)
    return UsersServices(
        clients=ServiceClients(settings, issuer),
        users=UsersService(
            runtime.sessions,
            issuer,
            refresh_ttl_seconds=settings.refresh_token_ttl,
            # wrong passwords: locked out per (account, client address) and per address; the
            # account as a whole only slowed down, and never for the devices it signed in from
            throttle=Throttle(runtime.redis, per_client, per_address, clock=clock),
            guesses=AccountGuesses(
                runtime.redis, settings.sign_in_guesses_per_account_hour, clock=clock
            ),
            # wrong one-time codes: the same limits as passwords, counted apart, by user id
            mfa_throttle=Throttle(
                runtime.redis,
                per_account,
                per_address,
                name="mfa",
                attempts="verification codes",
                clock=clock,
            ),
            # wrong current passwords in changePassword, by user id: a stolen session must not
            # become a password oracle
            password_throttle=Throttle(
                runtime.redis,
                per_account,
                per_address,
                name="current-password",
                attempts="current-password checks",
                clock=clock,
            ),
            # refused API keys, per client address only (a key names no account)
            api_key_throttle=Throttle(
                runtime.redis,
                per_account,
                Rule("address", settings.api_key_failures_per_address, settings.sign_in_lockout),
                name="api-key",
                attempts="API keys",
                clock=clock,
            ),
            registrations=Quota(
                runtime.redis, "registrations", settings.registrations_per_address_hour, HOUR
            ),
            welcomes=Quota(runtime.redis, "welcomes", settings.welcomes_per_email_day, DAY),
            factors=Factors(SecretBox.of(settings), clock),
            external=ExternalSignIn(
                settings.sign_in_providers,
                settings.sign_in_redirect_uris,
                runtime.redis,
                SamlSignIn(settings.saml, settings.clock_skew, runtime.redis),
            ),
            tokens=DurableRevocations(
                runtime.sessions,
                TokenRevoker(runtime.redis, settings.access_token_ttl + settings.clock_skew),
            ),
            emails=EmailLinks(
                runtime.sessions,
                settings,
                Postman(settings),
                verification_mails=Quota(
                    runtime.redis,
                    "verification-mails",
                    settings.verification_emails_per_account_hour,
                    HOUR,
                ),
                resets_per_email=Quota(
                    runtime.redis, "resets", settings.password_resets_per_email_hour, HOUR
                ),
                resets_per_address=Quota(
                    runtime.redis,
                    "reset-addresses",
                    settings.password_resets_per_address_hour,
                    HOUR,
                ),
                # unknown, spent, expired and stale links, per client address
                refused=Throttle(
                    runtime.redis,
                    per_account,
                    per_address,
                    name="email-link",
                    attempts="e-mail links",
                    clock=clock,
                ),
            ),
        ),
        exports=DataExports(runtime.sessions, settings),
    )
