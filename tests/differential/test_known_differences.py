"""Each known difference from Apollo Gateway, reproduced: where Apollo is wrong the router's
right answer is asserted; where the spec leaves a choice, that the gateways still differ so."""

import pytest

from tests.differential.cases import APOLLO_WRONG, BOTH_RIGHT, Known
from tests.differential.compare import differences, printout
from tests.differential.harness import Gateways
from tests.differential.subgraph import DOWN


async def _reproduce(gateways: dict[str, Gateways], known: Known) -> None:
    on = gateways[known.world]
    if known.down:
        DOWN.add((known.world, known.down))
    try:
        ours, theirs = await on.ask(known.query, known.variables)
        shown = printout(known.world, -1, known.query, known.variables, ours, theirs)
        assert differences(ours, theirs), f"no longer differs: drop '{known.name}'\n{shown}"
        assert known.matches(ours, theirs, known.query, on.world), shown
        assert known.router_right(ours), shown
    finally:
        DOWN.discard((known.world, known.down or ""))


@pytest.mark.parametrize("known", APOLLO_WRONG, ids=lambda known: known.name)
async def test_apollo_is_wrong_and_the_router_right(
    gateways: dict[str, Gateways], known: Known
) -> None:
    await _reproduce(gateways, known)


@pytest.mark.parametrize("known", BOTH_RIGHT, ids=lambda known: known.name)
async def test_both_right(gateways: dict[str, Gateways], known: Known) -> None:
    await _reproduce(gateways, known)


async def test_missing_value_errors_are_in_errors(gateways: dict[str, Gateways]) -> None:
    """Movie-4 is not in the ratings subgraph, so its non-null averageOf has no value: Apollo
    Gateway reports that only in `extensions.valueCompletion`, a client reading `errors` sees
    nothing; the router puts the error in `errors`, as the spec says. (Compared answers count
    Apollo's valueCompletion entries as errors, see `compare.normalise`.)"""
    ours, theirs = await gateways["media"].ask('{ item(id: "Movie-4") { averageOf } }', {})
    assert theirs.body["data"] == ours.body["data"] == {"item": None}
    assert "errors" not in theirs.body
    assert theirs.body["extensions"]["valueCompletion"][0]["path"] == ["item", "averageOf"]
    assert ours.status == 200
    assert [e["path"] for e in ours.body["errors"]] == [["item", "averageOf"]]
    assert ours.body["errors"][0]["message"].startswith("Cannot return null")


async def test_requires_input_error_is_at_the_field_name(gateways: dict[str, Gateways]) -> None:
    """Item.cost requires price(discount: 5), fetched under an internal alias; its error is
    reported at `price`, as Apollo does, never at the alias the client did not write."""
    ours, theirs = await gateways["chain"].ask("{ orders { lines { item { cost } } } }", {})
    paths = [e["path"] for e in ours.body["errors"]]
    assert paths == [e["path"] for e in theirs.body["errors"]]
    assert paths
    assert all(path[-2:] == ["item", "price"] for path in paths)
    assert ours.body["data"] == theirs.body["data"]
