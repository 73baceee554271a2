"""Tables of the accountability records (issue 13): evidence, serious incidents, complaints, inspector grants.

Owned by ``compliance.records``; the engine never reads them (it gets evidence as plain values).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from valuechain.core.db import Base, IdColumn, UTCDateTime


class Evidence(Base):
    """What meets one obligation: a signed-off document, an evaluation, a summary, a notification."""

    __tablename__ = "compliance_evidence"

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True)
    org_id: Mapped[str] = mapped_column(String(40), index=True)
    actor: Mapped[str] = mapped_column(String(64))  # the organisation's slug (the obligation's actor)
    subject: Mapped[str] = mapped_column(String(200), index=True)
    rule: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))  # document | evaluation | summary | notification
    sha256: Mapped[str] = mapped_column(String(64))
    signed_by: Mapped[str] = mapped_column(String(200))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    covers: Mapped[str] = mapped_column(String(64))  # fingerprint of the facts the evidence is about
    note: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Incident(Base):
    """A serious incident of a model or system (Art. 73, Art. 55(1)(c), CoP Measure 9)."""

    __tablename__ = "compliance_incidents"

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True)
    org_id: Mapped[str] = mapped_column(String(40), index=True)
    subject: Mapped[str] = mapped_column(String(200), index=True)
    category: Mapped[str] = mapped_column(String(32))
    systemic_model: Mapped[bool] = mapped_column(default=False)
    aware_on: Mapped[date] = mapped_column(Date)
    resolved_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    description: Mapped[str] = mapped_column(Text)
    reports: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Complaint(Base):
    """A complaint by an affected person about a model or system, routed to the responsible actors."""

    __tablename__ = "compliance_complaints"

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True)  # the tracking id given to the person
    subject: Mapped[str] = mapped_column(String(200), index=True)
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="received")  # received | answered | closed
    routed_to: Mapped[list[str]] = mapped_column(JSON, default=list)  # org slugs
    answers: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    client_hash: Mapped[str] = mapped_column(String(64), index=True)  # for the rate limit; no address kept
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class DocumentationField(Base):
    """One recorded Annex XI/XII or training-content field of a registry model (manifest format 2 names)."""

    __tablename__ = "compliance_documentation"

    model: Mapped[str] = mapped_column(String(200), primary_key=True)
    field: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    org_id: Mapped[str] = mapped_column(String(40), index=True)
    updated_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class InspectorGrant(Base):
    """An operator's grant to an inspecting organisation: which organisations or models, for which period."""

    __tablename__ = "compliance_inspector_grants"

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True)
    inspector_org_id: Mapped[str] = mapped_column(String(40), index=True)
    orgs: Mapped[list[str]] = mapped_column(JSON, default=list)  # slugs of inspected organisations
    models: Mapped[list[str]] = mapped_column(JSON, default=list)  # model ids
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)
    granted_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class EvaluationRun(Base):
    """One evaluation suite run over one channel of a model (Annex XI §2, Art. 55(1)(a); issue 13 point 6).

    ``org_id`` is the organisation that ran it (the provider, or an inspector); ``model_org_id`` the
    provider's, which sees every run of its models, an inspector's included.
    """

    __tablename__ = "compliance_evaluations"

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True)
    org_id: Mapped[str] = mapped_column(String(40), index=True)
    model_org_id: Mapped[str] = mapped_column(String(40), index=True)
    model: Mapped[str] = mapped_column(String(200), index=True)
    channel: Mapped[str] = mapped_column(String(16))  # api | weights
    role: Mapped[str] = mapped_column(String(16))  # provider | inspector
    suite: Mapped[str] = mapped_column(String(64))
    suite_sha256: Mapped[str] = mapped_column(String(64))
    score: Mapped[float] = mapped_column()
    correct: Mapped[int] = mapped_column()
    total: Mapped[int] = mapped_column()
    sha256: Mapped[str] = mapped_column(String(64))  # of the canonical result (suite hash, items)
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    run_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
