"""Tables of the registry: models, versions, artifacts, derivations, systems, offers, claims, agreements."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from valuechain.core.db import Base, IdColumn, UTCDateTime


class Model(Base):
    """A model and the facts that decide its obligations; mutable, its versions are not."""

    __tablename__ = "models"

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True)
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    owner_org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    released_by_org_id: Mapped[str | None] = mapped_column(ForeignKey("organizations.id"), nullable=True)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    visibility: Mapped[str] = mapped_column(String(16), default="private")
    input_modalities: Mapped[list[str]] = mapped_column(JSON, default=list)
    output_modalities: Mapped[list[str]] = mapped_column(JSON, default=list)
    parameters: Mapped[float | None] = mapped_column(Float, nullable=True)
    training_compute_flop: Mapped[float | None] = mapped_column(Float, nullable=True)
    training_tokens: Mapped[float | None] = mapped_column(Float, nullable=True)
    training_data_summary: Mapped[str | None] = mapped_column(Text, nullable=True)
    gpai_override: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    licence: Mapped[str] = mapped_column(String(200), default="proprietary")
    licence_terms: Mapped[list[str]] = mapped_column(JSON, default=list)
    weights_public: Mapped[bool] = mapped_column(Boolean, default=False)
    architecture_public: Mapped[bool] = mapped_column(Boolean, default=False)
    usage_info_public: Mapped[bool] = mapped_column(Boolean, default=False)
    monetised: Mapped[list[str]] = mapped_column(JSON, default=list)
    eu_market: Mapped[date | None] = mapped_column(Date, nullable=True)
    eu_excluded: Mapped[bool] = mapped_column(Boolean, default=False)
    designated_systemic_risk: Mapped[bool] = mapped_column(Boolean, default=False)
    eu_business_users: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ModelVersion(Base):
    """An immutable version of a model."""

    __tablename__ = "model_versions"
    __table_args__ = (UniqueConstraint("model_id", "label"),)

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True)
    model_id: Mapped[str] = mapped_column(ForeignKey("models.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(64))
    notes: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # lifecycle (issue 11): preview → active → legacy → deprecated → retired, with the dates that matter
    stage: Mapped[str] = mapped_column(String(16), default="active", server_default="active")
    stage_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    deprecated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    sunset_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    successor: Mapped[str | None] = mapped_column(String(300), nullable=True)


class Artifact(Base):
    """A file of a version, identified by its content hash."""

    __tablename__ = "artifacts"
    __table_args__ = (UniqueConstraint("version_id", "path"),)

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True)
    version_id: Mapped[str] = mapped_column(ForeignKey("model_versions.id", ondelete="CASCADE"), index=True)
    path: Mapped[str] = mapped_column(String(1000))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str | None] = mapped_column(String(200), nullable=True)


class Derivation(Base):
    """Lineage: the child version was made from the parent version by an actor, with some compute."""

    __tablename__ = "derivations"
    __table_args__ = (UniqueConstraint("parent_key", "child_version_id"),)

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True)
    parent_version_id: Mapped[str | None] = mapped_column(
        ForeignKey("model_versions.id", ondelete="CASCADE"), nullable=True, index=True
    )
    external_parent: Mapped[str | None] = mapped_column(String(300), nullable=True)
    parent_key: Mapped[str] = mapped_column(String(300))
    child_version_id: Mapped[str] = mapped_column(
        ForeignKey("model_versions.id", ondelete="CASCADE"), index=True
    )
    relation: Mapped[str] = mapped_column(String(32))
    compute_flop: Mapped[float | None] = mapped_column(Float, nullable=True)
    by_org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    on_behalf_of_org_id: Mapped[str | None] = mapped_column(ForeignKey("organizations.id"), nullable=True)
    data_summary: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class System(Base):
    """A downstream AI system that integrates model versions for an intended purpose."""

    __tablename__ = "systems"

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True)
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    provider_org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    intended_purpose: Mapped[str] = mapped_column(Text, default="")
    interacts_with_persons: Mapped[bool] = mapped_column(Boolean, default=False)
    synthetic_output: Mapped[list[str]] = mapped_column(JSON, default=list)
    deep_fake: Mapped[bool] = mapped_column(Boolean, default=False)
    public_interest_text: Mapped[bool] = mapped_column(Boolean, default=False)
    annex_iii: Mapped[list[str]] = mapped_column(JSON, default=list)
    eu_market: Mapped[date | None] = mapped_column(Date, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SystemDeployer(Base):
    """An organisation that deploys a system."""

    __tablename__ = "system_deployers"

    system_id: Mapped[str] = mapped_column(ForeignKey("systems.id", ondelete="CASCADE"), primary_key=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), primary_key=True, index=True)


class SystemModel(Base):
    """A model version used by a system."""

    __tablename__ = "system_models"

    system_id: Mapped[str] = mapped_column(ForeignKey("systems.id", ondelete="CASCADE"), primary_key=True)
    version_id: Mapped[str] = mapped_column(
        ForeignKey("model_versions.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class Offer(Base):
    """A model version released through a channel by an actor under a brand."""

    __tablename__ = "offers"
    __table_args__ = (UniqueConstraint("version_id", "by_org_id", "channel", "brand"),)

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True)
    version_id: Mapped[str] = mapped_column(ForeignKey("model_versions.id", ondelete="CASCADE"), index=True)
    by_org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    channel: Mapped[str] = mapped_column(String(32))
    brand: Mapped[str] = mapped_column(String(200))
    eu: Mapped[bool] = mapped_column(Boolean, default=True)
    terms: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Claim(Base):
    """One organisation naming another in the chain; counts only once the named organisation confirms."""

    __tablename__ = "registry_claims"
    __table_args__ = (UniqueConstraint("subject_kind", "subject_id", "field", "named_org_id"),)

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True)
    subject_kind: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[str] = mapped_column(IdColumn, index=True)
    subject_label: Mapped[str] = mapped_column(String(600))
    field: Mapped[str] = mapped_column(String(32))
    claimant_org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    named_org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(200), nullable=True)


class Agreement(Base):
    """A model owner's consent that an agent organisation offers its model (or all its models)."""

    __tablename__ = "registry_agreements"

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True)
    owner_org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    agent_org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    model_id: Mapped[str | None] = mapped_column(
        ForeignKey("models.id", ondelete="CASCADE"), nullable=True, index=True
    )
    channels: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(200))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
