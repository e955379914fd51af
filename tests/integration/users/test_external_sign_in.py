"""Sign-in with an external OpenID provider, through the router, against a real provider.

The provider (tests/oidc_provider.py) is built from Authlib's server components and speaks
OpenID Connect over HTTP on loopback: discovery, authorization endpoint with PKCE, token
endpoint with client authentication, signed ID tokens, JWKS. A test plays the frontend (the
GraphQL calls) and the browser (following the provider's redirect).
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from common.settings import Settings
from tests.accounts import AUTH_FIELDS, PASSWORD, Account, account_with_roles, login
from tests.identity_providers import CLIENT_ID, REDIRECT_URI, browse
from tests.integration.users.second_factor import enable_mfa, verify
from tests.oidc_provider import Misbehaviour, OpenIDProvider, ProviderUser
from tests.support import GraphQLClient, error_codes

PROVIDERS = "{ signInProviders { name displayName } }"
START = """
mutation($input: StartExternalSignInInput!) {
  startExternalSignIn(input: $input) { authorizationUrl state expiresIn }
}
"""
COMPLETE = f"""
mutation($input: CompleteExternalSignInInput!) {{
  completeExternalSignIn(input: $input) {{ {AUTH_FIELDS} }}
}}
"""
START_LINK = """
mutation($input: StartExternalSignInInput!) {
  startExternalIdentityLink(input: $input) { authorizationUrl state expiresIn }
}
"""
LINK = """
mutation($input: CompleteExternalSignInInput!) {
  linkExternalIdentity(input: $input) { user { id linkedIdentities { provider email } } }
}
"""
UNLINK = """
mutation($provider: String!) {
  unlinkExternalIdentity(input: {provider: $provider}) { user { id linkedIdentities { provider } } }
}
"""
ME = "{ me { id email name roles linkedIdentities { provider email linkedAt lastSignInAt } } }"
EVENTS = """
query($userId: ID!) {
  securityEvents(filter: {userId: $userId}) { edges { node { kind details } } }
}
"""
FIND = "query($search: String!) { users(filter: {search: $search}) { totalCount } }"


def person(*, verified: bool = True, email: str | None = "") -> ProviderUser:
    """Someone with an account at the provider (a fresh email unless one is given)."""
    address = f"ext-{uuid.uuid4().hex[:12]}@example.org" if email == "" else email
    return ProviderUser(
        subject=f"sub-{uuid.uuid4().hex}",
        email=address,
        email_verified=verified,
        name="Ada External",
    )


async def start(
    users: GraphQLClient, provider: str = "test-idp", redirect_uri: str = REDIRECT_URI
) -> dict[str, Any]:
    return await users.execute(
        START, {"input": {"provider": provider, "redirectUri": redirect_uri}}
    )


async def complete(users: GraphQLClient, state: str, code: str) -> dict[str, Any]:
    return await users.execute(COMPLETE, {"input": {"state": state, "code": code}})


async def back_from_provider(
    users: GraphQLClient,
    http: httpx.AsyncClient,
    provider: OpenIDProvider,
    who: ProviderUser,
    *,
    name: str = "test-idp",
    linking: Account | None = None,
) -> tuple[str, str]:
    """Start a sign-in (with `linking`: a link to that account, started signed in to it)
    and take the browser through the provider: the state and code the frontend gets back."""
    provider.add_user(who)
    body = await users.execute(
        START if linking is None else START_LINK,
        {"input": {"provider": name, "redirectUri": REDIRECT_URI}},
        token=None if linking is None else linking.access_token,
    )
    assert "errors" not in body, body
    [started] = body["data"].values()
    answer = await browse(http, started["authorizationUrl"], who.email or who.subject)
    assert (answer.redirect_uri, answer.error) == (REDIRECT_URI, None)
    assert answer.state == started["state"]  # the frontend's check
    assert answer.state is not None
    assert answer.code is not None
    return answer.state, answer.code


async def sign_in(
    users: GraphQLClient,
    http: httpx.AsyncClient,
    provider: OpenIDProvider,
    who: ProviderUser,
    name: str = "test-idp",
) -> dict[str, Any]:
    """The whole flow: start, the browser at the provider, back, complete."""
    state, code = await back_from_provider(users, http, provider, who, name=name)
    return await complete(users, state, code)


async def link(users: GraphQLClient, state: str, code: str, account: Account) -> dict[str, Any]:
    return await users.execute(
        LINK, {"input": {"state": state, "code": code}}, token=account.access_token
    )


async def linked_providers(users: GraphQLClient, account: Account) -> list[str]:
    me = (await users.data(ME, token=account.access_token))["me"]
    return [identity["provider"] for identity in me["linkedIdentities"]]


def signed_in(body: dict[str, Any]) -> dict[str, Any]:
    assert "errors" not in body, body["errors"]
    payload: dict[str, Any] = body["data"]["completeExternalSignIn"]
    return payload


async def audit_kinds(users: GraphQLClient, admin: Account, user_id: str) -> list[str]:
    data = await users.data(EVENTS, {"userId": user_id}, token=admin.access_token)
    return [edge["node"]["kind"] for edge in data["securityEvents"]["edges"]]


async def accounts_named(users: GraphQLClient, admin: Account, email: str) -> int:
    data = await users.data(FIND, {"search": email}, token=admin.access_token)
    count: int = data["users"]["totalCount"]
    return count


async def test_the_configured_providers_are_listed_for_anyone(users: GraphQLClient) -> None:
    data = await users.data(PROVIDERS)
    assert data["signInProviders"] == [
        {"name": "test-idp", "displayName": "Test IdP"},
        {"name": "trusting-idp", "displayName": "trusting-idp"},
        {"name": "liar-idp", "displayName": "liar-idp"},
        {"name": "offline-idp", "displayName": "offline-idp"},
        # and the SAML IdPs (tests/saml_idp.py)
        {"name": "saml-idp", "displayName": "University"},
        {"name": "trusting-saml-idp", "displayName": "trusting-saml-idp"},
    ]


async def test_the_authorization_url_carries_pkce_nonce_and_state(
    users: GraphQLClient, provider: OpenIDProvider
) -> None:
    started = (await start(users))["data"]["startExternalSignIn"]
    url = urlparse(started["authorizationUrl"])
    query = {name: values[0] for name, values in parse_qs(url.query).items()}
    assert f"{url.scheme}://{url.netloc}" == provider.issuer
    assert query["response_type"] == "code"
    assert query["client_id"] == CLIENT_ID
    assert query["redirect_uri"] == REDIRECT_URI
    assert set(query["scope"].split()) == {"openid", "email", "profile"}
    assert query["code_challenge_method"] == "S256"
    assert len(query["code_challenge"]) == 43  # base64url SHA-256: the verifier stays with us
    assert len(query["nonce"]) >= 20
    assert query["state"] == started["state"]
    assert started["expiresIn"] == 600


async def test_a_new_person_gets_a_student_account_and_comes_back_to_it(
    users: GraphQLClient,
    http: httpx.AsyncClient,
    provider: OpenIDProvider,
    admin: Account,
) -> None:
    who = person()
    first = signed_in(await sign_in(users, http, provider, who))
    assert first["user"]["email"] == who.email
    assert first["user"]["name"] == "Ada External"
    assert first["user"]["roles"] == ["STUDENT"]
    assert first["tokenType"] == "Bearer"

    me = (await users.data(ME, token=first["accessToken"]))["me"]
    assert me["id"] == first["user"]["id"]
    [link] = me["linkedIdentities"]
    assert (link["provider"], link["email"]) == ("test-idp", who.email)

    # the PKCE verifier went to the token endpoint, with our client's credentials
    exchange = provider.token_requests[-1]
    assert exchange["grant_type"] == "authorization_code"
    assert len(exchange["code_verifier"]) >= 43

    again = signed_in(await sign_in(users, http, provider, who))
    assert again["user"]["id"] == first["user"]["id"]
    assert await accounts_named(users, admin, who.email or "") == 1
    kinds = await audit_kinds(users, admin, first["user"]["id"])
    assert kinds.count("USER_REGISTERED") == 1
    assert kinds.count("EXTERNAL_IDENTITY_LINKED") == 1
    assert kinds.count("SIGN_IN_SUCCEEDED") == 2

    # the refresh token works as any other
    refreshed = await users.data(
        f"mutation($t: String!) {{ refreshToken(input: {{refreshToken: $t}}) {{ {AUTH_FIELDS} }} }}",
        {"t": again["refreshToken"]},
    )
    assert refreshed["refreshToken"]["user"]["id"] == first["user"]["id"]


async def test_a_trusted_providers_verified_email_links_to_a_students_account(
    users: GraphQLClient,
    http: httpx.AsyncClient,
    trusting_provider: OpenIDProvider,
    learner: Account,
) -> None:
    who = person(email=learner.email)
    payload = signed_in(await sign_in(users, http, trusting_provider, who, "trusting-idp"))
    assert payload["user"]["id"] == learner.id
    assert "errors" not in await login(users, learner.email)  # the password still works


async def test_by_default_a_verified_email_does_not_link_an_existing_account(
    users: GraphQLClient, http: httpx.AsyncClient, provider: OpenIDProvider, learner: Account
) -> None:
    body = await sign_in(users, http, provider, person(email=learner.email))
    assert error_codes(body) == ["ACCOUNT_LINK_REQUIRED"]
    assert body["errors"][0]["extensions"]["provider"] == "test-idp"
    assert body["data"] is None
    assert await linked_providers(users, learner) == []


@pytest.mark.parametrize("roles", [["ADMIN", "STUDENT"], ["INSTRUCTOR", "STUDENT"]])
async def test_a_provider_claiming_a_privileged_accounts_email_gets_no_session(
    users: GraphQLClient,
    http: httpx.AsyncClient,
    trusting_provider: OpenIDProvider,
    migrated: Settings,
    admin: Account,
    roles: list[str],
) -> None:
    """Even from a provider trusted to link by email, with email_verified: true."""
    boss = await account_with_roles(users, migrated, roles, "Privileged")
    who = person(email=boss.email)
    body = await sign_in(users, http, trusting_provider, who, "trusting-idp")
    assert error_codes(body) == ["ACCOUNT_LINK_REQUIRED"]
    assert body["data"] is None
    assert await linked_providers(users, boss) == []
    assert await accounts_named(users, admin, boss.email) == 1
    again = await sign_in(users, http, trusting_provider, who, "trusting-idp")  # still nothing
    assert error_codes(again) == ["ACCOUNT_LINK_REQUIRED"]


async def test_the_owner_links_a_provider_signed_in_and_then_signs_in_with_it(
    users: GraphQLClient, http: httpx.AsyncClient, provider: OpenIDProvider, admin: Account
) -> None:
    who = person(email=admin.email)
    state, code = await back_from_provider(users, http, provider, who, linking=admin)
    linked = (await link(users, state, code, admin))["data"]["linkExternalIdentity"]["user"]
    assert linked["id"] == admin.id
    assert linked["linkedIdentities"] == [{"provider": "test-idp", "email": admin.email}]
    payload = signed_in(await sign_in(users, http, provider, who))
    assert payload["user"]["id"] == admin.id
    assert "ADMIN" in payload["user"]["roles"]
    assert "EXTERNAL_IDENTITY_LINKED" in await audit_kinds(users, admin, admin.id)


async def test_another_accounts_link_cannot_be_finished(
    users: GraphQLClient,
    http: httpx.AsyncClient,
    provider: OpenIDProvider,
    admin: Account,
    learner: Account,
) -> None:
    state, code = await back_from_provider(users, http, provider, person(), linking=admin)
    stolen = await link(users, state, code, learner)
    assert error_codes(stolen) == ["FORBIDDEN"]
    assert error_codes(await link(users, state, code, admin)) == ["UNAUTHENTICATED"]  # spent
    assert await linked_providers(users, admin) == []
    assert await linked_providers(users, learner) == []


async def test_a_link_completes_once_and_never_as_a_sign_in(
    users: GraphQLClient, http: httpx.AsyncClient, provider: OpenIDProvider, learner: Account
) -> None:
    who = person()
    state, code = await back_from_provider(users, http, provider, who, linking=learner)
    as_sign_in = await complete(users, state, code)
    assert error_codes(as_sign_in) == ["UNAUTHENTICATED"]
    assert as_sign_in["data"] is None
    assert error_codes(await link(users, state, code, learner)) == ["UNAUTHENTICATED"]

    state, code = await back_from_provider(users, http, provider, who, linking=learner)
    assert "errors" not in await link(users, state, code, learner)
    assert error_codes(await link(users, state, code, learner)) == ["UNAUTHENTICATED"]

    state, code = await back_from_provider(users, http, provider, person())
    assert error_codes(await link(users, state, code, learner)) == ["UNAUTHENTICATED"]
    assert await linked_providers(users, learner) == ["test-idp"]


async def test_a_link_with_a_replayed_nonce_or_an_identity_linked_elsewhere_is_refused(
    users: GraphQLClient,
    http: httpx.AsyncClient,
    provider: OpenIDProvider,
    learner: Account,
    other_learner: Account,
) -> None:
    provider.misbehaviour = Misbehaviour(id_token_nonce="replayed-nonce")
    state, code = await back_from_provider(users, http, provider, person(), linking=learner)
    replayed = await link(users, state, code, learner)
    assert error_codes(replayed) == ["UNAUTHENTICATED"]
    assert "did not verify" in replayed["errors"][0]["message"]
    provider.misbehaviour = Misbehaviour()

    who = person()
    state, code = await back_from_provider(users, http, provider, who, linking=learner)
    assert "errors" not in await link(users, state, code, learner)
    state, code = await back_from_provider(users, http, provider, who, linking=other_learner)
    assert error_codes(await link(users, state, code, other_learner)) == ["CONFLICT"]
    assert await linked_providers(users, other_learner) == []


async def test_starting_a_link_needs_a_session(users: GraphQLClient) -> None:
    body = await users.execute(
        START_LINK, {"input": {"provider": "test-idp", "redirectUri": REDIRECT_URI}}
    )
    assert error_codes(body) == ["UNAUTHENTICATED"]


async def test_an_unverified_email_never_reaches_an_existing_account(
    users: GraphQLClient,
    http: httpx.AsyncClient,
    provider: OpenIDProvider,
    learner: Account,
    admin: Account,
) -> None:
    """Whoever registers someone else's address at a lax provider gets nothing here."""
    body = await sign_in(users, http, provider, person(email=learner.email, verified=False))
    assert error_codes(body) == ["UNAUTHENTICATED"]
    assert "verified" in body["errors"][0]["message"]
    assert body["data"] is None
    me = (await users.data(ME, token=learner.access_token))["me"]
    assert me["linkedIdentities"] == []
    assert await accounts_named(users, admin, learner.email) == 1


