"""Completing merged data against the API schema: order, aliases, nulls, enums."""

from typing import Any

from graphql import OperationDefinitionNode, build_schema, parse
from graphql.execution.values import get_variable_values

from router.execution.complete import Completer
from router.execution.failures import FetchFailure
from router.execution.shape import ShapeCompiler

SCHEMA = build_schema(
    """
    type Query { me: User, users: [User!]!, node: Node }
    interface Node { id: ID! }
    type User implements Node {
      id: ID!, name: String!, role: Role, friends: [User!], manager: User!, pals: [User]
    }
    enum Role { ADMIN USER }
    """
)


def complete(
    query: str,
    data: dict[str, Any],
    variables: dict[str, Any] | None = None,
    errors: list[dict[str, Any]] | None = None,
) -> tuple[Any, list[dict[str, Any]]]:
    document = parse(query)
    operation = document.definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    coerced = get_variable_values(SCHEMA, operation.variable_definitions or (), variables or {})
    assert not isinstance(coerced, list)
    shape = ShapeCompiler(SCHEMA, {}, coerced).root(operation)
    errors = [] if errors is None else errors
    return Completer(frozenset({"Node"}), errors).complete_root(data, shape), errors


def test_order_aliases_and_typename() -> None:
    data = {"me": {"label": "Ada", "id": "1", "extra": True}}
    result, errors = complete("{ me { __typename id label: name } }", data)
    assert result == {"me": {"__typename": "User", "id": "1", "label": "Ada"}}
    assert list(result["me"]) == ["__typename", "id", "label"]
    assert errors == []


def test_null_in_non_null_list_item_nulls_the_nullable_parent() -> None:
    data = {"me": {"friends": [{"name": "A"}, {"name": None}]}}
    result, errors = complete("{ me { friends { name } } }", data)
    assert result == {"me": {"friends": None}}
    assert errors == [
        {
            "message": "Cannot return null for non-nullable field User.name.",
            "path": ["me", "friends", 1, "name"],
            "extensions": {"code": "SUBGRAPH_INVALID_RESPONSE"},
        }
    ]


def test_a_null_in_a_non_null_object_field_nulls_the_nullable_object_above_it() -> None:
    data = {"me": {"manager": {"name": None, "id": "2"}, "id": "1"}}
    result, errors = complete("{ me { id manager { id name } } }", data)
    assert result == {"me": None}
    assert [(e["message"], e["path"]) for e in errors] == [
        ("Cannot return null for non-nullable field User.name.", ["me", "manager", "name"])
    ]


def test_a_null_in_a_nullable_list_item_nulls_that_item_alone() -> None:
    data = {"me": {"pals": [{"name": "A"}, {"name": None}, None]}}
    result, errors = complete("{ me { pals { name } } }", data)
    assert result == {"me": {"pals": [{"name": "A"}, None, None]}}
    assert [e["path"] for e in errors] == [["me", "pals", 1, "name"]]


def test_null_propagates_to_data_when_no_nullable_parent() -> None:
    result, errors = complete("{ users { name } }", {"users": [{"name": None}]})
    assert result is None
    assert errors[0]["path"] == ["users", 0, "name"]


def test_a_null_explained_by_a_subgraph_error_below_it_gets_no_second_error() -> None:
    forbidden = {"message": "no", "path": ["users", 0, "name"], "extensions": {"code": "FORBIDDEN"}}
    result, errors = complete("{ users { name } }", {}, errors=[forbidden])
    assert result is None
    assert errors == [forbidden]


def test_an_unexplained_null_still_gets_its_error() -> None:
    unrelated = {"message": "elsewhere", "path": ["me", "role"]}
    result, errors = complete("{ users { name } me { role } }", {"users": None}, errors=[unrelated])
    assert result is None
    assert errors[1]["path"] == ["users"]


def test_fields_missing_from_an_entity_a_subgraph_nulled_get_no_errors_of_their_own() -> None:
    # the subgraph nulled the entity (its `name` failed): `id`, asked of the same entity,
    # was never delivered, and is not a second null
    forbidden = {"message": "no", "path": ["me", "name"], "extensions": {"code": "FORBIDDEN"}}
    result, errors = complete("{ me { id name } }", {"me": {}}, errors=[forbidden])
    assert result == {"me": None}
    assert errors == [forbidden]


def test_an_error_above_objects_explains_the_fields_missing_from_them() -> None:
    # a failed fetch past its bound of paths: one error where its entities sit
    failed = FetchFailure(
        {"message": "down", "path": ["users"], "extensions": {"code": "SUBREQUEST_HTTP_ERROR"}},
        object(),
    )
    data = {"users": [{"id": "1", "friends": [{"id": "2"}, {"id": "3"}]}]}
    result, errors = complete("{ users { id friends { id name } } }", data, errors=[failed])
    assert result == {"users": [{"id": "1", "friends": None}]}
    assert errors == [failed]


def test_a_missing_field_of_an_object_without_errors_is_reported_with_a_code() -> None:
    elsewhere = {"message": "x", "path": ["node"], "extensions": {"code": "E"}}
    result, errors = complete("{ node { id } me { id } }", {"me": {}}, errors=[elsewhere])
    assert result == {"node": None, "me": None}
    assert [(e["path"], e["extensions"]["code"]) for e in errors] == [
        (["node"], "E"),
        (["me", "id"], "SUBGRAPH_INVALID_RESPONSE"),
    ]


def test_abstract_types_use_typename_and_fragments() -> None:
    data = {"node": {"__typename": "User", "id": "1", "name": "Ada"}}
    result, _ = complete("{ node { id ... on User { name } } }", data)
    assert result == {"node": {"id": "1", "name": "Ada"}}


def test_unknown_enum_value_is_an_error() -> None:
    result, errors = complete("{ me { role } }", {"me": {"role": "ROOT"}})
    assert result == {"me": {"role": None}}
    assert errors[0]["path"] == ["me", "role"]


def test_skip_and_include_follow_variables() -> None:
    query = "query($a: Boolean!) { me { id @skip(if: $a) name @include(if: $a) } }"
    data = {"me": {"id": "1", "name": "Ada"}}
    assert complete(query, data, {"a": True})[0] == {"me": {"name": "Ada"}}
    assert complete(query, data, {"a": False})[0] == {"me": {"id": "1"}}
