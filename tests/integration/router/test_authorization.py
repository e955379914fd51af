"""@authenticated, @requiresScopes and @policy enforced by the router, as Apollo Router does.

Two small subgraphs composed by our composition, a JWKS served on loopback, tokens signed
with its key. What a client sees: refused selections come back null with one UNAUTHENTICATED
or FORBIDDEN error each at its path, nulls propagate, the subgraphs are never asked for what
was refused, and with ``reject_unauthorized`` the whole operation is refused instead.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import re
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from graphql import GraphQLError
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet, RSAKey
from redis.asyncio import Redis
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from common.auth.keys import KEY_PARAMETERS
from common.auth.revocations import Revocation, RevocationList, TokenRevoker
from common.infra.ports import free_port
from common.infra.redis import RedisServer
from router.composition.api import compose
from router.composition.subgraph import SubgraphInput
from router.policies.authentication import JwtConfig
from router.policies.authorization import AuthorizationConfig, ClaimPolicies
from router.server import create_app
from router.transport import HttpTransport
from tests.integration.router.subgraphs import Subgraph, subgraphs_client
from tests.support import eventually, serve

ISSUER = "https://issuer.test"
AUDIENCE = "lms-test"
LINK = (
    'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", '
    'import: ["@key", "@authenticated", "@requiresScopes", "@policy"])'
)
ACCOUNTS_SDL = f"""{LINK}
type Query {{
  me: Account @authenticated
  account(id: ID!): Account
  accounts: [Account!]! @requiresScopes(scopes: [["accounts:read"], ["admin"]])
  version: String
  feed: [Item!]!
}}
type Mutation {{
  deleteAccount(id: ID!): Boolean @requiresScopes(scopes: [["accounts:write"]])
  ping: String
}}
type Account @key(fields: "id") {{
  id: ID!
  name: String!
  email: String @requiresScopes(scopes: [["email:read"]])
  salary: Int! @policy(policies: [["roles:ADMIN"], ["finance"]])
}}
interface Item {{ id: ID! title: String }}
type PublicPost implements Item {{ id: ID! title: String }}
type PrivateNote implements Item @authenticated {{ id: ID! title: String }}
"""
BILLING_SDL = f"""{LINK}
type Query {{ plans: [String!]! }}
type Account @key(fields: "id") {{
  id: ID!
  balance: Int @authenticated
  invoices: [String!]! @requiresScopes(scopes: [["billing:read"]])
  credit: Int!
  history: [String!] @requiresScopes(scopes: [["billing:read"]])
  statement: String!
}}
"""
ACCOUNTS = {
    "a1": {"id": "a1", "name": "Ada", "email": "ada@example.com", "salary": 100},
    "a2": {"id": "a2", "name": "Alan", "email": "alan@example.com", "salary": 90},
}


ACCOUNTS_PLAIN = """
type Query {
  me: Account
  account(id: ID!): Account
  accounts: [Account!]!
  version: String
  feed: [Item!]!
}
type Mutation { deleteAccount(id: ID!): Boolean ping: String }
type Account { id: ID! name: String! email: String salary: Int! }
interface Item { id: ID! title: String }
type PublicPost implements Item { id: ID! title: String }
type PrivateNote implements Item { id: ID! title: String }
"""


def _billing_account(rep: dict[str, Any]) -> dict[str, Any]:
    # the billing subgraph checks `statement` itself: it is nobody's to read here
    refused = GraphQLError("Statements are private.", extensions={"code": "FORBIDDEN"})
    return {
        "id": rep["id"],
        "balance": 7,
        "invoices": ["inv-1"],
        "credit": 3,
        "history": ["paid"],
        "statement": refused,
    }


def _subgraphs() -> dict[str, Subgraph]:
    accounts = Subgraph(
        ACCOUNTS_PLAIN,
        root={
            "me": lambda: dict(ACCOUNTS["a1"]),
            "account": lambda id: dict(ACCOUNTS[id]) if id in ACCOUNTS else None,
            "accounts": lambda: [dict(a) for a in ACCOUNTS.values()],
            "version": "1.0",
            "feed": lambda: [
                {"__typename": "PublicPost", "id": "p1", "title": "Hello"},
                {"__typename": "PrivateNote", "id": "n1", "title": "Diary"},
            ],
            "deleteAccount": lambda id: True,
            "ping": "pong",
        },
        references={"Account": lambda rep: dict(ACCOUNTS[rep["id"]])},
    )
    billing = Subgraph(
        "type Query { plans: [String!]! }\n"
        "type Account { id: ID! balance: Int invoices: [String!]! credit: Int! history: [String!]"
        " statement: String! }",
        root={"plans": ["basic"]},
        references={"Account": _billing_account},
    )
    for subgraph in (accounts, billing):
        schema = subgraph.build()
        item = schema.type_map.get("Item")
        if item is not None:
            item.resolve_type = lambda value, *_: value["__typename"]  # type: ignore[attr-defined]
    return {"accounts": accounts, "billing": billing}


def _supergraph() -> str:
    result = compose(
        [
            SubgraphInput("accounts", "http://accounts.local/graphql", ACCOUNTS_SDL),
            SubgraphInput("billing", "http://billing.local/graphql", BILLING_SDL),
        ]
    )
    assert result.supergraph_sdl is not None, result.errors
    return result.supergraph_sdl


@pytest.fixture(scope="module")
def key() -> RSAKey:
    generated = RSAKey.generate_key(2048, parameters=KEY_PARAMETERS)
    generated.ensure_kid()
    return generated


@contextlib.asynccontextmanager
async def jwks_server(published: list[Any]) -> AsyncIterator[str]:
    """A JWKS URL serving the public keys in ``published`` as the list is when asked."""

    async def keys(_: Request) -> JSONResponse:
        return JSONResponse(KeySet(list(published)).as_dict(private=False))

    app = Starlette(routes=[Route("/jwks.json", keys)])
    async with serve(app, free_port()) as url:
        yield f"{url}/jwks.json"


@pytest.fixture(scope="module")
async def jwks_url(key: RSAKey) -> AsyncIterator[str]:
    async with jwks_server([key]) as url:
        yield url


Sign = Callable[..., str]


@pytest.fixture(scope="module")
def sign(key: RSAKey) -> Sign:
    def token(scopes: str = "", **claims: Any) -> str:
        now = int(time.time())
        payload = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": str(uuid.uuid4()),
            "iat": now,
            "exp": now + 300,
            "scope": scopes,
            **claims,
        }
        return jwt.encode({"alg": "RS256", "kid": key.kid}, payload, key)

    return token


@pytest.fixture
def subgraphs() -> dict[str, Subgraph]:
    return _subgraphs()


RouterFactory = Callable[..., contextlib.AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def router_factory(subgraphs: dict[str, Subgraph], jwks_url: str) -> RouterFactory:
    supergraph = _supergraph()

    @contextlib.asynccontextmanager
    async def build(
        authorization: AuthorizationConfig | None = None,
        authentication: JwtConfig | None = None,
    ) -> AsyncIterator[httpx.AsyncClient]:
        urls = {name: f"http://{name}.local/graphql" for name in subgraphs}
        transport = HttpTransport(urls, client=subgraphs_client(subgraphs))
        app = create_app(
            supergraph,
            transport=transport,
            authentication=authentication or JwtConfig((jwks_url,), ISSUER, AUDIENCE),
            authorization=authorization,
        )
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://router"
            ) as client,
        ):
            yield client
        await transport.aclose()

    return build


@pytest.fixture
async def router(router_factory: RouterFactory) -> AsyncIterator[httpx.AsyncClient]:
    async with router_factory() as client:
        yield client


async def _post(
    router: httpx.AsyncClient, query: str, token: str | None = None, **variables: Any
) -> dict[str, Any]:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    response = await router.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    body: dict[str, Any] = response.json()
    return body


def _errors(body: dict[str, Any]) -> list[tuple[list[Any], str]]:
    return sorted((e["path"], e["extensions"]["code"]) for e in body.get("errors", []))


def _asked(subgraph: Subgraph) -> str:
    return " ".join(request["query"] for request in subgraph.requests)


async def test_anonymous_caller_gets_nulls_and_unauthenticated_errors_at_each_path(
    router: httpx.AsyncClient, subgraphs: dict[str, Subgraph]
) -> None:
    body = await _post(router, '{ version me { name } account(id: "a1") { name email } }')
    assert body["data"] == {"version": "1.0", "me": None, "account": {"name": "Ada", "email": None}}
    assert _errors(body) == [(["account", "email"], "UNAUTHENTICATED"), (["me"], "UNAUTHENTICATED")]
    messages = {e["message"] for e in body["errors"]}
    assert "Sign in to read Query.me." in messages
    # the refused fields never reached the subgraph
    asked = _asked(subgraphs["accounts"])
    assert re.search(r"\bme\b", asked) is None
    assert "email" not in asked
    assert "version" in asked


async def test_missing_scope_is_forbidden_and_names_the_scope(
    router: httpx.AsyncClient, sign: Sign
) -> None:
    query = '{ account(id: "a1") { name email } }'
    body = await _post(router, query, sign("profile:read"))
    assert body["data"] == {"account": {"name": "Ada", "email": None}}
    assert _errors(body) == [(["account", "email"], "FORBIDDEN")]
    assert "email:read" in body["errors"][0]["message"]
    # accounts is [Account!]!: its null propagates to the whole response
    body = await _post(router, "{ version accounts { id } }", sign("profile:read"))
    assert body["data"] is None
    assert _errors(body) == [(["accounts"], "FORBIDDEN")]
    assert "accounts:read or admin" in body["errors"][0]["message"]


async def test_any_clause_of_the_scopes_is_enough(router: httpx.AsyncClient, sign: Sign) -> None:
    for scopes in ("accounts:read", "admin", "admin other"):
        body = await _post(router, "{ accounts { id email } }", sign(f"{scopes} email:read"))
        assert "errors" not in body, (scopes, body)
        assert [a["email"] for a in body["data"]["accounts"]] == [
            "ada@example.com",
            "alan@example.com",
        ]


async def test_null_of_a_refused_non_null_field_propagates_with_one_error_per_item(
    router: httpx.AsyncClient, sign: Sign
) -> None:
    body = await _post(router, "{ accounts { id email } }", sign("accounts:read"))
    assert body["data"] == {"accounts": [{"id": "a1", "email": None}, {"id": "a2", "email": None}]}
    assert _errors(body) == [
        (["accounts", 0, "email"], "FORBIDDEN"),
        (["accounts", 1, "email"], "FORBIDDEN"),
    ]
    body = await _post(router, "{ version accounts { id salary } }", sign("accounts:read"))
    # salary is Int!, so the account is nulled, and accounts is [Account!]!: it propagates up
    assert body["data"] is None
    assert _errors(body) == [(["accounts", 0, "salary"], "FORBIDDEN")]


async def test_policies_are_decided_from_the_token_claims(
    router: httpx.AsyncClient, sign: Sign
) -> None:
    query = '{ account(id: "a2") { salary } }'
    admin = await _post(router, query, sign(roles=["STUDENT", "ADMIN"]))
    assert admin == {"data": {"account": {"salary": 90}}}
    student = await _post(router, query, sign(roles=["STUDENT"]))
    assert student["data"] == {"account": None}
    assert _errors(student) == [(["account", "salary"], "FORBIDDEN")]
    # an unknown policy ("finance") fails closed unless it is configured
    assert "finance" in student["errors"][0]["message"]


async def test_named_policies_can_be_configured(router_factory: RouterFactory, sign: Sign) -> None:
    config = AuthorizationConfig(policies=ClaimPolicies({"finance": "department:finance"}))
    async with router_factory(config) as router:
        body = await _post(router, '{ account(id: "a1") { salary } }', sign(department="finance"))
        assert body == {"data": {"account": {"salary": 100}}}


async def test_fields_of_another_subgraph_are_refused_and_that_fetch_is_skipped(
    router: httpx.AsyncClient, subgraphs: dict[str, Subgraph], sign: Sign
) -> None:
    query = '{ account(id: "a1") { name balance invoices } }'
    body = await _post(router, query)
    assert body["data"] == {"account": None}  # invoices is [String!]! and so bubbles up
    assert _errors(body) == [
        (["account", "balance"], "UNAUTHENTICATED"),
        (["account", "invoices"], "UNAUTHENTICATED"),
    ]
    assert subgraphs["billing"].requests == []
    signed_in = await _post(router, query, sign("billing:read"))
    assert signed_in == {"data": {"account": {"name": "Ada", "balance": 7, "invoices": ["inv-1"]}}}


async def test_an_unauthorized_type_is_refused_through_its_fragment_and_its_interface(
    router: httpx.AsyncClient, sign: Sign
) -> None:
    fragments = "{ feed { id ... on PublicPost { title } ... on PrivateNote { title } } }"
    body = await _post(router, fragments)
    # id is asked through the interface, and one implementation needs a signed-in caller
    assert body["data"] is None
    assert "UNAUTHENTICATED" in {code for _, code in _errors(body)}
    only_fragments = (
        "{ feed { __typename ... on PublicPost { title } ... on PrivateNote { title } } }"
    )
    body = await _post(router, only_fragments)
    assert body["data"] == {
        "feed": [{"__typename": "PublicPost", "title": "Hello"}, {"__typename": "PrivateNote"}]
    }
    assert _errors(body) == [(["feed", 1], "UNAUTHENTICATED")]
    body = await _post(router, fragments, sign())
    assert "errors" not in body
    assert body["data"]["feed"][1] == {"id": "n1", "title": "Diary"}


async def test_refused_mutation_does_not_run(
    router: httpx.AsyncClient, subgraphs: dict[str, Subgraph], sign: Sign
) -> None:
    body = await _post(router, 'mutation { ping deleteAccount(id: "a1") }', sign("profile:read"))
    assert body["data"] == {"ping": "pong", "deleteAccount": None}
    assert _errors(body) == [(["deleteAccount"], "FORBIDDEN")]
    assert "deleteAccount" not in _asked(subgraphs["accounts"])


async def test_named_fragments_and_aliases_keep_their_paths(
    router: httpx.AsyncClient,
) -> None:
    query = """
      query { first: account(id: "a1") { ...Card } second: account(id: "a2") { ...Card } }
      fragment Card on Account { name mail: email }
    """
    body = await _post(router, query)
    assert body["data"] == {
        "first": {"name": "Ada", "mail": None},
        "second": {"name": "Alan", "mail": None},
    }
    assert _errors(body) == [
        (["first", "mail"], "UNAUTHENTICATED"),
        (["second", "mail"], "UNAUTHENTICATED"),
    ]


async def test_an_operation_of_only_refused_fields_asks_no_subgraph(
    router: httpx.AsyncClient, subgraphs: dict[str, Subgraph]
) -> None:
    body = await _post(router, "{ me { id } }")
    assert body == {
        "data": {"me": None},
        "errors": [
            {
                "message": "Sign in to read Query.me.",
                "path": ["me"],
                "extensions": {"code": "UNAUTHENTICATED"},
            }
        ],
    }
    assert subgraphs["accounts"].requests == []
    assert subgraphs["billing"].requests == []


async def test_reject_mode_refuses_the_whole_operation(
    router_factory: RouterFactory, subgraphs: dict[str, Subgraph], sign: Sign
) -> None:
    async with router_factory(AuthorizationConfig(reject_unauthorized=True)) as router:
        body = await _post(router, 'mutation { ping deleteAccount(id: "a1") }', sign())
        assert body["data"] is None
        assert _errors(body) == [(["deleteAccount"], "FORBIDDEN")]
        assert subgraphs["accounts"].requests == []
        allowed = await _post(router, "mutation { ping }", sign())
        assert allowed == {"data": {"ping": "pong"}}


def _unsigned(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
    parts = [json.dumps(header).encode(), json.dumps(claims).encode(), signature]
    return ".".join(base64.urlsafe_b64encode(part).decode().rstrip("=") for part in parts)


async def _refusal(router: httpx.AsyncClient, authorization: str) -> tuple[str, str]:
    """The 401's error message and its WWW-Authenticate challenge."""
    response = await router.post(
        "/graphql", json={"query": "{ version }"}, headers={"authorization": authorization}
    )
    assert response.status_code == 401, authorization
    body = response.json()
    assert "data" not in body
    assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"]
    return body["errors"][0]["message"], response.headers["www-authenticate"]


