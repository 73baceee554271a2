"""compliance: evidence, documentation fields, serious incidents and complaints (issue 13)

Revision ID: 0013_accountability
Revises: 0012_market_listings
Create Date: 2026-11-29 20:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_accountability"
down_revision = "0012_market_listings"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "compliance_evidence",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("org_id", sa.String(length=40), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("rule", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("signed_by", sa.String(length=200), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("covers", sa.String(length=64), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compliance_evidence")),
    )
    op.create_index(op.f("ix_compliance_evidence_org_id"), "compliance_evidence", ["org_id"])
    op.create_index(op.f("ix_compliance_evidence_subject"), "compliance_evidence", ["subject"])
    op.create_table(
        "compliance_incidents",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("org_id", sa.String(length=40), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("systemic_model", sa.Boolean(), nullable=False),
        sa.Column("aware_on", sa.Date(), nullable=False),
        sa.Column("resolved_on", sa.Date(), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("reports", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compliance_incidents")),
    )
    op.create_index(op.f("ix_compliance_incidents_org_id"), "compliance_incidents", ["org_id"])
    op.create_index(op.f("ix_compliance_incidents_subject"), "compliance_incidents", ["subject"])
    op.create_table(
        "compliance_complaints",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("routed_to", sa.JSON(), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("client_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compliance_complaints")),
    )
    op.create_index(op.f("ix_compliance_complaints_subject"), "compliance_complaints", ["subject"])
    op.create_index(op.f("ix_compliance_complaints_client_hash"), "compliance_complaints", ["client_hash"])
    op.create_index(op.f("ix_compliance_complaints_created_at"), "compliance_complaints", ["created_at"])

    op.create_table(
        "compliance_documentation",
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("field", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("org_id", sa.String(length=40), nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("model", "field", name=op.f("pk_compliance_documentation")),
    )
    op.create_index(op.f("ix_compliance_documentation_org_id"), "compliance_documentation", ["org_id"])

    op.create_table(
        "compliance_inspector_grants",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("inspector_org_id", sa.String(length=40), nullable=False),
        sa.Column("orgs", sa.JSON(), nullable=False),
        sa.Column("models", sa.JSON(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("granted_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compliance_inspector_grants")),
    )
    op.create_index(
        op.f("ix_compliance_inspector_grants_inspector_org_id"),
        "compliance_inspector_grants",
        ["inspector_org_id"],
    )


def downgrade() -> None:
    op.drop_table("compliance_inspector_grants")
    op.drop_table("compliance_documentation")
    op.drop_table("compliance_complaints")
    op.drop_table("compliance_incidents")
    op.drop_table("compliance_evidence")
