"""Large documents are compiled (parsed, validated, planned) on a worker thread: while one
compiles, the event loop keeps running other tasks. Short ones compile in place."""

import asyncio

from router.gateway.gateway import OFF_LOOP_QUERY_CHARS, Gateway, GraphQLResponse
from router.planning.nodes import QueryPlan
from router.supergraph.loader import load_supergraph
from tests.unit.router.supergraphs import local_graphs, supergraph

SUPERGRAPH = supergraph(
    local_graphs("products"),
    """
type Product @join__type(graph: PRODUCTS, key: "id") {
  id: ID!
  name: String
}

type Query @join__type(graph: PRODUCTS) {
  topProduct: Product @join__field(graph: PRODUCTS)
}
""",
)


async def _turns_of_others_while(gateway: Gateway, query: str) -> tuple[int, object]:
    """How many times another task ran while `gateway.ready(query)` was awaited."""
    turns = 0
    done = False

    async def other() -> None:
        nonlocal turns
        while not done:
            turns += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(other())
    await asyncio.sleep(0)  # the other task is running
    before = turns
    result = await gateway.ready(query, None)
    done = True
    await task
    return turns - before, result


async def test_a_large_document_compiles_while_the_loop_serves_others() -> None:
    gateway = Gateway(load_supergraph(SUPERGRAPH), None)  # type: ignore[arg-type]
    large = "{ topProduct { id name } }\n# " + "a comment long enough " * 100
    assert len(large) >= OFF_LOOP_QUERY_CHARS
    turns, prepared = await _turns_of_others_while(gateway, large)
    assert turns > 0
    assert isinstance(getattr(prepared, "plan", None), QueryPlan)
    # compiled once: the same document is answered from the cache, in place
    assert (await _turns_of_others_while(gateway, large)) == (0, prepared)


async def test_a_short_document_compiles_in_place() -> None:
    gateway = Gateway(load_supergraph(SUPERGRAPH), None)  # type: ignore[arg-type]
    turns, prepared = await _turns_of_others_while(gateway, "{ topProduct { id } }")
    assert turns == 0
    assert not isinstance(prepared, GraphQLResponse)
