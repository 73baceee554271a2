"""market: listings, licences, charges, traceable copies and invoices; hires on entitlements (issue 11)

Revision ID: 0012_market_listings
Revises: 0010_finetune
Create Date: 2026-11-29 19:45:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_market_listings"
down_revision = "0010_finetune"
branch_labels = None
depends_on = None

_ID = sa.String(length=40)
_TS = sa.DateTime(timezone=True)
_BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _fk(table: str, column: str, target: str, **kw: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), **kw
    )


def _index(table: str, *columns: str) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        for column in columns:
            batch_op.create_index(batch_op.f(f"ix_{table}_{column}"), [column], unique=False)


def upgrade() -> None:
    with op.batch_alter_table("market_entitlements", schema=None) as batch_op:
        batch_op.add_column(sa.Column("licence_id", _ID, nullable=True))
        batch_op.add_column(sa.Column("expires_at", _TS, nullable=True))
    op.create_table(
        "market_listings",
        sa.Column("id", _ID, nullable=False),
        sa.Column("offer_id", _ID, nullable=False),
        sa.Column("seller_org_id", _ID, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("price", _BIG, nullable=False),
        sa.Column("period_seconds", _BIG, nullable=True),
        sa.Column("stock", sa.Integer(), nullable=True),
        sa.Column("sold", sa.Integer(), nullable=False),
        sa.Column("licence", sa.String(length=200), nullable=False),
        sa.Column("terms", sa.Text(), nullable=False),
        sa.Column("shares", sa.JSON(), nullable=False),
        sa.Column("plan", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("agreement_id", _ID, nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        _fk("market_listings", "offer_id", "offers", ondelete="CASCADE"),
        _fk("market_listings", "seller_org_id", "organizations"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_market_listings")),
    )
    _index("market_listings", "offer_id", "seller_org_id", "kind")
    op.create_table(
        "market_licences",
        sa.Column("id", _ID, nullable=False),
        sa.Column("listing_id", _ID, nullable=False),
        sa.Column("offer_id", _ID, nullable=False),
        sa.Column("buyer_org_id", _ID, nullable=False),
        sa.Column("seller_org_id", _ID, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("auto_renew", sa.Boolean(), nullable=False),
        sa.Column("starts_at", _TS, nullable=False),
        sa.Column("expires_at", _TS, nullable=True),
        _fk("market_licences", "listing_id", "market_listings"),
        _fk("market_licences", "buyer_org_id", "organizations"),
        _fk("market_licences", "seller_org_id", "organizations"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_market_licences")),
    )
    _index("market_licences", "listing_id", "offer_id", "buyer_org_id", "seller_org_id")
    op.create_table(
        "market_charges",
        sa.Column("id", _ID, nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("licence_id", _ID, nullable=False),
        sa.Column("buyer_org_id", _ID, nullable=False),
        sa.Column("seller_org_id", _ID, nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount", _BIG, nullable=False),
        sa.Column("fee", _BIG, nullable=False),
        sa.Column("transaction_id", _ID, nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_market_charges")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_market_charges_idempotency_key")),
    )
    _index("market_charges", "licence_id", "buyer_org_id", "seller_org_id", "created_at")
    op.create_table(
        "market_licence_copies",
        sa.Column("id", _BIG, autoincrement=True, nullable=False),
        sa.Column("licence_id", _ID, nullable=False),
        sa.Column("path", sa.String(length=1000), nullable=False),
        sa.Column("source_sha256", sa.String(length=64), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        _fk("market_licence_copies", "licence_id", "market_licences"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_market_licence_copies")),
        sa.UniqueConstraint("licence_id", "path", name=op.f("uq_market_licence_copies_licence_id_path")),
    )
    _index("market_licence_copies", "licence_id", "sha256")
    op.create_table(
        "market_invoices",
        sa.Column("id", _ID, nullable=False),
        sa.Column("seller_org_id", _ID, nullable=False),
        sa.Column("buyer_org_id", _ID, nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=60), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("total", _BIG, nullable=False),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("issued_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_market_invoices")),
        sa.UniqueConstraint("seller_org_id", "number", name=op.f("uq_market_invoices_seller_org_id_number")),
        sa.UniqueConstraint(
            "seller_org_id",
            "buyer_org_id",
            "scope",
            name="uq_market_invoices_scope",
        ),
    )
    _index("market_invoices", "seller_org_id", "buyer_org_id")


def downgrade() -> None:
    for table in ("market_invoices", "market_licence_copies", "market_charges", "market_licences"):
        op.drop_table(table)
    op.drop_table("market_listings")
    with op.batch_alter_table("market_entitlements", schema=None) as batch_op:
        batch_op.drop_column("expires_at")
        batch_op.drop_column("licence_id")
