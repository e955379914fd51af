"""Every subgraph, called directly, refuses fragment bombs in bounded time with a clear code
(they run in this test's event loop, so a slow check would also stall the test itself)."""

import time

import httpx

from common.graphql.schema import MAX_SELECTIONS
from tests.hostile_documents import Bomb, bomb_family
from tests.support import error_codes


def _bombs() -> list[Bomb]:
    # At the root, and under `_service` (every federation subgraph has it).
    return bomb_family() + bomb_family("_Service", "sdl", "_service")


async def test_subgraphs_refuse_fragment_bombs_quickly(
    subgraph_urls: dict[str, str], http: httpx.AsyncClient
) -> None:
    for name, url in subgraph_urls.items():
        for bomb in _bombs():
            started = time.perf_counter()
            response = await http.post(f"{url}/graphql", json={"query": bomb.query})
            elapsed = time.perf_counter() - started
            codes = error_codes(response.json())
            if bomb.expanded_selections > MAX_SELECTIONS:
                assert codes == ["MAX_RECURSIVE_SELECTIONS_LIMIT"], (name, bomb, codes)
            else:
                assert codes == [], (name, bomb, response.text[:300])
            assert elapsed < 2.0, (name, bomb, elapsed)  # milliseconds in practice
