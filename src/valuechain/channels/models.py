"""Tables of the channels domain: notifications, webhooks and their deliveries, reseller terms and brands."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from valuechain.core.db import Base, IdColumn, UTCDateTime


class Notification(Base):
    """A message to an organisation about a model it uses (a deprecation, a retirement)."""

    __tablename__ = "channel_notifications"
    __table_args__ = (UniqueConstraint("org_id", "kind", "subject"),)

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(300))
    message: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Webhook(Base):
    """Where an organisation wants its notifications POSTed; the signing secret is derived, never stored."""

    __tablename__ = "channel_webhooks"

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Delivery(Base):
    """One notification to one webhook: pending until a 2xx, with its attempts."""

    __tablename__ = "channel_deliveries"
    __table_args__ = (UniqueConstraint("webhook_id", "notification_id"),)

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True)
    webhook_id: Mapped[str] = mapped_column(ForeignKey("channel_webhooks.id", ondelete="CASCADE"), index=True)
    notification_id: Mapped[str] = mapped_column(
        ForeignKey("channel_notifications.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ResellerTerms(Base):
    """The commercial terms of a white-label agreement (the consent itself is a registry agreement)."""

    __tablename__ = "channel_reseller_terms"

    agreement_id: Mapped[str] = mapped_column(
        ForeignKey("registry_agreements.id", ondelete="CASCADE"), primary_key=True
    )
    provider_org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    reseller_org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    model_id: Mapped[str] = mapped_column(ForeignKey("models.id", ondelete="CASCADE"), index=True)
    wholesale_input_per_mtok: Mapped[int] = mapped_column(BigInteger)
    wholesale_output_per_mtok: Mapped[int] = mapped_column(BigInteger)
    max_markup_pct: Mapped[int] = mapped_column(Integer)
    max_customers: Mapped[int] = mapped_column(Integer)
    brand_rules: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Brand(Base):
    """How an organisation is shown to visitors of its own host name (white-label console branding)."""

    __tablename__ = "channel_brands"

    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True)
    host: Mapped[str] = mapped_column(String(255), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    accent: Mapped[str] = mapped_column(String(7), default="#1f6feb")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
