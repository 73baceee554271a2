"""procrastinate: the schema of the job-queue library that delivers fine-tuning jobs on PostgreSQL (issue 12)

On SQLite nothing: the embedded worker polls ``finetune_jobs``. The schema is procrastinate's own
(``procrastinate.schema.SchemaManager.get_schema``) for the exact version in constraints.txt; a later
version of the library comes with a migration here applying its ``sql/migrations`` files.

Revision ID: 0015_procrastinate
Revises: 0014_channels
Create Date: 2026-11-29 20:00:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0015_procrastinate"
down_revision = "0014_channels"
branch_labels = None
depends_on = None

#: every object the schema creates is named procrastinate_…: tables (with their triggers), functions, types
_DROP = """
DO $$
DECLARE r record;
BEGIN
    FOR r IN SELECT tablename FROM pg_tables
             WHERE schemaname = current_schema() AND tablename LIKE 'procrastinate\\_%' LOOP
        EXECUTE 'DROP TABLE IF EXISTS ' || quote_ident(r.tablename) || ' CASCADE';
    END LOOP;
    FOR r IN SELECT p.oid::regprocedure AS signature FROM pg_proc p
             JOIN pg_namespace n ON n.oid = p.pronamespace
             WHERE n.nspname = current_schema() AND p.proname LIKE 'procrastinate\\_%' LOOP
        EXECUTE 'DROP FUNCTION IF EXISTS ' || r.signature || ' CASCADE';
    END LOOP;
    FOR r IN SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
             WHERE n.nspname = current_schema() AND t.typname LIKE 'procrastinate\\_%'
               AND t.typtype IN ('e', 'c') LOOP
        EXECUTE 'DROP TYPE IF EXISTS ' || quote_ident(r.typname) || ' CASCADE';
    END LOOP;
END $$;
"""


def _raw(sql: str) -> None:
    """Run SQL text as is (no bind parameters: the schema holds ``%`` and ``:``), multi-statement."""
    op.get_bind().connection.driver_connection.execute(sql)  # type: ignore[union-attr]


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    from procrastinate.schema import SchemaManager

    _raw(SchemaManager.get_schema())


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    _raw(_DROP)
