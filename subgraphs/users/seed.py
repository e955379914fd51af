"""Demo accounts for the dev run (idempotent): an admin, an instructor and two students."""

from __future__ import annotations

from sqlalchemy import select

from common import clock
from common.auth import Role
from common.db import create_engine, service_dsn, session_factory
from common.demo import DEMO_PASSWORD, DEMO_USERS, demo_user_id
from common.settings import Settings
from subgraphs.users.models import UserRow
from subgraphs.users.passwords import hash_password


async def seed(settings: Settings) -> list[str]:
    engine = create_engine(service_dsn(settings, "users"), pool_size=1)
    try:
        async with session_factory(engine).begin() as session:
            existing = set(await session.scalars(select(UserRow.email)))
            for email, name, role in DEMO_USERS:
                if email in existing:
                    continue
                now = clock.now()
                session.add(
                    UserRow(
                        id=demo_user_id(email),
                        email=email,
                        password_hash=await hash_password(DEMO_PASSWORD),
                        name=name,
                        roles=sorted({Role.STUDENT.value, role.value}),
                        preferences={},
                        created_at=now,
                        updated_at=now,
                        email_verified_at=now,
                    )
                )
    finally:
        await engine.dispose()
    accounts = ", ".join(email for email, _, _ in DEMO_USERS)
    return [f"demo accounts: {accounts} (password {DEMO_PASSWORD})"]
