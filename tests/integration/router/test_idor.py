"""An IDOR sweep through the router: every Query and Mutation field that takes an id is
called by a hostile user with another user's object id, and must neither return nor change
that object.

The table is in idor_cases.py (the objects aimed at in idor_world.py). The first test keeps
it complete: a new id-taking field in the supergraph without a case fails it.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from graphql import (
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLObjectType,
    GraphQLSchema,
    OperationDefinitionNode,
    build_ast_schema,
    get_named_type,
    parse,
    validate,
)
from graphql.language import FieldNode

from common.settings import Settings
from lms.compose import SUPERGRAPH_PATH
from tests.integration.courses.test_attachments import PNG
from tests.integration.router.idor_cases import (
    CASES,
    NOT_OWNED,
    PRIVATE_USER_FIELDS,
    PUBLIC_USER_FIELDS,
    Case,
)
from tests.integration.router.idor_world import (
    NOTIFICATION_TITLE,
    STUDENT_ESSAY,
    Actor,
    World,
    build_world,
)
from tests.support import GraphQLClient, error_codes

MALFORMED = {"not-a-uuid": "not-a-uuid", "empty": "", "10-kB": "7" * 10_240}
MALFORMED_ANSWERS = frozenset({"BAD_USER_INPUT", "NOT_FOUND"})


def _supergraph() -> GraphQLSchema:
    return build_ast_schema(parse(SUPERGRAPH_PATH.read_text()))


def _takes_an_id(kind: GraphQLInputType, seen: frozenset[str] = frozenset()) -> bool:
    named = get_named_type(kind)
    if named.name == "ID":
        return True
    if not isinstance(named, GraphQLInputObjectType) or named.name in seen:
        return False
    return any(_takes_an_id(item.type, seen | {named.name}) for item in named.fields.values())


def id_taking_fields(schema: GraphQLSchema) -> set[str]:
    """Every Query and Mutation field ("Type.field") with an id among its arguments, directly
    or anywhere inside an input object."""
    found = set()
    for root in (schema.query_type, schema.mutation_type):
        assert root is not None
        for name, definition in root.fields.items():
            if any(_takes_an_id(argument.type) for argument in definition.args.values()):
                found.add(f"{root.name}.{name}")
    return found


def _operation(document: str) -> OperationDefinitionNode:
    [operation] = parse(document).definitions
    assert isinstance(operation, OperationDefinitionNode)
    return operation


def root_of(document: str) -> str:
    operation = _operation(document)
    [selection] = operation.selection_set.selections
    assert isinstance(selection, FieldNode)
    return f"{operation.operation.value.capitalize()}.{selection.name.value}"


def test_every_id_taking_field_has_a_case_or_a_reason() -> None:
    schema = _supergraph()
    assert not set(CASES) & set(NOT_OWNED)
    assert set(CASES) | set(NOT_OWNED) == id_taking_fields(schema)
    for key, cases in CASES.items():
        assert cases, key
        for case in cases:
            assert root_of(case.document) == key, case.name
            # a mutation's target is re-read: it must be unchanged
            assert key.startswith("Query.") or case.reread is not None, case.name
            assert case.control is None or key.startswith("Query."), case.name
            assert not validate(schema, parse(case.document)), case.name
            definitions = _operation(case.document).variable_definitions or ()
            declared = {definition.variable.name.value for definition in definitions}
            # $id is the id aimed at (an upload's file goes in $file)
            assert case.upload or "id" in declared, case.name


def test_every_field_of_a_user_is_sorted_public_or_private() -> None:
    user = _supergraph().get_type("User")
    assert isinstance(user, GraphQLObjectType)
    assert not set(PUBLIC_USER_FIELDS) & set(PRIVATE_USER_FIELDS)
    assert set(PUBLIC_USER_FIELDS) | set(PRIVATE_USER_FIELDS) == set(user.fields)


PARAMS = [
    pytest.param(case, id=f"{key}: {case.name}") for key, cases in CASES.items() for case in cases
]


@pytest.fixture(scope="module")
async def world(users: GraphQLClient, http: httpx.AsyncClient, migrated: Settings) -> World:
    return await build_world(users, http, migrated)


async def send(
    graph: GraphQLClient, world: World, case: Case, caller: Actor, variables: dict[str, Any]
) -> tuple[int | None, dict[str, Any]]:
    """The case's request as this caller: the HTTP status (None for an upload) and body."""
    if case.upload:
        operations = {"query": case.document, "variables": {**variables, "file": None}}
        response = await graph.http.post(
            graph.url,
            data={
                "operations": json.dumps(operations),
                "map": json.dumps({"0": ["variables.file"]}),
            },
            files={"0": ("x.png", PNG, "application/octet-stream")},
            headers={**world.credentials(caller), "Apollo-Require-Preflight": "true"},
        )
        return None, response.json()
    response = await graph.http.post(
        graph.url,
        json={"query": case.document, "variables": variables},
        headers=world.credentials(caller),
    )
    body: dict[str, Any] = response.json()
    return response.status_code, body


