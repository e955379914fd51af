"""@tag, @inaccessible, authorization directives, renamed imports and @composeDirective."""

import pytest

from .support import assert_same_supergraph, compose_ok, expected_supergraph, load_subgraphs


@pytest.mark.parametrize(
    "fixture",
    [
        "directives_authorization",
        "directives_order",
        "directives_renamed_imports",
        "compose_directive",
        "directives_cost",
        "directives_cost_mixed",
        "directives_context",
        "directives_authorization_merge",
        "directives_authorization_three",
    ],
)
def test_fixture_composes_like_apollo(fixture: str) -> None:
    supergraph = compose_ok(load_subgraphs(fixture))
    assert_same_supergraph(supergraph, expected_supergraph(fixture))


def test_security_features_are_linked_for_security() -> None:
    supergraph = compose_ok(load_subgraphs("directives_authorization"))
    for spec in ("inaccessible/v0.2", "authenticated/v0.1", "requiresScopes/v0.1", "policy/v0.1"):
        assert f'@link(url: "https://specs.apollo.dev/{spec}", for: SECURITY)' in supergraph
    assert '@link(url: "https://specs.apollo.dev/tag/v0.3")' in supergraph


def test_renamed_import_keeps_its_local_name() -> None:
    supergraph = compose_ok(load_subgraphs("directives_renamed_imports"))
    assert 'import: [{name: "@tag", as: "@label"}]' in supergraph
    assert '@label(name: "public")' in supergraph


def test_only_composed_custom_directives_survive() -> None:
    supergraph = compose_ok(load_subgraphs("compose_directive"))
    assert (
        '@link(url: "https://myspecs.dev/hello/v1.0", import: ["@hello", "@upper"])' in supergraph
    )
    assert "@notComposed" not in supergraph


def test_unused_features_are_not_linked() -> None:
    supergraph = compose_ok(load_subgraphs("merging_override"))
    assert "inaccessible" not in supergraph
    assert "@tag" not in supergraph


def test_context_arguments_move_into_join_field() -> None:
    supergraph = compose_ok(load_subgraphs("directives_context"))
    assert (
        'greeting: String @join__field(graph: A, contextArguments: [{context: "a__userCtx",'
        ' name: "locale", type: "String", selection: " { locale }"}])'
    ) in supergraph
    assert '@context(name: "a__userCtx")' in supergraph


def test_authorization_requirements_of_all_subgraphs_hold() -> None:
    supergraph = compose_ok(load_subgraphs("directives_authorization_merge"))
    assert '@requiresScopes(scopes: [["b", "c"], ["a", "b", "x"]])' in supergraph