def _invalid_token(message: str) -> str:
    return f'Bearer realm="router", error="invalid_token", error_description="{message}"'


async def test_bad_tokens_are_refused_with_401_not_treated_as_anonymous(
    router: httpx.AsyncClient, sign: Sign, key: RSAKey
) -> None:
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "x", "iat": now, "exp": now + 300}
    forged_key = RSAKey.generate_key(2048, parameters=KEY_PARAMETERS)
    forged = jwt.encode({"alg": "RS256", "kid": key.kid}, claims, forged_key)
    header, payload, signature = sign("email:read").split(".")
    public_pem = key.as_pem(private=False)
    signing_input = _unsigned({"alg": "HS256", "kid": key.kid}, claims).rsplit(".", 1)[0]
    confused = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    refused = {
        sign(exp=now - 3600): "The access token has expired.",
        forged: "The access token signature is invalid.",
        f"{header}.{payload[:-4]}AAAA.{signature}": "The access token signature is invalid.",
        sign(aud="someone-else"): "The access token is invalid: Invalid claim: 'aud'.",
        sign(iss="https://impostor.test"): "The access token is invalid: Invalid claim: 'iss'.",
        _unsigned({"alg": "none", "kid": key.kid}, claims): (
            "Access tokens must be signed with RS256."
        ),
        f"{signing_input}.{base64.urlsafe_b64encode(confused).decode().rstrip('=')}": (
            "Access tokens must be signed with RS256."
        ),
        "not-a-jwt": "The access token is malformed.",
    }
    for token, message in refused.items():
        assert await _refusal(router, f"Bearer {token}") == (message, _invalid_token(message))
    # no bearer token at all: the bare challenge
    message, challenge = await _refusal(router, "Basic abc")
    assert challenge == 'Bearer realm="router"'


