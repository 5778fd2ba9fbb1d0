"""The migrations build exactly the schema the models describe, on either database."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from suanli.store import Database
from suanli.store.base import Base


def test_migrated_schema_matches_the_models(db: Database) -> None:
    with db.engine.connect() as connection:
        drift = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert drift == []
