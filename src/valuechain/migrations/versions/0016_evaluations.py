"""compliance: evaluation runs over a model's channels (issue 13 point 6)

Revision ID: 0016_evaluations
Revises: 0015_procrastinate
Create Date: 2026-11-29 21:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016_evaluations"
down_revision = "0015_procrastinate"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "compliance_evaluations",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("org_id", sa.String(length=40), nullable=False),
        sa.Column("model_org_id", sa.String(length=40), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("suite", sa.String(length=64), nullable=False),
        sa.Column("suite_sha256", sa.String(length=64), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("correct", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("run_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compliance_evaluations")),
    )
    op.create_index(op.f("ix_compliance_evaluations_org_id"), "compliance_evaluations", ["org_id"])
    op.create_index(
        op.f("ix_compliance_evaluations_model_org_id"), "compliance_evaluations", ["model_org_id"]
    )
    op.create_index(op.f("ix_compliance_evaluations_model"), "compliance_evaluations", ["model"])


def downgrade() -> None:
    op.drop_index(op.f("ix_compliance_evaluations_model"), table_name="compliance_evaluations")
    op.drop_index(op.f("ix_compliance_evaluations_model_org_id"), table_name="compliance_evaluations")
    op.drop_index(op.f("ix_compliance_evaluations_org_id"), table_name="compliance_evaluations")
    op.drop_table("compliance_evaluations")
