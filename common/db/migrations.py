"""Alembic per subgraph: scripts in subgraphs/<name>/migrations, version table in its schema.

Each subgraph's env.py is one call to :func:`run_env`; migrations run as the subgraph's own
role, so everything they create is owned by it and invisible to the other roles.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from common.db.engine import service_dsn
from common.settings import Settings

SUBGRAPHS_DIR = Path(__file__).resolve().parents[2] / "subgraphs"


def alembic_config(settings: Settings, service: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(SUBGRAPHS_DIR / service / "migrations"))
    config.set_main_option("sqlalchemy.url", service_dsn(settings, service))
    config.attributes["service"] = service
    return config


def upgrade(settings: Settings, service: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(settings, service), revision)


def downgrade(settings: Settings, service: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(settings, service), revision)


VERSION_TABLE = "alembic_version"


def migration_engine(url: str) -> AsyncEngine:
    """An engine whose search path leaves out the subgraph's schema.

    PostgreSQL omits the schema of anything on the search path when it describes foreign
    keys, which would make Alembic see every schema-qualified model as changed.
    """
    return create_async_engine(
        url,
        poolclass=pool.NullPool,
        connect_args={"server_settings": {"search_path": "extensions"}},
    )


def context_options(metadata: MetaData) -> dict[str, Any]:
    """Options for Alembic's MigrationContext: autogenerate sees only the subgraph's schema."""
    schema = metadata.schema
    # tables the service makes at run time (monthly partitions), matched by name
    unmanaged = re.compile(metadata.info.get("unmanaged_tables", r"(?!)"))

    def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
        if type_ == "schema":
            return name == schema
        if type_ == "table" and name is not None and unmanaged.fullmatch(name):
            return False
        return not (type_ == "table" and name == VERSION_TABLE)

    return {
        "target_metadata": metadata,
        "version_table_schema": schema,
        "include_schemas": True,
        "include_name": include_name,
    }


def run_env(metadata: MetaData) -> None:
    """Body of every subgraph's migrations/env.py (online mode only), through Alembic's
    `context`, which stands for the migration environment running it."""
    url = context.config.get_main_option("sqlalchemy.url")
    assert url is not None, "sqlalchemy.url is set by alembic_config"

    def migrate(connection: Connection) -> None:
        context.configure(connection=connection, **context_options(metadata))
        with context.begin_transaction():
            context.run_migrations()

    async def run() -> None:
        engine = migration_engine(url)
        try:
            async with engine.connect() as connection:
                await connection.run_sync(migrate)
                await connection.commit()
        finally:
            await engine.dispose()

    asyncio.run(run())
