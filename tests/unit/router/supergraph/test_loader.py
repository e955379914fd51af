"""Reading supergraph SDL into the typed model and deriving the API schema."""

from pathlib import Path

import pytest
from graphql import print_schema

from router.supergraph import SupergraphError, TypeJoin, load_supergraph
from tests.unit.router.supergraphs import local_graphs, supergraph

TYPES = """
interface Account
  @join__type(graph: A, key: "id")
  @join__type(graph: B, key: "id", isInterfaceObject: true)
{
  id: ID!
  nickname: String @join__field(graph: B)
}

type Admin implements Account
  @join__implements(graph: A, interface: "Account")
  @join__type(graph: A, key: "id")
  @join__type(graph: B, key: "id", resolvable: false)
{
  id: ID!
  level: Level @join__field(graph: A)
  nickname: String @join__field
  hidden: String @inaccessible @join__field(graph: A)
  price: Int @join__field(graph: A, external: true) @join__field(graph: B)
  tax: Int @join__field(graph: A, requires: "price")
  label: String @join__field(graph: B, override: "a")
}

enum Level
  @join__type(graph: A)
{
  LOW @join__enumValue(graph: A)
  HIGH @join__enumValue(graph: A)
  SECRET @join__enumValue(graph: A) @inaccessible
}

type Query
  @join__type(graph: A)
  @join__type(graph: B)
{
  accounts: [Account] @join__field(graph: A)
  result: Result @join__field(graph: A)
}

union Result
  @join__type(graph: A)
  @join__unionMember(graph: A, member: "Admin")
 = Admin

type Secret @inaccessible
  @join__type(graph: A)
{
  id: ID!
}
"""

SDL = supergraph(local_graphs("a", "b"), TYPES, inaccessible=True)


def test_subgraphs_and_urls() -> None:
    model = load_supergraph(SDL)
    assert sorted(model.subgraphs) == ["a", "b"]
    assert model.subgraphs["a"].url == "http://a.local/graphql"


def test_keys_resolvable_and_interface_objects() -> None:
    model = load_supergraph(SDL)
    admin = model.types["Admin"]
    assert TypeJoin("b", key="id", resolvable=False) in admin.joins
    assert admin.keys("a") == ["id"]
    assert admin.keys("b") == []
    assert model.types["Account"].is_interface_object("b")
    assert model.types["Account"].possible == {None: ("Admin",), "a": ("Admin",), "b": ()}


def test_field_owners() -> None:
    model = load_supergraph(SDL)
    assert model.field_graphs("Admin", "level") == {"a"}
    assert model.field_graphs("Admin", "id") == {"a", "b"}
    assert model.field_graphs("Admin", "nickname") == frozenset()
    assert model.field_graphs("Admin", "price") == {"b"}
    assert model.field_join("Admin", "tax", "a") is not None
    assert model.field_join("Admin", "tax", "a").requires == "price"  # type: ignore[union-attr]
    assert model.field_join("Admin", "label", "b").override == "a"  # type: ignore[union-attr]


def test_api_schema_strips_machinery_and_inaccessible_elements() -> None:
    printed = print_schema(load_supergraph(SDL).api_schema)
    assert "join__" not in printed
    assert "link" not in printed
    assert "hidden" not in printed
    assert "SECRET" not in printed
    assert "Secret" not in printed
    assert "inaccessible" not in printed
    assert "HIGH" in printed


def test_unsupported_security_feature_is_refused() -> None:
    link = '  @link(url: "https://specs.apollo.dev/authenticated/v0.2", for: SECURITY)'
    sdl = supergraph(local_graphs("a", "b"), TYPES, inaccessible=True, extra_links=link)
    with pytest.raises(SupergraphError, match=r"authenticated/v0.2 for SECURITY"):
        load_supergraph(sdl)


def test_unsupported_feature_without_purpose_is_accepted() -> None:
    link = '  @link(url: "https://specs.apollo.dev/custom/v1.0")'
    sdl = supergraph(local_graphs("a", "b"), TYPES, inaccessible=True, extra_links=link)
    assert load_supergraph(sdl).types["Admin"].kind == "object"


def test_link_import_without_a_name_is_refused() -> None:
    link = '  @link(url: "https://specs.apollo.dev/custom/v1.0", import: [{as: "@mine"}])'
    sdl = supergraph(local_graphs("a", "b"), TYPES, inaccessible=True, extra_links=link)
    with pytest.raises(SupergraphError, match=r"custom/v1.0.* imports an element without a name"):
        load_supergraph(sdl)


def test_not_a_supergraph() -> None:
    with pytest.raises(SupergraphError, match="not a supergraph"):
        load_supergraph("type Query { a: Int }")


def test_unparsable_sdl() -> None:
    with pytest.raises(SupergraphError, match="does not parse"):
        load_supergraph("type Query {")


def test_join_v05_supergraph_with_tag_and_cost_links() -> None:
    """Apollo composition output for federation 2.9 subgraphs using @tag, @cost, @listSize
    and @override (fixture kept byte for byte as composition printed it)."""
    sdl = (Path(__file__).parent / "fixtures" / "join_v05.graphql").read_text()
    model = load_supergraph(sdl)
    printed = print_schema(model.api_schema)
    assert "join__" not in printed
    assert "@cost" not in printed
    assert "@listSize" not in printed
    assert "rating: Int" in printed
    assert model.field_graphs("Product", "rating") == {"reviews"}


def test_contexts_and_contextual_arguments_are_read() -> None:
    fixture = (
        Path(__file__).parents[2]
        / "composition"
        / "fixtures"
        / "context_type_conditions"
        / "supergraph.graphql"
    )
    model = load_supergraph(fixture.read_text())
    assert model.contexts == {"units__owner": frozenset({"Track", "Program"})}
    [join] = model.types["Unit"].fields["label"]
    [argument] = join.context_arguments
    assert (argument.name, argument.type, argument.context) == ("lang", "String", "units__owner")
    assert argument.selection == " ... on Track { lang } ... on Program { language }"
    assert "lang" not in model.api_schema.type_map["Unit"].fields["label"].args  # type: ignore[attr-defined]
