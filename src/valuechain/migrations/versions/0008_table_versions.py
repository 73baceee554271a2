"""core: table versions, read by every replica to drop its access cache at once (issue 17)

Revision ID: 0008_table_versions
Revises: 0007_hub_repo_redirects
Create Date: 2026-11-29 18:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_table_versions"
down_revision = "0007_hub_repo_redirects"
branch_labels = None
depends_on = None

# The tables whose change must reach every gateway process at once: what the access cache is built from
# (gateway.access.ACCESS_TABLES) and the misuse rules (a test holds them equal).
WATCHED = (
    "api_keys",
    "ledger_accounts",
    "market_entitlements",
    "model_versions",
    "models",
    "offers",
    "organizations",
    "oversight_rules",
    "oversight_suspensions",
    "runtime_backends",
)


def upgrade() -> None:
    table = op.create_table(
        "table_versions",
        sa.Column("table_name", sa.String(length=64), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("table_name", name=op.f("pk_table_versions")),
    )
    op.bulk_insert(table, [{"table_name": name, "version": 0} for name in WATCHED])


def downgrade() -> None:
    op.drop_table("table_versions")
