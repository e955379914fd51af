"""@authenticated, @requiresScopes and @policy enforced by the router, as Apollo Router does.

Two small subgraphs composed by our composition, a JWKS served on loopback, tokens signed
with its key. What a client sees: refused selections come back null with one UNAUTHENTICATED
or FORBIDDEN error each at its path, nulls propagate, the subgraphs are never asked for what
was refused, and with ``reject_unauthorized`` the whole operation is refused instead.
"""

from __future__ import annotations

import contextlib
import re
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from graphql import GraphQLError
from joserfc import jwt
from joserfc.jwk import RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from common.auth.keys import KEY_PARAMETERS, public_jwks
from common.infra.ports import free_port
from router.composition.api import compose
from router.composition.subgraph import SubgraphInput
from router.policies.authentication import JwtConfig
from router.policies.authorization import AuthorizationConfig, ClaimPolicies
from router.server import create_app
from router.transport import HttpTransport
from tests.integration.router.subgraphs import Subgraph, subgraphs_client
from tests.support import serve

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


@pytest.fixture(scope="module")
async def jwks_url(key: RSAKey) -> AsyncIterator[str]:
    async def keys(_: Request) -> JSONResponse:
        return JSONResponse(public_jwks([key]))

    app = Starlette(routes=[Route("/jwks.json", keys)])
    async with serve(app, free_port()) as url:
        yield f"{url}/jwks.json"


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
    ) -> AsyncIterator[httpx.AsyncClient]:
        urls = {name: f"http://{name}.local/graphql" for name in subgraphs}
        transport = HttpTransport(urls, client=subgraphs_client(subgraphs))
        app = create_app(
            supergraph,
            transport=transport,
            authentication=JwtConfig((jwks_url,), ISSUER, AUDIENCE),
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


async def test_bad_tokens_are_refused_with_401_not_treated_as_anonymous(
    router: httpx.AsyncClient, sign: Sign, key: RSAKey
) -> None:
    expired = sign(exp=int(time.time()) - 3600)
    forged_key = RSAKey.generate_key(2048, parameters=KEY_PARAMETERS)
    forged = jwt.encode({"alg": "RS256", "kid": key.kid}, {"iss": ISSUER, "sub": "x"}, forged_key)
    wrong_audience = sign(aud="someone-else")
    header, payload, signature = sign("email:read").split(".")
    tampered = f"{header}.{payload[:-4]}AAAA.{signature}"
    for token in (expired, forged, wrong_audience, tampered, "not-a-jwt"):
        response = await router.post(
            "/graphql",
            json={"query": "{ version }"},
            headers={"authorization": f"Bearer {token}"},
        )
        assert response.status_code == 401, token
        body = response.json()
        assert "data" not in body
        assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"]
    response = await router.post(
        "/graphql", json={"query": "{ version }"}, headers={"authorization": "Basic abc"}
    )
    assert response.status_code == 401


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