@pytest.mark.parametrize("email", [None, "not-an-address"])
async def test_no_account_is_opened_without_a_verified_usable_email(
    users: GraphQLClient, http: httpx.AsyncClient, provider: OpenIDProvider, email: str | None
) -> None:
    unverified = await sign_in(users, http, provider, person(verified=False))
    assert error_codes(unverified) == ["UNAUTHENTICATED"]
    odd = await sign_in(users, http, provider, person(email=email))
    assert error_codes(odd) == ["UNAUTHENTICATED"]


async def test_an_account_with_a_second_factor_is_linked_signed_in_and_asks_for_it(
    users: GraphQLClient,
    http: httpx.AsyncClient,
    trusting_provider: OpenIDProvider,
    learner: Account,
) -> None:
    secured = await enable_mfa(users, learner)
    who = person(email=learner.email)
    refused = await sign_in(users, http, trusting_provider, who, "trusting-idp")
    assert error_codes(refused) == ["ACCOUNT_LINK_REQUIRED"]
    state, code = await back_from_provider(
        users, http, trusting_provider, who, name="trusting-idp", linking=learner
    )
    assert "errors" not in await link(users, state, code, learner)
    body = await sign_in(users, http, trusting_provider, who, "trusting-idp")
    assert error_codes(body) == ["MFA_REQUIRED"]
    assert body["data"] is None
    mfa_token = body["errors"][0]["extensions"]["mfaToken"]
    verified = await verify(users, mfa_token, code=secured.app.code())
    assert verified["data"]["verifyMfa"]["user"]["id"] == learner.id