async def test_a_token_of_a_key_added_to_the_jwks_is_accepted_once_the_jwks_is_fetched_again(
    router_factory: RouterFactory, key: RSAKey, sign: Sign
) -> None:
    published: list[Any] = [key]
    rotated = RSAKey.generate_key(2048, parameters=KEY_PARAMETERS)
    rotated.ensure_kid()
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "a1", "iat": now, "exp": now + 300}
    rotated_token = jwt.encode({"alg": "RS256", "kid": rotated.kid}, claims, rotated)
    async with jwks_server(published) as url:
        config = JwtConfig((url,), ISSUER, AUDIENCE, jwks_refetch_seconds=0)
        async with router_factory(authentication=config) as router:
            assert (await _post(router, "{ me { name } }", sign()))["data"] == {
                "me": {"name": "Ada"}
            }
            message, _ = await _refusal(router, f"Bearer {rotated_token}")
            assert message == "The access token was signed with an unknown key."
            published.append(rotated)  # the identity provider rotates its signing key
            body = await _post(router, "{ me { name } }", rotated_token)
            assert body["data"] == {"me": {"name": "Ada"}}


async def test_keys_come_from_every_jwks_url_and_only_the_configured_algorithms_count(
    router_factory: RouterFactory, key: RSAKey, jwks_url: str, sign: Sign
) -> None:
    ec_key = ECKey.generate_key("P-256")
    ec_key.ensure_kid()
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "a1", "iat": now, "exp": now + 300}
    es256 = jwt.encode({"alg": "ES256", "kid": ec_key.kid}, claims, ec_key, algorithms=["ES256"])
    async with jwks_server([ec_key]) as ec_url:
        config = JwtConfig((jwks_url, ec_url), ISSUER, AUDIENCE, algorithms=("ES256", "RS256"))
        async with router_factory(authentication=config) as router:
            for token in (es256, sign()):
                assert (await _post(router, "{ me { name } }", token))["data"] == {
                    "me": {"name": "Ada"}
                }
        only_es256 = JwtConfig((ec_url,), ISSUER, AUDIENCE, algorithms=("ES256",))
        async with router_factory(authentication=only_es256) as router:
            message, _ = await _refusal(router, f"Bearer {sign()}")
            assert message == "Access tokens must be signed with ES256."
    for unsafe in (("HS256",), ("none",), ()):
        with pytest.raises(ValueError, match="JWT algorithms must be some of"):
            JwtConfig((jwks_url,), ISSUER, AUDIENCE, algorithms=unsafe)


