"""`@override(label:)`: the labels Apollo's composition accepts, and the error for the rest."""

import pytest

from router.composition import SubgraphInput, compose

from .support import DEFAULT_URL, compose_errors

FED27 = (
    'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7",'
    ' import: ["@key", "@override"])\n'
)
OWNER = FED27 + 'type Query { t: T } type T @key(fields: "id") { id: ID! x: Int }'


def _taker(label: str) -> str:
    escaped = label.replace("\\", "\\\\").replace('"', '\\"')
    return (
        FED27
        + f'type T @key(fields: "id") {{ id: ID! x: Int @override(from: "a", label: "{escaped}") }}'
    )


@pytest.mark.parametrize(
    "label",
    [
        "percent(150)",
        "percent(100.5)",
        "percent(5.123456789)",
        "percent(-1)",
        "percent()",
        "1abc",
        "my label",
        "_x",
        "percent(50",
        "café",
    ],
)
def test_invalid_label_is_refused(label: str) -> None:
    (err,) = compose_errors(("a", OWNER), ("b", _taker(label)))
    assert err.code == "OVERRIDE_LABEL_INVALID"
    assert err.message == (
        f'Invalid @override label "{label}" on field "T.x" on subgraph "b": labels must start'
        " with a letter and after that may contain alphanumerics, underscores, minuses,"
        " colons, periods, or slashes. Alternatively, labels may be of the form"
        ' "percent(x)" where x is a float between 0-100 inclusive.'
    )
    assert (err.subgraphs, err.coordinate) == (("b",), "T.x")
    assert err.hint


@pytest.mark.parametrize(
    "label",
    [
        "percent(0)",
        "percent(100)",
        "percent(50)",
        "percent(0.5)",
        "percent(12.12345678)",
        "my-label",
        "team:migration.v2/step_1",
        "a",
    ],
)
def test_valid_label_composes_with_both_joins(label: str) -> None:
    result = compose(
        [
            SubgraphInput("a", DEFAULT_URL.format(name="a"), OWNER),
            SubgraphInput("b", DEFAULT_URL.format(name="b"), _taker(label)),
        ]
    )
    assert result.errors == []
    assert result.supergraph_sdl is not None
    assert (
        f'x: Int @join__field(graph: A, overrideLabel: "{label}")'
        f' @join__field(graph: B, override: "a", overrideLabel: "{label}")'
    ) in result.supergraph_sdl


def test_empty_label_is_no_label() -> None:
    result = compose(
        [
            SubgraphInput("a", DEFAULT_URL.format(name="a"), OWNER),
            SubgraphInput("b", DEFAULT_URL.format(name="b"), _taker("")),
        ]
    )
    assert result.errors == []
    assert result.supergraph_sdl is not None
    assert 'x: Int @join__field(graph: B, override: "a")\n' in result.supergraph_sdl
