"""Pydantic I/O of the registry API."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from valuechain.core.schema import InputModel
from valuechain.registry.manifest import (
    MODEL_REF,
    SLUG,
    VERSION_LABEL,
    AnnexIII,
    Channel,
    ModelFacts,
    Relation,
    SyntheticOutput,
)

NAME = r"^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9])?$"
SHA256 = r"^[0-9a-f]{64}$"
REF = MODEL_REF[:-1] + r"(?:@[A-Za-z0-9][A-Za-z0-9._+-]{0,63})?$"


class _In(InputModel):
    model_config = ConfigDict(extra="forbid")


class ModelCreate(ModelFacts):
    name: str = Field(pattern=NAME, description="Model name; the id becomes <org>/<name>.")
    released_by: str | None = Field(default=None, pattern=SLUG, description="Releasing actor; default owner.")
    visibility: str = Field(default="private", pattern="^(public|private)$")


class ModelPublic(ModelFacts):
    # Output: rows stored before numbers had to be finite still render (as null in JSON).
    model_config = ConfigDict(extra="ignore", frozen=True, allow_inf_nan=True)

    id: str = Field(description="<org>/<name>")
    owner: str
    released_by: str
    visibility: str
    training_compute_method: str | None = Field(description="given, 6ND (estimated), or null if unknown.")
    versions: list[str] = Field(default_factory=list, description="Version labels, oldest first.")
    created_at: datetime
    updated_at: datetime


class ArtifactIn(_In):
    path: str = Field(min_length=1, max_length=1000)
    sha256: str = Field(pattern=SHA256)
    size: int = Field(ge=0)
    media_type: str | None = Field(default=None, max_length=200)


class VersionCreate(_In):
    label: str = Field(pattern=VERSION_LABEL)
    notes: str | None = Field(default=None, max_length=10_000)
    artifacts: list[ArtifactIn] = Field(default_factory=list, max_length=10_000)


class VersionPublic(BaseModel):
    model: str
    label: str
    notes: str | None
    artifacts: list[ArtifactIn]
    created_at: datetime


class DerivationCreate(_In):
    parent: str | None = Field(
        default=None, pattern=REF, description="<org>/<name>[@version] in the registry."
    )
    external_parent: str | None = Field(
        default=None, max_length=300, description="A parent outside this registry, e.g. a hub id."
    )
    child: str = Field(pattern=REF, description="Your model, <org>/<name>[@version].")
    relation: Relation
    compute_flop: float | None = Field(default=None, ge=0, description="Compute used for the modification.")
    on_behalf_of: str | None = Field(default=None, pattern=SLUG)
    data_summary: str | None = Field(default=None, max_length=20_000)


class DerivationPublic(BaseModel):
    id: str
    parent: str | None
    external_parent: str | None
    child: str
    relation: Relation
    compute_flop: float | None
    by: str
    on_behalf_of: str | None
    data_summary: str | None
    created_at: datetime


class LineagePublic(BaseModel):
    model: str
    parents: list[DerivationPublic]
    children: list[DerivationPublic]


class SystemCreate(_In):
    name: str = Field(pattern=NAME, description="System name; the id becomes <org>/<name>.")
    deployers: list[str] = Field(default_factory=list, max_length=1000)
    models: list[str] = Field(default_factory=list, max_length=1000)
    intended_purpose: str = Field(default="", max_length=10_000)
    interacts_with_persons: bool = False
    synthetic_output: list[SyntheticOutput] = Field(default_factory=list)
    deep_fake: bool = False
    public_interest_text: bool = False
    annex_iii: list[AnnexIII] = Field(default_factory=list)
    eu_market: date | None = None


class SystemPublic(BaseModel):
    id: str
    provider: str
    deployers: list[str]
    models: list[str]
    intended_purpose: str
    interacts_with_persons: bool
    synthetic_output: list[SyntheticOutput]
    deep_fake: bool
    public_interest_text: bool
    annex_iii: list[AnnexIII]
    eu_market: date | None
    created_at: datetime


class OfferCreate(_In):
    model: str = Field(pattern=REF, description="<org>/<name>[@version]; default the latest version.")
    channel: Channel
    brand: str | None = Field(default=None, max_length=200)
    eu: bool = True


class OfferPublic(BaseModel):
    id: str
    model: str
    by: str
    channel: Channel
    brand: str
    eu: bool
    created_at: datetime


class SystemUpdate(_In):
    """Fields of a system to change; omitted fields stay. ``deployers`` and ``models`` replace the lists."""

    deployers: list[str] | None = Field(default=None, max_length=1000)
    models: list[str] | None = Field(default=None, max_length=1000)
    intended_purpose: str | None = Field(default=None, max_length=10_000)
    interacts_with_persons: bool | None = None
    synthetic_output: list[SyntheticOutput] | None = None
    deep_fake: bool | None = None
    public_interest_text: bool | None = None
    annex_iii: list[AnnexIII] | None = None
    eu_market: date | None = None


class OfferUpdate(_In):
    """Fields of an offer to change; the model version, provider and channel make the offer and stay."""

    brand: str | None = Field(default=None, min_length=1, max_length=200)
    eu: bool | None = None


class ClaimField(StrEnum):
    """How a claim names another organisation."""

    released_by = "released_by"
    deployer = "deployer"
    parent_supplier = "parent_supplier"
    on_behalf_of = "on_behalf_of"
    offer_upstream = "offer_upstream"


class ClaimStatus(StrEnum):
    pending = "pending"
    confirmed = "confirmed"
    rejected = "rejected"


class ClaimPublic(BaseModel):
    """A statement of one organisation naming another; it counts only once the named one confirms."""

    id: str
    subject_kind: str = Field(description="model, system, derivation or offer.")
    subject_id: str
    subject: str = Field(description="The record as people name it, e.g. `org/name` or `parent->child`.")
    field: ClaimField
    claimant: str = Field(description="The organisation that made the statement.")
    named: str = Field(description="The organisation named; only it may confirm or reject.")
    status: ClaimStatus
    note: str = Field(description="What the obligations output says about it.")
    created_at: datetime
    decided_at: datetime | None
    decided_by: str | None


class ClaimAnswer(_In):
    reason: str | None = Field(default=None, max_length=2000, description="Kept in the audit log.")


class AgreementCreate(_In):
    agent: str = Field(pattern=SLUG, description="The organisation allowed to offer the model(s).")
    model: str | None = Field(
        default=None, pattern=MODEL_REF, description="One of your models, <org>/<name>; omit for all of them."
    )
    channels: list[Channel] = Field(min_length=1, description="The kinds of offer allowed.")


class AgreementPublic(BaseModel):
    """A model owner's consent that another organisation offers its model(s) through some channels."""

    id: str
    owner: str
    agent: str
    model: str | None = Field(description="null: every model of the owner.")
    channels: list[Channel]
    created_at: datetime
    created_by: str
    revoked_at: datetime | None
    revoked_by: str | None


class ProblemPublic(BaseModel):
    line: int | None = Field(description="Line of the manifest, where known.")
    path: str = Field(description="Where in the manifest, e.g. `models[0].released_by`.")
    message: str


class ChainCheckPublic(BaseModel):
    """The outcome of checking a manifest: every problem, or the number of records of each kind."""

    valid: bool
    problems: list[ProblemPublic]
    counts: dict[str, int] | None = None


class ImportReportPublic(BaseModel):
    """How many records of each kind an import created, updated and left unchanged."""

    created: dict[str, int]
    updated: dict[str, int]
    unchanged: dict[str, int]
