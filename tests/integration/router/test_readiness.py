"""`/ready`: 200 while the supergraph is loaded and every subgraph's health check passes,
else 503 naming what is not ready; `router_ready` says the same. `/health` stays liveness."""

from typing import Any

from tests.integration.router.resilience_world import World, resilience_world
from tests.support import eventually


async def _ready(world: World, status: int) -> dict[str, Any] | None:
    response = await world.router.get("/ready")
    body: dict[str, Any] = response.json()
    return body if response.status_code == status else None


async def test_ready_follows_the_subgraphs_health_checks() -> None:
    async with resilience_world({}, readiness=True) as world:
        ready = await eventually(lambda: _ready(world, 200))
        assert ready["status"] == "ready"
        assert ready["subgraphs"] == {"products": "up", "reviews": "up", "users": "up"}
        assert await world.metric("router_ready") == 1

        await world.kill("users")
        unready = await eventually(lambda: _ready(world, 503))
        assert unready["status"] == "unavailable"
        assert unready["subgraphs"]["products"] == "up"
        assert unready["subgraphs"]["users"].startswith("unreachable")
        assert await world.metric("router_ready") == 0
        assert (await world.router.get("/health")).status_code == 200  # alive all the same

        await world.start("users")
        await eventually(lambda: _ready(world, 200))
        assert await world.metric("router_ready") == 1


async def test_without_subgraph_checks_a_loaded_supergraph_is_ready() -> None:
    async with resilience_world({}, readiness=False) as world:
        await world.kill("users")
        ready = await _ready(world, 200)
        assert ready is not None
        assert ready == {"status": "ready", "supergraph": ready["supergraph"]}
        assert world.proxies["users"].requests == 0  # never asked