async def test_a_sign_in_completes_once(
    users: GraphQLClient, http: httpx.AsyncClient, provider: OpenIDProvider
) -> None:
    state, code = await back_from_provider(users, http, provider, person())
    assert "errors" not in await complete(users, state, code)
    replay = await complete(users, state, code)
    assert error_codes(replay) == ["UNAUTHENTICATED"]
    assert "start it again" in replay["errors"][0]["message"]


async def test_a_wrong_code_spends_the_sign_in(
    users: GraphQLClient, http: httpx.AsyncClient, provider: OpenIDProvider
) -> None:
    state, code = await back_from_provider(users, http, provider, person())
    refused = await complete(users, state, "not-the-code")
    assert error_codes(refused) == ["UNAUTHENTICATED"]
    assert "invalid_grant" in refused["errors"][0]["message"]
    # the right code can no longer be used with that state
    assert error_codes(await complete(users, state, code)) == ["UNAUTHENTICATED"]


async def test_a_code_from_another_sign_in_does_not_fit(
    users: GraphQLClient, http: httpx.AsyncClient, provider: OpenIDProvider, admin: Account
) -> None:
    """An attacker's code pasted into a victim's sign-in: the PKCE verifier does not match."""
    attacker, victim = person(), person()
    provider.add_user(attacker)
    provider.add_user(victim)
    theirs = (await start(users))["data"]["startExternalSignIn"]
    stolen = await browse(http, theirs["authorizationUrl"], attacker.email or "")
    mine = (await start(users))["data"]["startExternalSignIn"]
    assert stolen.code is not None
    body = await complete(users, mine["state"], stolen.code)
    assert error_codes(body) == ["UNAUTHENTICATED"]
    assert await accounts_named(users, admin, attacker.email or "") == 0


