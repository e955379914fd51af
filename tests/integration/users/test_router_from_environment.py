"""`lms router serve` with no argument, as docker-compose and k8s run it: the supergraph,
router.yaml and every value in it come from the environment (their ConfigMaps), and so does
the Redis of the revocation list (LMS_REDIS_URL): a token whose sessions ended is refused by
that router at once."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import httpx

from common.infra.ports import free_port
from common.settings import Settings
from lms.dev import router_environment
from lms.services import available_services
from tests.accounts import register
from tests.cli.lms_process import ROOT, command, environment
from tests.integration.users.test_token_revocation import (
    LOGOUT_ALL,
    refused_at_router,
    works_at_router,
)
from tests.support import GraphQLClient, eventually


@contextlib.asynccontextmanager
async def router_run_by_its_command_alone(settings: Settings) -> AsyncIterator[str]:
    """The router's URL: `lms router serve`, everything else in its environment only."""
    port = free_port()
    variables = environment(
        **{
            **router_environment(settings, available_services()),
            "LMS_ROUTER_PORT": str(port),
            "APOLLO_ROUTER_SUPERGRAPH_PATH": str(ROOT / "schema" / "supergraph.graphql"),
            "APOLLO_ROUTER_CONFIG_PATH": str(ROOT / "router.yaml"),
        }
    )
    process = await asyncio.create_subprocess_exec(*command("router", "serve"), env=variables)
    url = f"http://127.0.0.1:{port}"

    async def healthy() -> bool:
        if process.returncode is not None:
            raise AssertionError(f"the router exited with status {process.returncode}")
        async with httpx.AsyncClient(timeout=1.0) as client:
            with contextlib.suppress(httpx.TransportError):
                return (await client.get(f"{url}/health")).status_code == 200
        return False

    try:
        await eventually(healthy, within=60.0)
        yield url
    finally:
        process.terminate()
        await process.wait()


async def test_the_router_run_by_its_command_alone_refuses_a_signed_out_token(
    users: GraphQLClient, migrated: Settings, http: httpx.AsyncClient
) -> None:
    async with router_run_by_its_command_alone(migrated) as url:
        deployed = GraphQLClient(http, f"{url}/graphql")
        learner = await register(users)
        await works_at_router(deployed, learner.access_token)
        await users.data(LOGOUT_ALL, {"t": learner.refresh_token})
        await refused_at_router(deployed, learner.access_token)
