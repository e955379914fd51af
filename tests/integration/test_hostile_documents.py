"""Every subgraph, called directly, refuses fragment bombs with a clear code within the
client's deadline (bench/hostile_documents.py measures the router's cost of the same family)."""

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
            response = await http.post(f"{url}/graphql", json={"query": bomb.query})
            codes = error_codes(response.json())
            if bomb.expanded_selections > MAX_SELECTIONS:
                assert codes == ["MAX_RECURSIVE_SELECTIONS_LIMIT"], (name, bomb, codes)
            else:
                assert codes == [], (name, bomb, response.text[:300])
