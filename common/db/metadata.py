"""Schema-scoped SQLAlchemy metadata with stable constraint names (so migrations diff cleanly)."""

import uuid
from datetime import datetime

from sqlalchemy import DateTime, MetaData, func
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def schema_metadata(schema: str) -> MetaData:
    return MetaData(schema=schema, naming_convention=NAMING_CONVENTION)


def uuid_primary_key() -> Mapped[uuid.UUID]:
    """An `id` column: a UUID made by the application (so it is known before the insert)."""
    return mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)


def created_timestamp() -> Mapped[datetime]:
    """A timestamp set by the database when the row is inserted."""
    return mapped_column(DateTime(timezone=True), server_default=func.now())