@pytest.mark.parametrize(
    ("state", "code", "expected"),
    [
        ("never-issued", "some-code", "UNAUTHENTICATED"),
        ("", "some-code", "UNAUTHENTICATED"),
        ("s" * 10_000, "some-code", "UNAUTHENTICATED"),
        ("never-issued", "", "BAD_USER_INPUT"),
        ("never-issued", "c" * 10_000, "BAD_USER_INPUT"),
    ],
)
async def test_made_up_states_and_codes_are_refused(
    users: GraphQLClient, state: str, code: str, expected: str
) -> None:
    body = await complete(users, state, code)
    assert error_codes(body) == [expected]
    assert body["data"] is None


async def test_wrong_types_and_missing_fields_are_bad_input(users: GraphQLClient) -> None:
    missing = await users.execute(
        'mutation { startExternalSignIn(input: {provider: "test-idp"}) { state } }'
    )
    assert error_codes(missing) == ["GRAPHQL_VALIDATION_FAILED"]
    wrong = await users.execute(START, {"input": {"provider": 7, "redirectUri": REDIRECT_URI}})
    assert error_codes(wrong) == ["BAD_USER_INPUT"]


@pytest.mark.parametrize(
    ("provider_name", "redirect_uri", "expected"),
    [
        ("nobody-idp", REDIRECT_URI, "BAD_USER_INPUT"),
        ("test-idp", "https://evil.example/steal", "BAD_USER_INPUT"),
        ("test-idp", REDIRECT_URI + "/../../evil", "BAD_USER_INPUT"),
        ("test-idp", REDIRECT_URI + '"><script>alert(1)</script>', "BAD_USER_INPUT"),
        ("test-idp", "http://user:pw@127.0.0.1:5173/auth/callback", "BAD_USER_INPUT"),
        ("offline-idp", REDIRECT_URI, "SERVICE_UNAVAILABLE"),
    ],
)
async def test_unknown_providers_foreign_redirects_and_unreachable_providers(
    users: GraphQLClient, provider_name: str, redirect_uri: str, expected: str
) -> None:
    body = await start(users, provider_name, redirect_uri)
    assert error_codes(body) == [expected]
    assert body["data"] is None
    if expected == "BAD_USER_INPUT":
        field = "provider" if provider_name == "nobody-idp" else "redirectUri"
        assert body["errors"][0]["extensions"]["field"] == field


