"""accounts, gateway: keys restricted to offers (a white-label reseller's customer key), and a revoked reseller
agreement reaches every gateway at once (issue 11)

Revision ID: 0017_reseller_keys
Revises: 0016_evaluations
Create Date: 2026-11-29 23:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017_reseller_keys"
down_revision = "0016_evaluations"
branch_labels = None
depends_on = None

# gateway.access.ACCESS_TABLES gained it: revoking an agreement stops the white-label offers made under it
WATCHED = "registry_agreements"


def upgrade() -> None:
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("offer_ids", sa.JSON(), nullable=True))
    versions = sa.table(
        "table_versions", sa.column("table_name", sa.String), sa.column("version", sa.BigInteger)
    )
    op.bulk_insert(versions, [{"table_name": WATCHED, "version": 0}])


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM table_versions WHERE table_name = :name").bindparams(name=WATCHED))
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_column("offer_ids")
