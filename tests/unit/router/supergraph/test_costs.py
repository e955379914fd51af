"""`@cost`/`@listSize` read from a supergraph, under the names its `@link` gives them."""

from pathlib import Path

import pytest

from router.supergraph import SupergraphError, load_supergraph
from router.supergraph.costs import ListSize

FIXTURE = (Path(__file__).parent / "fixtures" / "join_v05.graphql").read_text()
COST_LINK = '@link(url: "https://specs.apollo.dev/cost/v0.1", import: ["@listSize"])'


def test_apollo_composed_supergraph() -> None:
    costs = load_supergraph(FIXTURE).costs
    assert costs.fields[("Product", "price")] == 3.0
    assert costs.list_sizes[("Query", "products")] == ListSize(assumed_size=10)


def test_renamed_by_the_link() -> None:
    renamed = (
        FIXTURE.replace(
            COST_LINK,
            '@link(url: "https://specs.apollo.dev/cost/v0.1", as: "weight",'
            ' import: [{name: "@listSize", as: "@size"}])',
        )
        .replace("@cost(", "@weight(")
        .replace("@listSize(", "@size(")
    )
    costs = load_supergraph(renamed).costs
    assert costs.fields[("Product", "price")] == 3.0
    assert costs.list_sizes[("Query", "products")].assumed_size == 10


def test_without_the_link_the_directives_mean_nothing() -> None:
    costs = load_supergraph(FIXTURE.replace(COST_LINK, "")).costs
    assert costs.fields == {}
    assert costs.list_sizes == {}


@pytest.mark.parametrize(
    ("before", "after", "message"),
    [
        ("@cost(weight: 3)", '@cost(weight: "heavy")', "not a number"),
        ("@cost(weight: 3)", "@cost", "no numeric weight"),
        ("@listSize(assumedSize: 10)", '@listSize(assumedSize: "ten")', "not an integer"),
        ("@listSize(assumedSize: 10)", "@listSize(slicingArguments: 3)", "not a list of names"),
    ],
)
def test_malformed_directives_are_refused(before: str, after: str, message: str) -> None:
    assert before in FIXTURE
    with pytest.raises(SupergraphError, match=message):
        load_supergraph(FIXTURE.replace(before, after))