async def test_a_provider_whose_discovery_names_another_issuer_is_refused(
    users: GraphQLClient, lying_provider: OpenIDProvider
) -> None:
    body = await start(users, "liar-idp")
    assert error_codes(body) == ["SERVICE_UNAVAILABLE"]
    assert "another issuer" in body["errors"][0]["message"]


@pytest.mark.parametrize(
    "misbehaviour",
    [
        Misbehaviour(id_token_nonce="replayed-nonce"),
        Misbehaviour(id_token_audience="some-other-client"),
        Misbehaviour(id_token_issuer="https://impostor.example"),
        Misbehaviour(id_token_expired=True),
        Misbehaviour(foreign_signing_key=True),
    ],
    ids=["nonce", "audience", "issuer", "expired", "foreign-key"],
)
async def test_identity_tokens_that_do_not_verify_sign_nobody_in(
    users: GraphQLClient,
    http: httpx.AsyncClient,
    provider: OpenIDProvider,
    admin: Account,
    misbehaviour: Misbehaviour,
) -> None:
    provider.misbehaviour = misbehaviour
    who = person()
    body = await sign_in(users, http, provider, who)
    assert error_codes(body) == ["UNAUTHENTICATED"]
    assert "did not verify" in body["errors"][0]["message"]
    assert await accounts_named(users, admin, who.email or "") == 0


