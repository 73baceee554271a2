"""Tables of the market domain: entitlements, the double-entry ledger, listings, licences, invoices."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from valuechain.core.db import Base, IdColumn, UTCDateTime

BigInt = BigInteger().with_variant(Integer(), "sqlite")


class Entitlement(Base):
    """An organisation's right to use an offer: requested → approved (or rejected, revoked)."""

    __tablename__ = "market_entitlements"
    __table_args__ = (UniqueConstraint("offer_id", "org_id"),)

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True)
    offer_id: Mapped[str] = mapped_column(ForeignKey("offers.id", ondelete="CASCADE"), index=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16))  # pending | approved | rejected | revoked
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    # set by a hire or subscription bought in the marketplace (issue 11): access ends at expires_at
    licence_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class LedgerAccount(Base):
    """A ledger account; ``balance`` is the sum of its entries, kept in the same transaction."""

    __tablename__ = "ledger_accounts"

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True)
    code: Mapped[str] = mapped_column(String(200), unique=True)  # e.g. wallet:org_…, revenue:org_…
    org_id: Mapped[str | None] = mapped_column(ForeignKey("organizations.id"), nullable=True, index=True)
    kind: Mapped[str] = mapped_column(String(32))  # wallet | revenue | promotions | cash
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    balance: Mapped[int] = mapped_column(BigInt, default=0)


class LedgerTransaction(Base):
    """One money movement; its entries sum to zero; at most one per idempotency key."""

    __tablename__ = "ledger_transactions"

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(32))  # usage | credit | topup | subscription | adjustment
    org_id: Mapped[str | None] = mapped_column(String(40), nullable=True, index=True)
    memo: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LedgerEntry(Base):
    """One signed posting to one account (integer micro-units)."""

    __tablename__ = "ledger_entries"

    id: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=True)
    transaction_id: Mapped[str] = mapped_column(ForeignKey("ledger_transactions.id"), index=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("ledger_accounts.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInt)


class Listing(Base):
    """A marketplace listing: an offer sold as a kind (sale, subscription, hire, …) at a price plan."""

    __tablename__ = "market_listings"

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True)
    offer_id: Mapped[str] = mapped_column(ForeignKey("offers.id", ondelete="CASCADE"), index=True)
    seller_org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)  # see listings.KINDS
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    price: Mapped[int] = mapped_column(BigInt)  # micro-units per purchase or per period
    period_seconds: Mapped[int | None] = mapped_column(BigInt, nullable=True)  # hire/subscription length
    stock: Mapped[int | None] = mapped_column(Integer, nullable=True)  # None: unlimited
    sold: Mapped[int] = mapped_column(Integer, default=0)
    licence: Mapped[str] = mapped_column(String(200))
    terms: Mapped[str] = mapped_column(Text, default="")
    shares: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # [{org_id, bps}] upstream
    plan: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # kind-specific terms (other channels)
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | withdrawn
    agreement_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Licence(Base):
    """What a buyer holds from a listing: perpetual (sale) or until ``expires_at`` (hire, subscription)."""

    __tablename__ = "market_licences"

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True)
    listing_id: Mapped[str] = mapped_column(ForeignKey("market_listings.id"), index=True)
    offer_id: Mapped[str] = mapped_column(String(40), index=True)
    buyer_org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    seller_org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | cancelled
    auto_renew: Mapped[bool] = mapped_column(Boolean, default=False)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Charge(Base):
    """One payment for a licence (the purchase or a renewal): the ledger transaction and invoice source."""

    __tablename__ = "market_charges"

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    licence_id: Mapped[str] = mapped_column(String(40), index=True)
    buyer_org_id: Mapped[str] = mapped_column(String(40), index=True)
    seller_org_id: Mapped[str] = mapped_column(String(40), index=True)
    description: Mapped[str] = mapped_column(String(500))
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[int] = mapped_column(BigInt)
    fee: Mapped[int] = mapped_column(BigInt)
    transaction_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class LicenceCopy(Base):
    """A traceable copy of one file sold under a licence: its own sha256, recorded when served."""

    __tablename__ = "market_licence_copies"
    __table_args__ = (UniqueConstraint("licence_id", "path"),)

    id: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=True)
    licence_id: Mapped[str] = mapped_column(ForeignKey("market_licences.id"), index=True)
    path: Mapped[str] = mapped_column(String(1000))
    source_sha256: Mapped[str] = mapped_column(String(64))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Invoice(Base):
    """An issued invoice: numbered per seller without gaps, immutable once issued (its lines frozen)."""

    __tablename__ = "market_invoices"
    __table_args__ = (
        UniqueConstraint("seller_org_id", "number"),
        UniqueConstraint("seller_org_id", "buyer_org_id", "scope", name="uq_market_invoices_scope"),
    )

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True)
    seller_org_id: Mapped[str] = mapped_column(String(40), index=True)
    buyer_org_id: Mapped[str] = mapped_column(String(40), index=True)
    number: Mapped[int] = mapped_column(Integer)
    scope: Mapped[str] = mapped_column(String(60))  # month:YYYY-MM or charge:chg_…
    currency: Mapped[str] = mapped_column(String(3))
    total: Mapped[int] = mapped_column(BigInt)
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # frozen [{charge, date, description, amount}]
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