@pytest.mark.parametrize("case", PARAMS)
async def test_a_hostile_caller_neither_gets_nor_changes_another_users_object(
    users: GraphQLClient, world: World, case: Case
) -> None:
    reread = case.reread
    before = (
        None
        if reread is None
        else await users.data(
            reread.document, reread.variables(world), token=world.token(reread.reader)
        )
    )
    variables = case.variables(world)
    status, body = await send(users, world, case, case.caller, variables)

    assert status is None or status < 500, body
    codes = error_codes(body)
    if case.refused:
        assert codes, body
        assert set(codes) <= case.refused, body
    else:
        assert not codes, body
    data = body.get("data")
    if case.refused and root_of(case.document).startswith("Mutation."):
        # A mutation refused as a whole (its error at the root field, or with no path)
        # answers nothing; one whose result asks for a field the caller may not read
        # (createCourse's coInstructors' email) loses that field only, a nullable one
        # since other subgraphs' fields are (README "Nullability at subgraph boundaries"),
        # and the leak checks below prove its value never shows.
        errors = body.get("errors") or []
        if any(len(e.get("path") or ()) <= 1 for e in errors):
            assert not data or all(value is None for value in data.values()), body
    shown = json.dumps(data)
    asked = {value for value in variables.values() if isinstance(value, str)}
    hidden = [secret for secret in world.secrets if secret not in asked]  # echoing an id
    for secret in (*hidden, *([case.leak(world)] if case.leak else [])):  # is no leak
        assert secret not in shown, f"{secret!r} leaked: {body}"
    said = json.dumps(body.get("errors", []))  # an error may repeat the id asked about
    for text in (world.accounts["student"].email, STUDENT_ESSAY, NOTIFICATION_TITLE):
        assert text not in said, f"{text!r} leaked in an error: {body}"

    if reread is not None:
        after = await users.data(
            reread.document, reread.variables(world), token=world.token(reread.reader)
        )
        assert after == before
    if case.control is not None:
        assert case.leak is not None
        _, allowed = await send(users, world, case, case.control, case.variables(world))
        assert "errors" not in allowed, allowed
        assert case.leak(world) in json.dumps(allowed["data"]), "the control sees nothing"


MALFORMED_PARAMS = [
    pytest.param(key, kind, id=f"{key}: {kind}") for key in CASES for kind in MALFORMED
]


@pytest.mark.parametrize(("key", "kind"), MALFORMED_PARAMS)
async def test_a_malformed_id_is_bad_input_or_not_found(
    users: GraphQLClient, world: World, key: str, kind: str
) -> None:
    """As an administrator, so that no scope refuses the call before the id is read."""
    case = CASES[key][0]
    variables = {**case.variables(world), "id": MALFORMED[kind]}
    status, body = await send(users, world, case, "admin", variables)
    assert status is None or status < 500, body
    codes = error_codes(body)
    assert codes, body
    assert set(codes) <= MALFORMED_ANSWERS, body


async def test_a_stranger_reads_the_public_profile_of_another_user(
    users: GraphQLClient, world: World
) -> None:
    """The private fields above are refused field by field, not with the whole user."""
    public = await users.data(
        f"query($id: ID!) {{ user(id: $id) {{ {' '.join(PUBLIC_USER_FIELDS.values())} }} }}",
        {"id": world.id_of("student")},
        token=world.token("intruder"),
    )
    assert public["user"]["id"] == world.id_of("student")
    assert public["user"]["name"] == "Vic Victim"


@pytest.mark.parametrize(
    ("document", "variables", "code"),
    [
        pytest.param(
            "mutation { updateProfile(input: {roles: [ADMIN, STUDENT]}) { user { roles } } }",
            {},
            "GRAPHQL_VALIDATION_FAILED",
            id="in the document",
        ),
        pytest.param(
            "mutation($input: UpdateProfileInput!) { updateProfile(input: $input) "
            "{ user { roles } } }",
            {"input": {"name": "Still a student", "roles": ["ADMIN", "STUDENT"]}},
            "BAD_USER_INPUT",  # a variable's value is checked when it is coerced
            id="in a variable",
        ),
    ],
)
async def test_update_profile_has_no_roles_to_set(
    users: GraphQLClient, world: World, document: str, variables: dict[str, Any], code: str
) -> None:
    body = await users.execute(document, variables, token=world.token("intruder"))
    assert error_codes(body) == [code], body
    assert body.get("data") is None
    roles = await users.data(
        "query($id: ID!) { user(id: $id) { name roles } }",
        {"id": world.id_of("intruder")},
        token=world.token("admin"),
    )
    assert roles["user"] == {"name": "Ivan Intruder", "roles": ["STUDENT"]}


@pytest.mark.parametrize(
    "document",
    [
        '{ _entities(representations: [{__typename: "User", id: "x"}]) { __typename } }',
        "{ _service { sdl } }",
    ],
)
async def test_the_router_offers_no_entity_lookup_around_the_checks(
    users: GraphQLClient, world: World, document: str
) -> None:
    """Subgraphs resolve entities by id for the router only; a client cannot ask for them."""
    body = await users.execute(document, token=world.token("admin"))
    assert error_codes(body) == ["GRAPHQL_VALIDATION_FAILED"], body
