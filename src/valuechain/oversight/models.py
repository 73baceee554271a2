"""Tables of oversight: misuse rules, the events they raise, and suspensions of keys and orgs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from valuechain.core.db import Base, IdColumn, UTCDateTime


class MisuseRule(Base):
    """A provider's rule over its offers' traffic: a pattern in prompts/outputs, or a rate anomaly."""

    __tablename__ = "oversight_rules"

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True)
    provider_org_id: Mapped[str] = mapped_column(String(40), index=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))  # pattern | rate
    target: Mapped[str] = mapped_column(String(16), default="prompt")  # prompt | output | both
    pattern: Mapped[str | None] = mapped_column(Text, nullable=True)  # a regular expression
    threshold_rpm: Mapped[int | None] = mapped_column(Integer, nullable=True)
    action: Mapped[str] = mapped_column(String(16))  # flag | throttle | suspend
    scope: Mapped[str] = mapped_column(String(8), default="key")  # key | org
    throttle_rpm: Mapped[int | None] = mapped_column(Integer, nullable=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class MisuseEvent(Base):
    """A rule matched a request (or a provider acted by hand)."""

    __tablename__ = "oversight_events"

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    provider_org_id: Mapped[str] = mapped_column(String(40), index=True)
    rule_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    org_id: Mapped[str] = mapped_column(String(40), index=True)
    key_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    request_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    action: Mapped[str] = mapped_column(String(16))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Suspension(Base):
    """A key or org cut off (or throttled) from a provider's offers until reinstated."""

    __tablename__ = "oversight_suspensions"

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True)
    provider_org_id: Mapped[str] = mapped_column(String(40), index=True)
    subject_type: Mapped[str] = mapped_column(String(8))  # key | org
    subject_id: Mapped[str] = mapped_column(String(40), index=True)
    kind: Mapped[str] = mapped_column(String(16), default="suspend")  # suspend | throttle
    throttle_rpm: Mapped[int | None] = mapped_column(Integer, nullable=True)
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(200))
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    lifted_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    lift_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
