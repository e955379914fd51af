"""A users subgraph of a test's own, configured by environment variables the session's does
not have, behind a router of its own (the other subgraphs are the session's)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import pytest

from common.infra.ports import free_port
from common.settings import Settings
from subgraphs.users import app as users_app
from tests.clock import USERS_CLOCK
from tests.conftest import serve_router
from tests.support import serve


@contextlib.asynccontextmanager
async def users_behind_router(
    subgraph_urls: dict[str, str],
    settings: Settings,
    trusted_proxies: tuple[str, ...],
    **environment: str,
) -> AsyncIterator[str]:
    """The router's GraphQL URL; it believes the X-Forwarded-For of ``trusted_proxies``
    (addresses or networks) only."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in environment.items():
            patch.setenv(name, value)
        users = users_app.create_app(Settings.from_env(), clock=USERS_CLOCK)
    async with serve(users, free_port()) as users_url:
        urls = {**subgraph_urls, "users": users_url}
        async with serve_router(urls, settings, trusted_proxies=trusted_proxies) as router_url:
            yield f"{router_url}/graphql"
