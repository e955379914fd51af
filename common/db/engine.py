"""Async SQLAlchemy engines and sessions, one pool per service connecting as its own role."""

from __future__ import annotations

from urllib.parse import quote

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine as _create_async_engine

from common.settings import Settings


def role_name(service: str) -> str:
    return f"svc_{service}"


def dsn(settings: Settings, user: str, password: str, *, driver: str = "postgresql+asyncpg") -> str:
    credentials = f"{quote(user, safe='')}:{quote(password, safe='')}"
    address = f"{settings.pg_host}:{settings.pg_port}/{settings.pg_database}"
    return f"{driver}://{credentials}@{address}"


def service_dsn(settings: Settings, service: str) -> str:
    return dsn(settings, role_name(service), settings.pg_password(service))


def admin_dsn(settings: Settings, *, database: str | None = None) -> str:
    url = dsn(
        settings, settings.pg_admin_user, settings.secret("pg_admin_password"), driver="postgresql"
    )
    return url if database is None else url.rsplit("/", 1)[0] + f"/{database}"


def create_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    return _create_async_engine(
        url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True
    )


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
