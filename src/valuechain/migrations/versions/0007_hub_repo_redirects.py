"""hub: old names of moved repos, so their URLs keep working (issue 15)

Revision ID: 0007_hub_repo_redirects
Revises: 0006_consent_registry_claims
Create Date: 2026-11-29 17:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_hub_repo_redirects"
down_revision = "0006_consent_registry_claims"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hub_repo_redirects",
        sa.Column("namespace", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("repo_id", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["repo_id"],
            ["hub_repos.id"],
            name=op.f("fk_hub_repo_redirects_repo_id_hub_repos"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("namespace", "name", name=op.f("pk_hub_repo_redirects")),
    )
    with op.batch_alter_table("hub_repo_redirects", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_hub_repo_redirects_repo_id"), ["repo_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("hub_repo_redirects", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hub_repo_redirects_repo_id"))
    op.drop_table("hub_repo_redirects")