async def test_an_anonymous_caller_refused_a_field_is_challenged_to_sign_in(
    router: httpx.AsyncClient,
) -> None:
    response = await router.post("/graphql", json={"query": "{ version me { name } }"})
    assert response.status_code == 200
    assert response.json()["data"] == {"version": "1.0", "me": None}
    assert response.headers["www-authenticate"] == 'Bearer realm="router"'
    public = await router.post("/graphql", json={"query": "{ version }"})
    assert "www-authenticate" not in public.headers


async def test_a_revocation_list_plugged_in_refuses_the_revoked_subjects_tokens(
    router_factory: RouterFactory, jwks_url: str, sign: Sign, redis_server: RedisServer
) -> None:
    """Through the router's `Revocations` interface, with the platform's list over Redis."""
    subject = uuid.uuid4()
    before = sign(sub=str(subject), iat=time.time() - 5)
    other = sign()
    config = JwtConfig(
        (jwks_url,), ISSUER, AUDIENCE, revocations=RevocationList.from_url(redis_server.url)
    )
    async with router_factory(authentication=config) as router:
        assert "errors" not in await _post(router, "{ me { name } }", before)
        redis = Redis.from_url(redis_server.url)
        try:
            ended = Revocation(subject, round(time.time(), 3), 60)
            await TokenRevoker(redis, keep_seconds=60).publish([ended])
        finally:
            await redis.aclose()

        async def refused() -> bool:  # the revocation crosses Redis pub/sub
            response = await router.post(
                "/graphql",
                json={"query": "{ version }"},
                headers={"authorization": f"Bearer {before}"},
            )
            return response.status_code != 200

        await eventually(refused, within=5)
        message, challenge = await _refusal(router, f"Bearer {before}")
        assert message == "This session has ended; sign in again."
        assert challenge == _invalid_token(message)
        assert "errors" not in await _post(router, "{ me { name } }", other)
        after = sign(sub=str(subject), iat=time.time() + 1)  # a sign-in after the revocation
        assert "errors" not in await _post(router, "{ me { name } }", after)


