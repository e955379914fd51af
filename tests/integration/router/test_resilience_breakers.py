"""Circuit breakers (`traffic_shaping.*.circuit_breaker`) with real servers: a subgraph killed
under load opens its circuit, the router stops calling it and still answers the rest of the
graph; restarted, the circuit closes by itself. `/health` and `/metrics` show the states."""

import asyncio
from typing import Any

from router import native
from tests.integration.router.resilience_world import World, resilience_world
from tests.support import error_codes, eventually

# products, then reviews, then users (the one killed) for the authors' nullable emails.
MIXED = "{ topProduct { name reviews { body author { email } } } }"


def _answer(*emails: str | None) -> dict[str, Any]:
    reviews = [
        {"body": body, "author": {"email": email}}
        for body, email in zip(("Comfy", "Wobbly"), emails, strict=True)
    ]
    return {"topProduct": {"name": "Chair", "reviews": reviews}}


EMAILS = [["topProduct", "reviews", index, "author", "email"] for index in range(2)]
UP = _answer("ada@example.com", "alan@example.com")
DOWN = _answer(None, None)
MINIMUM_REQUESTS = 4
OPEN_FOR = 5.0
BREAKER = {
    "subgraphs": {
        "users": {
            "circuit_breaker": {
                "window": "60s",
                "minimum_requests": MINIMUM_REQUESTS,
                "failure_rate": 0.5,
                "open_for": OPEN_FOR,
            }
        }
    }
}
LOAD = 3  # queries in flight together


async def _load(world: World, stop: asyncio.Event, answers: list[dict[str, Any]]) -> None:
    while not stop.is_set():
        answers.append(await world.query(MIXED))


async def _circuit(world: World, subgraph: str, state: str) -> dict[str, Any] | None:
    health = await world.health()
    return health if health["subgraphs"][subgraph]["circuit"] == state else None


async def test_a_killed_subgraph_opens_its_circuit_and_it_closes_when_back() -> None:
    async with resilience_world(BREAKER) as world:
        users = world.proxies["users"]
        assert await world.query(MIXED) == {"data": UP}
        assert await world.health() == {
            "status": "ok",
            "supergraph": (await world.health())["supergraph"],
            "subgraphs": {
                "products": {"circuit": "disabled"},
                "reviews": {"circuit": "disabled"},
                "users": {"circuit": "closed"},
            },
            "execution": native.in_use(),
        }
        opened_before = await world.metric(
            "router_circuit_transitions_total", subgraph="users", state="open"
        )

        stop, answers = asyncio.Event(), list[dict[str, Any]]()
        load = [asyncio.create_task(_load(world, stop, answers)) for _ in range(LOAD)]
        await eventually(lambda: len(answers) >= 3)
        await world.kill("users")
        succeeded = users.requests  # every call before the kill was answered
        health = await eventually(lambda: _circuit(world, "users", "open"))
        stop.set()
        await asyncio.gather(*load)

        # Opened once failures reached the configured share of the window (each failure may
        # be two calls: a reused connection that dies is tried once more on a new one).
        failures_needed = max(MINIMUM_REQUESTS - succeeded, succeeded)
        assert users.requests - succeeded <= 2 * (failures_needed + LOAD)
        assert health["status"] == "degraded"
        assert await world.metric("router_circuit_state", subgraph="users") == 2
        assert (
            await world.metric("router_circuit_transitions_total", subgraph="users", state="open")
            == opened_before + 1
        )

        # Open: the router answers at once without calling it; the other subgraphs' fields still come.
        calls = users.requests
        refused = 0
        for _ in range(20):
            body = await world.query(MIXED)
            assert body["data"] == DOWN
            # one error on each email the users fetch would have filled
            assert [e["path"] for e in body["errors"]] == EMAILS
            refused += error_codes(body) == 2 * ["SUBGRAPH_CIRCUIT_OPEN"]
        assert refused >= 19  # one half-open probe at most, if open_for passed meanwhile
        assert users.requests - calls <= 2 * (20 - refused)

        # Back: the next probe after open_for closes the circuit, with no one's help.
        await world.start("users")

        async def closed() -> dict[str, Any] | None:
            await world.query(MIXED)
            return await _circuit(world, "users", "closed")

        health = await eventually(closed, within=OPEN_FOR + 15)
        assert health["status"] == "ok"
        assert await world.query(MIXED) == {"data": UP}
        assert await world.metric("router_circuit_state", subgraph="users") == 0


async def test_an_answer_with_graphql_errors_is_no_failure_of_the_subgraph() -> None:
    """A subgraph answering errors in GraphQL is working: that never opens its circuit."""
    shaping = {"all": {"circuit_breaker": {"minimum_requests": 1, "failure_rate": 0.1}}}
    async with resilience_world(shaping) as world:
        world.subgraphs["products"].root["product"] = RuntimeError("no such shelf")
        for _ in range(5):
            body = await world.query('{ product(id: "p1") { name } }')
            assert body["data"] == {"product": None}
            assert [e["message"] for e in body["errors"]] == ["no such shelf"]
        assert (await world.health())["subgraphs"]["products"] == {"circuit": "closed"}
        assert world.proxies["products"].requests == 5
