"""foundation: accounts, registry and audit log

Revision ID: 0001_foundation
Revises: (none)
Create Date: 2026-11-28 17:48:14.191300
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_foundation"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "audit_events",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("org_id", sa.String(length=40), nullable=True),
        sa.Column("action", sa.String(length=100), nullable=False),
        sa.Column("subject_type", sa.String(length=50), nullable=False),
        sa.Column("subject_id", sa.String(length=300), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_events")),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_events_org_id"), ["org_id"], unique=False)

    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_head")),
    )
    # The chain starts from a fixed genesis hash; appends lock this row (see core/audit.py).
    op.bulk_insert(
        sa.table(
            "audit_head",
            sa.column("id", sa.Integer),
            sa.column("seq", sa.BigInteger),
            sa.column("hash", sa.String),
        ),
        [{"id": 1, "seq": 0, "hash": "0" * 64}],
    )
    op.create_table(
        "organizations",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("is_sme", sa.Boolean(), nullable=False),
        sa.Column("is_microenterprise", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organizations")),
        sa.UniqueConstraint("slug", name=op.f("uq_organizations_slug")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("is_platform_operator", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("org_id", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.String(length=40), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("prefix", sa.String(length=32), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("is_operator", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_api_keys_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_api_keys_user_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("prefix", name=op.f("uq_api_keys_prefix")),
        sa.UniqueConstraint("secret_hash", name=op.f("uq_api_keys_secret_hash")),
    )
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_keys_org_id"), ["org_id"], unique=False)

    op.create_table(
        "memberships",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.String(length=40), nullable=False),
        sa.Column("org_id", sa.String(length=40), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_memberships_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_memberships_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_memberships")),
        sa.UniqueConstraint("user_id", "org_id", name=op.f("uq_memberships_user_id_org_id")),
    )
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_memberships_org_id"), ["org_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_memberships_user_id"), ["user_id"], unique=False)

    op.create_table(
        "models",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("slug", sa.String(length=200), nullable=False),
        sa.Column("owner_org_id", sa.String(length=40), nullable=False),
        sa.Column("released_by_org_id", sa.String(length=40), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("visibility", sa.String(length=16), nullable=False),
        sa.Column("input_modalities", sa.JSON(), nullable=False),
        sa.Column("output_modalities", sa.JSON(), nullable=False),
        sa.Column("parameters", sa.Float(), nullable=True),
        sa.Column("training_compute_flop", sa.Float(), nullable=True),
        sa.Column("training_tokens", sa.Float(), nullable=True),
        sa.Column("training_data_summary", sa.Text(), nullable=True),
        sa.Column("gpai_override", sa.Boolean(), nullable=True),
        sa.Column("licence", sa.String(length=200), nullable=False),
        sa.Column("licence_terms", sa.JSON(), nullable=False),
        sa.Column("weights_public", sa.Boolean(), nullable=False),
        sa.Column("architecture_public", sa.Boolean(), nullable=False),
        sa.Column("usage_info_public", sa.Boolean(), nullable=False),
        sa.Column("monetised", sa.JSON(), nullable=False),
        sa.Column("eu_market", sa.Date(), nullable=True),
        sa.Column("eu_excluded", sa.Boolean(), nullable=False),
        sa.Column("designated_systemic_risk", sa.Boolean(), nullable=False),
        sa.Column("eu_business_users", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_org_id"], ["organizations.id"], name=op.f("fk_models_owner_org_id_organizations")
        ),
        sa.ForeignKeyConstraint(
            ["released_by_org_id"],
            ["organizations.id"],
            name=op.f("fk_models_released_by_org_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_models")),
        sa.UniqueConstraint("slug", name=op.f("uq_models_slug")),
    )
    with op.batch_alter_table("models", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_models_owner_org_id"), ["owner_org_id"], unique=False)

    op.create_table(
        "systems",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("slug", sa.String(length=200), nullable=False),
        sa.Column("provider_org_id", sa.String(length=40), nullable=False),
        sa.Column("intended_purpose", sa.Text(), nullable=False),
        sa.Column("interacts_with_persons", sa.Boolean(), nullable=False),
        sa.Column("synthetic_output", sa.JSON(), nullable=False),
        sa.Column("deep_fake", sa.Boolean(), nullable=False),
        sa.Column("public_interest_text", sa.Boolean(), nullable=False),
        sa.Column("annex_iii", sa.JSON(), nullable=False),
        sa.Column("eu_market", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["provider_org_id"], ["organizations.id"], name=op.f("fk_systems_provider_org_id_organizations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_systems")),
        sa.UniqueConstraint("slug", name=op.f("uq_systems_slug")),
    )
    with op.batch_alter_table("systems", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_systems_provider_org_id"), ["provider_org_id"], unique=False)

    op.create_table(
        "model_versions",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("model_id", sa.String(length=40), nullable=False),
        sa.Column("label", sa.String(length=64), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_id"], ["models.id"], name=op.f("fk_model_versions_model_id_models"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_versions")),
        sa.UniqueConstraint("model_id", "label", name=op.f("uq_model_versions_model_id_label")),
    )
    with op.batch_alter_table("model_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_model_versions_model_id"), ["model_id"], unique=False)

    op.create_table(
        "system_deployers",
        sa.Column("system_id", sa.String(length=40), nullable=False),
        sa.Column("org_id", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organizations.id"], name=op.f("fk_system_deployers_org_id_organizations")
        ),
        sa.ForeignKeyConstraint(
            ["system_id"],
            ["systems.id"],
            name=op.f("fk_system_deployers_system_id_systems"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("system_id", "org_id", name=op.f("pk_system_deployers")),
    )
    with op.batch_alter_table("system_deployers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_system_deployers_org_id"), ["org_id"], unique=False)

    op.create_table(
        "artifacts",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("version_id", sa.String(length=40), nullable=False),
        sa.Column("path", sa.String(length=1000), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("media_type", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["model_versions.id"],
            name=op.f("fk_artifacts_version_id_model_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_artifacts")),
        sa.UniqueConstraint("version_id", "path", name=op.f("uq_artifacts_version_id_path")),
    )
    with op.batch_alter_table("artifacts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_artifacts_version_id"), ["version_id"], unique=False)

    op.create_table(
        "derivations",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("parent_version_id", sa.String(length=40), nullable=True),
        sa.Column("external_parent", sa.String(length=300), nullable=True),
        sa.Column("parent_key", sa.String(length=300), nullable=False),
        sa.Column("child_version_id", sa.String(length=40), nullable=False),
        sa.Column("relation", sa.String(length=32), nullable=False),
        sa.Column("compute_flop", sa.Float(), nullable=True),
        sa.Column("by_org_id", sa.String(length=40), nullable=False),
        sa.Column("on_behalf_of_org_id", sa.String(length=40), nullable=True),
        sa.Column("data_summary", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["by_org_id"], ["organizations.id"], name=op.f("fk_derivations_by_org_id_organizations")
        ),
        sa.ForeignKeyConstraint(
            ["child_version_id"],
            ["model_versions.id"],
            name=op.f("fk_derivations_child_version_id_model_versions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["on_behalf_of_org_id"],
            ["organizations.id"],
            name=op.f("fk_derivations_on_behalf_of_org_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["parent_version_id"],
            ["model_versions.id"],
            name=op.f("fk_derivations_parent_version_id_model_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_derivations")),
        sa.UniqueConstraint(
            "parent_key", "child_version_id", name=op.f("uq_derivations_parent_key_child_version_id")
        ),
    )
    with op.batch_alter_table("derivations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_derivations_by_org_id"), ["by_org_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_derivations_child_version_id"), ["child_version_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_derivations_parent_version_id"), ["parent_version_id"], unique=False
        )

    op.create_table(
        "offers",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("version_id", sa.String(length=40), nullable=False),
        sa.Column("by_org_id", sa.String(length=40), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("brand", sa.String(length=200), nullable=False),
        sa.Column("eu", sa.Boolean(), nullable=False),
        sa.Column("terms", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["by_org_id"], ["organizations.id"], name=op.f("fk_offers_by_org_id_organizations")
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["model_versions.id"],
            name=op.f("fk_offers_version_id_model_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offers")),
        sa.UniqueConstraint(
            "version_id",
            "by_org_id",
            "channel",
            "brand",
            name=op.f("uq_offers_version_id_by_org_id_channel_brand"),
        ),
    )
    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_offers_by_org_id"), ["by_org_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_offers_version_id"), ["version_id"], unique=False)

    op.create_table(
        "system_models",
        sa.Column("system_id", sa.String(length=40), nullable=False),
        sa.Column("version_id", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["system_id"], ["systems.id"], name=op.f("fk_system_models_system_id_systems"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["model_versions.id"],
            name=op.f("fk_system_models_version_id_model_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("system_id", "version_id", name=op.f("pk_system_models")),
    )
    with op.batch_alter_table("system_models", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_system_models_version_id"), ["version_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("system_models", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_system_models_version_id"))

    op.drop_table("system_models")
    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_offers_version_id"))
        batch_op.drop_index(batch_op.f("ix_offers_by_org_id"))

    op.drop_table("offers")
    with op.batch_alter_table("derivations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_derivations_parent_version_id"))
        batch_op.drop_index(batch_op.f("ix_derivations_child_version_id"))
        batch_op.drop_index(batch_op.f("ix_derivations_by_org_id"))

    op.drop_table("derivations")
    with op.batch_alter_table("artifacts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_artifacts_version_id"))

    op.drop_table("artifacts")
    with op.batch_alter_table("system_deployers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_system_deployers_org_id"))

    op.drop_table("system_deployers")
    with op.batch_alter_table("model_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_model_versions_model_id"))

    op.drop_table("model_versions")
    with op.batch_alter_table("systems", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_systems_provider_org_id"))

    op.drop_table("systems")
    with op.batch_alter_table("models", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_models_owner_org_id"))

    op.drop_table("models")
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_memberships_user_id"))
        batch_op.drop_index(batch_op.f("ix_memberships_org_id"))

    op.drop_table("memberships")
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_keys_org_id"))

    op.drop_table("api_keys")
    op.drop_table("users")
    op.drop_table("organizations")
    op.drop_table("audit_head")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_events_org_id"))

    op.drop_table("audit_events")
