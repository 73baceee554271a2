"""consent along the chain: registry claims and offer agreements (issue 9)

Existing namings of another organisation become pending claims, so that they count only once the named
organisation (or an operator's import) confirms them.

Revision ID: 0006_consent_registry_claims
Revises: 0005_hub_repo_objects
Create Date: 2026-11-29 14:20:00.000000
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from valuechain.core.ids import new_id

revision = "0006_consent_registry_claims"
down_revision = "0005_hub_repo_objects"
branch_labels = None
depends_on = None

# (field, subject kind, SQL giving subject id, label, claimant, named) for namings recorded before claims.
_EXISTING = (
    (
        "released_by",
        "model",
        "SELECT m.id, m.slug, m.owner_org_id, m.released_by_org_id FROM models m "
        "WHERE m.released_by_org_id IS NOT NULL AND m.released_by_org_id <> m.owner_org_id",
    ),
    (
        "deployer",
        "system",
        "SELECT s.id, s.slug, s.provider_org_id, d.org_id FROM system_deployers d "
        "JOIN systems s ON s.id = d.system_id WHERE d.org_id <> s.provider_org_id",
    ),
    (
        "parent_supplier",
        "derivation",
        "SELECT dr.id, pm.slug || '@' || pv.label || '->' || cm.slug || '@' || cv.label, dr.by_org_id, "
        "pm.owner_org_id FROM derivations dr "
        "JOIN model_versions pv ON pv.id = dr.parent_version_id JOIN models pm ON pm.id = pv.model_id "
        "JOIN model_versions cv ON cv.id = dr.child_version_id JOIN models cm ON cm.id = cv.model_id "
        "WHERE pm.owner_org_id <> dr.by_org_id",
    ),
    (
        "on_behalf_of",
        "derivation",
        "SELECT dr.id, COALESCE(pm.slug || '@' || pv.label, dr.external_parent) || '->' || cm.slug || '@' "
        "|| cv.label, dr.by_org_id, dr.on_behalf_of_org_id FROM derivations dr "
        "LEFT JOIN model_versions pv ON pv.id = dr.parent_version_id LEFT JOIN models pm ON pm.id = pv.model_id "
        "JOIN model_versions cv ON cv.id = dr.child_version_id JOIN models cm ON cm.id = cv.model_id "
        "WHERE dr.on_behalf_of_org_id IS NOT NULL AND dr.on_behalf_of_org_id <> dr.by_org_id",
    ),
    (
        "offer_upstream",
        "offer",
        "SELECT o.id, m.slug || '@' || v.label || ':' || o.channel || ':' || o.brand, o.by_org_id, "
        "m.owner_org_id FROM offers o "
        "JOIN model_versions v ON v.id = o.version_id JOIN models m ON m.id = v.model_id "
        "WHERE m.owner_org_id <> o.by_org_id",
    ),
)


def upgrade() -> None:
    claims = op.create_table(
        "registry_claims",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("subject_kind", sa.String(length=16), nullable=False),
        sa.Column("subject_id", sa.String(length=40), nullable=False),
        sa.Column("subject_label", sa.String(length=600), nullable=False),
        sa.Column("field", sa.String(length=32), nullable=False),
        sa.Column("claimant_org_id", sa.String(length=40), nullable=False),
        sa.Column("named_org_id", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["claimant_org_id"],
            ["organizations.id"],
            name=op.f("fk_registry_claims_claimant_org_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["named_org_id"], ["organizations.id"], name=op.f("fk_registry_claims_named_org_id_organizations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_claims")),
        sa.UniqueConstraint(
            "subject_kind",
            "subject_id",
            "field",
            "named_org_id",
            name=op.f("uq_registry_claims_subject_kind_subject_id_field_named_org_id"),
        ),
    )
    with op.batch_alter_table("registry_claims", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_registry_claims_claimant_org_id"), ["claimant_org_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_registry_claims_named_org_id"), ["named_org_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_registry_claims_subject_id"), ["subject_id"], unique=False)

    op.create_table(
        "registry_agreements",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("owner_org_id", sa.String(length=40), nullable=False),
        sa.Column("agent_org_id", sa.String(length=40), nullable=False),
        sa.Column("model_id", sa.String(length=40), nullable=True),
        sa.Column("channels", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["agent_org_id"],
            ["organizations.id"],
            name=op.f("fk_registry_agreements_agent_org_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["models.id"],
            name=op.f("fk_registry_agreements_model_id_models"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["owner_org_id"],
            ["organizations.id"],
            name=op.f("fk_registry_agreements_owner_org_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_agreements")),
    )
    with op.batch_alter_table("registry_agreements", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_registry_agreements_agent_org_id"), ["agent_org_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_registry_agreements_model_id"), ["model_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_registry_agreements_owner_org_id"), ["owner_org_id"], unique=False
        )

    _backfill(claims)


def _backfill(claims: sa.Table) -> None:
    """Namings recorded before this revision become pending claims (nobody confirmed them)."""
    bind = op.get_bind()
    now = datetime.now(UTC)
    for field, kind, query in _EXISTING:
        rows = [
            {
                "id": new_id("clm"),
                "subject_kind": kind,
                "subject_id": subject_id,
                "subject_label": (label or subject_id)[:600],
                "field": field,
                "claimant_org_id": claimant,
                "named_org_id": named,
                "status": "pending",
                "created_at": now,
                "decided_at": None,
                "decided_by": None,
            }
            for subject_id, label, claimant, named in bind.execute(sa.text(query))
        ]
        for start in range(0, len(rows), 5000):
            op.bulk_insert(claims, rows[start : start + 5000])


def downgrade() -> None:
    with op.batch_alter_table("registry_agreements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_registry_agreements_owner_org_id"))
        batch_op.drop_index(batch_op.f("ix_registry_agreements_model_id"))
        batch_op.drop_index(batch_op.f("ix_registry_agreements_agent_org_id"))
    op.drop_table("registry_agreements")
    with op.batch_alter_table("registry_claims", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_registry_claims_subject_id"))
        batch_op.drop_index(batch_op.f("ix_registry_claims_named_org_id"))
        batch_op.drop_index(batch_op.f("ix_registry_claims_claimant_org_id"))
    op.drop_table("registry_claims")