async def test_only_a_linked_account_with_another_way_in_can_unlink(
    users: GraphQLClient, http: httpx.AsyncClient, provider: OpenIDProvider, learner: Account
) -> None:
    newcomer = signed_in(await sign_in(users, http, provider, person()))
    only_way = await users.execute(UNLINK, {"provider": "test-idp"}, token=newcomer["accessToken"])
    assert error_codes(only_way) == ["BAD_USER_INPUT"]

    state, code = await back_from_provider(users, http, provider, person(), linking=learner)
    assert "errors" not in await link(users, state, code, learner)
    unlinked = await users.data(UNLINK, {"provider": "test-idp"}, token=learner.access_token)
    assert unlinked["unlinkExternalIdentity"]["user"]["linkedIdentities"] == []
    not_linked = await users.execute(UNLINK, {"provider": "test-idp"}, token=learner.access_token)
    assert error_codes(not_linked) == ["BAD_USER_INPUT"]
    anonymous = await users.execute(UNLINK, {"provider": "test-idp"})
    assert error_codes(anonymous) == ["UNAUTHENTICATED"]


async def test_an_account_without_a_password_cannot_sign_in_with_one(
    users: GraphQLClient, http: httpx.AsyncClient, provider: OpenIDProvider
) -> None:
    who = person()
    payload = signed_in(await sign_in(users, http, provider, who))
    for guess in (PASSWORD, "", "!"):
        body = await login(users, who.email or "", guess)
        assert error_codes(body) == ["UNAUTHENTICATED"]
    change = await users.execute(
        "mutation($input: ChangePasswordInput!) { changePassword(input: $input) { success } }",
        {"input": {"currentPassword": "!", "newPassword": "a-brand-new-passphrase"}},
        token=payload["accessToken"],
    )
    assert error_codes(change) == ["BAD_USER_INPUT"]
    assert "no password" in change["errors"][0]["message"]


async def test_linked_identities_are_private(
    users: GraphQLClient, http: httpx.AsyncClient, provider: OpenIDProvider, learner: Account
) -> None:
    owner = signed_in(await sign_in(users, http, provider, person()))
    body = await users.execute(
        "query($id: ID!) { user(id: $id) { linkedIdentities { provider } } }",
        {"id": owner["user"]["id"]},
        token=learner.access_token,
    )
    assert error_codes(body) == ["FORBIDDEN"]


async def test_a_deleted_account_is_not_reached_again(
    users: GraphQLClient, http: httpx.AsyncClient, provider: OpenIDProvider
) -> None:
    who = person()
    first = signed_in(await sign_in(users, http, provider, who))
    await users.data(
        "mutation { deleteUser(input: {}) { deletedUserId } }", token=first["accessToken"]
    )
    again = signed_in(await sign_in(users, http, provider, who))
    assert again["user"]["id"] != first["user"]["id"]
