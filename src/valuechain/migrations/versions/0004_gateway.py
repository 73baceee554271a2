"""gateway: usage, request logs, market ledger and entitlements, oversight, runtime backends

Revision ID: 0004_gateway
Revises: 0003_hub
Create Date: 2026-11-28 17:57:25.556069
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_gateway"
down_revision = "0003_hub"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "gateway_request_logs",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("org_id", sa.String(length=40), nullable=False),
        sa.Column("provider_org_id", sa.String(length=40), nullable=False),
        sa.Column("key_id", sa.String(length=40), nullable=True),
        sa.Column("offer_id", sa.String(length=40), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("meta", sa.JSON(), nullable=False),
        sa.Column("request_body", sa.JSON(), nullable=True),
        sa.Column("response_body", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gateway_request_logs")),
    )
    with op.batch_alter_table("gateway_request_logs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_gateway_request_logs_expires_at"), ["expires_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_gateway_request_logs_org_id"), ["org_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_gateway_request_logs_provider_org_id"), ["provider_org_id"], unique=False
        )

    op.create_table(
        "gateway_usage",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("org_id", sa.String(length=40), nullable=False),
        sa.Column("key_id", sa.String(length=40), nullable=True),
        sa.Column("provider_org_id", sa.String(length=40), nullable=False),
        sa.Column("offer_id", sa.String(length=40), nullable=False),
        sa.Column("version_id", sa.String(length=40), nullable=False),
        sa.Column("model", sa.String(length=300), nullable=False),
        sa.Column("endpoint", sa.String(length=32), nullable=False),
        sa.Column("stream", sa.Boolean(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("error_code", sa.String(length=64), nullable=True),
        sa.Column("prompt_tokens", sa.Integer(), nullable=False),
        sa.Column("completion_tokens", sa.Integer(), nullable=False),
        sa.Column("latency_ms", sa.Double(), nullable=False),
        sa.Column("cost", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gateway_usage")),
    )
    with op.batch_alter_table("gateway_usage", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_gateway_usage_key_id"), ["key_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_gateway_usage_offer_id"), ["offer_id"], unique=False)
        batch_op.create_index("ix_gateway_usage_org_created", ["org_id", "created_at"], unique=False)
        batch_op.create_index(
            "ix_gateway_usage_provider_created", ["provider_org_id", "created_at"], unique=False
        )

    op.create_table(
        "ledger_transactions",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("org_id", sa.String(length=40), nullable=True),
        sa.Column("memo", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_transactions")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_ledger_transactions_idempotency_key")),
    )
    with op.batch_alter_table("ledger_transactions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ledger_transactions_org_id"), ["org_id"], unique=False)

    op.create_table(
        "oversight_events",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("provider_org_id", sa.String(length=40), nullable=False),
        sa.Column("rule_id", sa.String(length=40), nullable=True),
        sa.Column("org_id", sa.String(length=40), nullable=False),
        sa.Column("key_id", sa.String(length=40), nullable=True),
        sa.Column("request_id", sa.String(length=40), nullable=True),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oversight_events")),
    )
    with op.batch_alter_table("oversight_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_oversight_events_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_oversight_events_org_id"), ["org_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_oversight_events_provider_org_id"), ["provider_org_id"], unique=False
        )

    op.create_table(
        "oversight_rules",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("provider_org_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("target", sa.String(length=16), nullable=False),
        sa.Column("pattern", sa.Text(), nullable=True),
        sa.Column("threshold_rpm", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("scope", sa.String(length=8), nullable=False),
        sa.Column("throttle_rpm", sa.Integer(), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oversight_rules")),
    )
    with op.batch_alter_table("oversight_rules", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_oversight_rules_provider_org_id"), ["provider_org_id"], unique=False
        )

    op.create_table(
        "oversight_suspensions",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("provider_org_id", sa.String(length=40), nullable=False),
        sa.Column("subject_type", sa.String(length=8), nullable=False),
        sa.Column("subject_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("throttle_rpm", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("lifted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lifted_by", sa.String(length=200), nullable=True),
        sa.Column("lift_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oversight_suspensions")),
    )
    with op.batch_alter_table("oversight_suspensions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_oversight_suspensions_provider_org_id"), ["provider_org_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_oversight_suspensions_subject_id"), ["subject_id"], unique=False)

    op.create_table(
        "ledger_accounts",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("code", sa.String(length=200), nullable=False),
        sa.Column("org_id", sa.String(length=40), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("balance", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organizations.id"], name=op.f("fk_ledger_accounts_org_id_organizations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_accounts")),
        sa.UniqueConstraint("code", name=op.f("uq_ledger_accounts_code")),
    )
    with op.batch_alter_table("ledger_accounts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ledger_accounts_org_id"), ["org_id"], unique=False)

    op.create_table(
        "ledger_entries",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("transaction_id", sa.String(length=40), nullable=False),
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("amount", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["ledger_accounts.id"], name=op.f("fk_ledger_entries_account_id_ledger_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["ledger_transactions.id"],
            name=op.f("fk_ledger_entries_transaction_id_ledger_transactions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_entries")),
    )
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ledger_entries_account_id"), ["account_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_ledger_entries_transaction_id"), ["transaction_id"], unique=False
        )

    op.create_table(
        "runtime_backends",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("version_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("context_length", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["model_versions.id"],
            name=op.f("fk_runtime_backends_version_id_model_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_runtime_backends")),
        sa.UniqueConstraint("version_id", name=op.f("uq_runtime_backends_version_id")),
    )
    op.create_table(
        "market_entitlements",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("offer_id", sa.String(length=40), nullable=False),
        sa.Column("org_id", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["offer_id"],
            ["offers.id"],
            name=op.f("fk_market_entitlements_offer_id_offers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_market_entitlements_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_market_entitlements")),
        sa.UniqueConstraint("offer_id", "org_id", name=op.f("uq_market_entitlements_offer_id_org_id")),
    )
    with op.batch_alter_table("market_entitlements", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_market_entitlements_offer_id"), ["offer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_market_entitlements_org_id"), ["org_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("market_entitlements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_market_entitlements_org_id"))
        batch_op.drop_index(batch_op.f("ix_market_entitlements_offer_id"))

    op.drop_table("market_entitlements")
    op.drop_table("runtime_backends")
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_entries_transaction_id"))
        batch_op.drop_index(batch_op.f("ix_ledger_entries_account_id"))

    op.drop_table("ledger_entries")
    with op.batch_alter_table("ledger_accounts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_accounts_org_id"))

    op.drop_table("ledger_accounts")
    with op.batch_alter_table("oversight_suspensions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oversight_suspensions_subject_id"))
        batch_op.drop_index(batch_op.f("ix_oversight_suspensions_provider_org_id"))

    op.drop_table("oversight_suspensions")
    with op.batch_alter_table("oversight_rules", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oversight_rules_provider_org_id"))

    op.drop_table("oversight_rules")
    with op.batch_alter_table("oversight_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oversight_events_provider_org_id"))
        batch_op.drop_index(batch_op.f("ix_oversight_events_org_id"))
        batch_op.drop_index(batch_op.f("ix_oversight_events_created_at"))

    op.drop_table("oversight_events")
    with op.batch_alter_table("ledger_transactions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_transactions_org_id"))

    op.drop_table("ledger_transactions")
    with op.batch_alter_table("gateway_usage", schema=None) as batch_op:
        batch_op.drop_index("ix_gateway_usage_provider_created")
        batch_op.drop_index("ix_gateway_usage_org_created")
        batch_op.drop_index(batch_op.f("ix_gateway_usage_offer_id"))
        batch_op.drop_index(batch_op.f("ix_gateway_usage_key_id"))

    op.drop_table("gateway_usage")
    with op.batch_alter_table("gateway_request_logs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_gateway_request_logs_provider_org_id"))
        batch_op.drop_index(batch_op.f("ix_gateway_request_logs_org_id"))
        batch_op.drop_index(batch_op.f("ix_gateway_request_logs_expires_at"))

    op.drop_table("gateway_request_logs")
