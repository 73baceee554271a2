"""channels: version lifecycle, notifications and webhooks, white-label reseller terms and brands (issue 11)

Revision ID: 0014_channels
Revises: 0013_accountability
Create Date: 2026-11-29 20:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_channels"
down_revision = "0013_accountability"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def _fk(table: str, column: str, target: str, ondelete: str | None = "CASCADE") -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [target], name=op.f(f"fk_{table}_{column}_{target.split('.')[0]}"), ondelete=ondelete
    )


def upgrade() -> None:
    with op.batch_alter_table("model_versions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("stage", sa.String(length=16), server_default="active", nullable=False))
        batch_op.add_column(sa.Column("stage_at", _TS, nullable=True))
        batch_op.add_column(sa.Column("deprecated_at", _TS, nullable=True))
        batch_op.add_column(sa.Column("sunset_at", _TS, nullable=True))
        batch_op.add_column(sa.Column("successor", sa.String(length=300), nullable=True))
    op.create_table(
        "channel_notifications",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("org_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        _fk("channel_notifications", "org_id", "organizations.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channel_notifications")),
        sa.UniqueConstraint(
            "org_id", "kind", "subject", name=op.f("uq_channel_notifications_org_id_kind_subject")
        ),
    )
    op.create_index(op.f("ix_channel_notifications_org_id"), "channel_notifications", ["org_id"])
    op.create_table(
        "channel_webhooks",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("org_id", sa.String(length=40), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("revoked_at", _TS, nullable=True),
        _fk("channel_webhooks", "org_id", "organizations.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channel_webhooks")),
    )
    op.create_index(op.f("ix_channel_webhooks_org_id"), "channel_webhooks", ["org_id"])
    op.create_table(
        "channel_deliveries",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("webhook_id", sa.String(length=40), nullable=False),
        sa.Column("notification_id", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("delivered_at", _TS, nullable=True),
        _fk("channel_deliveries", "webhook_id", "channel_webhooks.id"),
        _fk("channel_deliveries", "notification_id", "channel_notifications.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channel_deliveries")),
        sa.UniqueConstraint(
            "webhook_id", "notification_id", name=op.f("uq_channel_deliveries_webhook_id_notification_id")
        ),
    )
    op.create_index(op.f("ix_channel_deliveries_webhook_id"), "channel_deliveries", ["webhook_id"])
    op.create_index(op.f("ix_channel_deliveries_notification_id"), "channel_deliveries", ["notification_id"])
    op.create_table(
        "channel_reseller_terms",
        sa.Column("agreement_id", sa.String(length=40), nullable=False),
        sa.Column("provider_org_id", sa.String(length=40), nullable=False),
        sa.Column("reseller_org_id", sa.String(length=40), nullable=False),
        sa.Column("model_id", sa.String(length=40), nullable=False),
        sa.Column("wholesale_input_per_mtok", sa.BigInteger(), nullable=False),
        sa.Column("wholesale_output_per_mtok", sa.BigInteger(), nullable=False),
        sa.Column("max_markup_pct", sa.Integer(), nullable=False),
        sa.Column("max_customers", sa.Integer(), nullable=False),
        sa.Column("brand_rules", sa.JSON(), nullable=False),
        sa.Column("expires_at", _TS, nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        _fk("channel_reseller_terms", "agreement_id", "registry_agreements.id"),
        _fk("channel_reseller_terms", "provider_org_id", "organizations.id", None),
        _fk("channel_reseller_terms", "reseller_org_id", "organizations.id", None),
        _fk("channel_reseller_terms", "model_id", "models.id"),
        sa.PrimaryKeyConstraint("agreement_id", name=op.f("pk_channel_reseller_terms")),
    )
    for column in ("provider_org_id", "reseller_org_id", "model_id"):
        op.create_index(op.f(f"ix_channel_reseller_terms_{column}"), "channel_reseller_terms", [column])
    op.create_table(
        "channel_brands",
        sa.Column("org_id", sa.String(length=40), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("accent", sa.String(length=7), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        _fk("channel_brands", "org_id", "organizations.id"),
        sa.PrimaryKeyConstraint("org_id", name=op.f("pk_channel_brands")),
        sa.UniqueConstraint("host", name=op.f("uq_channel_brands_host")),
    )


def downgrade() -> None:
    op.drop_table("channel_brands")
    for column in ("provider_org_id", "reseller_org_id", "model_id"):
        op.drop_index(op.f(f"ix_channel_reseller_terms_{column}"), table_name="channel_reseller_terms")
    op.drop_table("channel_reseller_terms")
    op.drop_index(op.f("ix_channel_deliveries_notification_id"), table_name="channel_deliveries")
    op.drop_index(op.f("ix_channel_deliveries_webhook_id"), table_name="channel_deliveries")
    op.drop_table("channel_deliveries")
    op.drop_index(op.f("ix_channel_webhooks_org_id"), table_name="channel_webhooks")
    op.drop_table("channel_webhooks")
    op.drop_index(op.f("ix_channel_notifications_org_id"), table_name="channel_notifications")
    op.drop_table("channel_notifications")
    # Not batch mode: on SQLite it would recreate model_versions, and dropping the old table with foreign
    # keys on cascades to offers, artifacts and derivations. ALTER TABLE … DROP COLUMN (SQLite ≥ 3.35).
    for column in ("successor", "sunset_at", "deprecated_at", "stage_at", "stage"):
        op.execute(f"ALTER TABLE model_versions DROP COLUMN {column}")
