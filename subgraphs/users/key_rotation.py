"""``lms rotate-mfa-key``: every TOTP secret sealed again with the current key.

After LMS_MFA_ENCRYPTION_KEY changes (the old key moved to
LMS_MFA_PREVIOUS_ENCRYPTION_KEYS), secrets are re-sealed as their owners sign in; this does
the rest at once, in batches, each its own transaction, so the old key can be dropped.
"""

from __future__ import annotations

from common.db import create_engine, service_dsn, session_factory
from common.settings import Settings
from subgraphs.users.mfa import Factors
from subgraphs.users.sealing import SecretBox


async def reseal_mfa_secrets(settings: Settings, batch: int = 500) -> int:
    """How many secrets were sealed again."""
    engine = create_engine(service_dsn(settings, "users"), pool_size=1)
    factors = Factors(SecretBox.of(settings))
    sessions = session_factory(engine)
    total = 0
    try:
        while True:
            async with sessions.begin() as session:
                resealed = await factors.reseal_some(session, batch)
            total += resealed
            if resealed < batch:
                return total
    finally:
        await engine.dispose()
