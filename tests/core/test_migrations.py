"""Migrations go upgrade → downgrade → upgrade on both databases and match the table definitions."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from valuechain.core import migrate
from valuechain.core.db import Database
from valuechain.migrations.tables import is_ours, metadata


def _roundtrip(db: Database) -> None:
    migrate.downgrade(db, "base")
    assert migrate.current(db) is None
    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}  # procrastinate's too
    migrate.upgrade(db)
    assert migrate.current(db) is not None
    with db.engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": False, "include_name": is_ours}), metadata
        )
    assert diff == [], diff


def test_upgrade_downgrade_upgrade(db: Database) -> None:
    _roundtrip(db)
