"""Tables of the gateway: one usage record per request, and request logs per the offer's policy."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from valuechain.core.db import Base, IdColumn, UTCDateTime

BigInt = BigInteger().with_variant(Integer(), "sqlite")


class UsageRecord(Base):
    """What one /v1 request used and cost; written before its response completes."""

    __tablename__ = "gateway_usage"
    __table_args__ = (
        Index("ix_gateway_usage_org_created", "org_id", "created_at"),
        Index("ix_gateway_usage_provider_created", "provider_org_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True)  # the request id, req_…
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    org_id: Mapped[str] = mapped_column(String(40))
    key_id: Mapped[str | None] = mapped_column(String(40), nullable=True, index=True)
    provider_org_id: Mapped[str] = mapped_column(String(40))
    offer_id: Mapped[str] = mapped_column(String(40), index=True)
    version_id: Mapped[str] = mapped_column(String(40))
    model: Mapped[str] = mapped_column(String(300))
    endpoint: Mapped[str] = mapped_column(String(32))
    stream: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[int] = mapped_column(Integer)
    error_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    prompt_tokens: Mapped[int] = mapped_column(Integer, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0)
    latency_ms: Mapped[float] = mapped_column(default=0.0)
    cost: Mapped[int] = mapped_column(BigInt, default=0)
    currency: Mapped[str] = mapped_column(String(3), default="EUR")


class RequestLog(Base):
    """A request as the offer's logging policy allows keeping it; deleted after ``expires_at``."""

    __tablename__ = "gateway_request_logs"

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True)  # the request id
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    org_id: Mapped[str] = mapped_column(String(40), index=True)
    provider_org_id: Mapped[str] = mapped_column(String(40), index=True)
    key_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    offer_id: Mapped[str] = mapped_column(String(40))
    mode: Mapped[str] = mapped_column(String(16))
    meta: Mapped[dict[str, Any]] = mapped_column(JSON)
    request_body: Mapped[Any | None] = mapped_column(JSON, nullable=True)
    response_body: Mapped[Any | None] = mapped_column(JSON, nullable=True)