async def test_scopes_cannot_be_smuggled_in_another_claim_or_header(
    router: httpx.AsyncClient, sign: Sign
) -> None:
    token = sign("", scp="not-a-list-but-a-string email:read")
    response = await router.post(
        "/graphql",
        json={"query": '{ account(id: "a1") { email } }'},
        headers={"authorization": f"Bearer {sign()}", "x-scopes": "email:read"},
    )
    assert response.json()["data"] == {"account": {"email": None}}
    body = await _post(router, '{ account(id: "a1") { email } }', token)
    # `scope` is present (empty), so `scp` is not consulted
    assert body["data"] == {"account": {"email": None}}


async def test_a_readable_field_is_kept_beside_a_refused_nullable_sibling(
    router: httpx.AsyncClient, subgraphs: dict[str, Subgraph], sign: Sign
) -> None:
    body = await _post(router, '{ account(id: "a1") { credit history } }', sign("profile:read"))
    assert body["data"] == {"account": {"credit": 3, "history": None}}
    assert _errors(body) == [(["account", "history"], "FORBIDDEN")]
    assert "history" not in _asked(subgraphs["billing"])
    body = await _post(router, '{ account(id: "a1") { credit balance } }')
    assert body["data"] == {"account": {"credit": 3, "balance": None}}
    assert _errors(body) == [(["account", "balance"], "UNAUTHENTICATED")]
    # a refused non-null sibling nulls the object: one error, and none for `credit`
    body = await _post(router, '{ account(id: "a1") { credit invoices } }', sign("profile:read"))
    assert body["data"] == {"account": None}
    assert _errors(body) == [(["account", "invoices"], "FORBIDDEN")]


async def test_a_sibling_of_a_field_the_subgraph_refuses_gets_no_error_of_its_own(
    router: httpx.AsyncClient, sign: Sign
) -> None:
    # the subgraph nulls the whole entity for its non-null `statement`: `credit` (Int!) was
    # never delivered, and that is explained by the one FORBIDDEN error, not a second one
    body = await _post(router, '{ account(id: "a1") { name credit statement } }', sign())
    assert body["data"] == {"account": None}
    assert _errors(body) == [(["account", "statement"], "FORBIDDEN")]
    body = await _post(router, "{ accounts { id credit statement } }", sign("accounts:read"))
    assert body["data"] is None
    assert _errors(body) == [
        (["accounts", 0, "statement"], "FORBIDDEN"),
        (["accounts", 1, "statement"], "FORBIDDEN"),
    ]
