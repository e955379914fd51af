"""The dev run's demo data: every seed runs on empty schemas, twice, and makes sense."""

from __future__ import annotations

import asyncio
from pathlib import Path

from common.db import migrations
from common.db.provisioning import provision
from common.infra.ports import free_port
from common.infra.postgres import PostgresServer
from common.settings import Settings
from lms import services
from tests.conftest import ADMIN_PASSWORD


async def test_seeds_are_idempotent_and_consistent(tmp_path: Path, settings: Settings) -> None:
    import dataclasses

    with PostgresServer(tmp_path / "pg", free_port(), password=ADMIN_PASSWORD, fast=True) as pg:
        isolated = dataclasses.replace(settings, pg_port=pg.port)
        names = services.available_services()
        await provision(isolated, names)
        for name in names:
            await asyncio.to_thread(migrations.upgrade, isolated, name)
        first = [line for name in names for line in await services.seed(name, isolated)]
        again = [line for name in names for line in await services.seed(name, isolated)]
    assert any("demo courses" in line for line in first)
    assert any("demo enrollments" in line for line in first)
    assert any("already present" in line for line in again)
