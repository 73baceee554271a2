"""Tables of the market domain: entitlements to offers and the double-entry ledger."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text, UniqueConstraint
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
