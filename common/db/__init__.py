"""Database access shared by every subgraph: engines, sessions, schemas, roles, migrations."""

from common.db.engine import create_engine, service_dsn, session_factory
from common.db.metadata import schema_metadata

__all__ = ["create_engine", "schema_metadata", "service_dsn", "session_factory"]
