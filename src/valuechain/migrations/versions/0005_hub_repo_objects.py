"""hub: LFS objects per repo, so a sha256 alone no longer lets a commit reference another repo's blob

Revision ID: 0005_hub_repo_objects
Revises: 0004_gateway
Create Date: 2026-11-29 14:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_hub_repo_objects"
down_revision = "0004_gateway"
branch_labels = None
depends_on = None

_BACKFILL = """
INSERT INTO hub_repo_objects (repo_id, sha256, size, added_by, created_at)
SELECT c.repo_id, f.sha256, MAX(f.size), MIN(c.author), MIN(c.created_at)
FROM hub_commit_files f JOIN hub_commits c ON c.id = f.commit_id
WHERE f.is_lfs = :is_lfs
GROUP BY c.repo_id, f.sha256
"""


def upgrade() -> None:
    op.create_table(
        "hub_repo_objects",
        sa.Column("repo_id", sa.String(length=40), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("added_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["repo_id"],
            ["hub_repos.id"],
            name=op.f("fk_hub_repo_objects_repo_id_hub_repos"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("repo_id", "sha256", name=op.f("pk_hub_repo_objects")),
    )
    with op.batch_alter_table("hub_repo_objects", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_hub_repo_objects_sha256"), ["sha256"], unique=False)
    # Objects already committed to a repo stay referable by it (and by whoever can read it).
    op.get_bind().execute(sa.text(_BACKFILL), {"is_lfs": True})


def downgrade() -> None:
    with op.batch_alter_table("hub_repo_objects", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hub_repo_objects_sha256"))
    op.drop_table("hub_repo_objects")
