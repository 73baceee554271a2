"""Pydantic I/O of the compliance API (the output shape of issue 5, documented in docs/compliance.md)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from valuechain.core.schema import InputModel


class ModelStatusPublic(BaseModel):
    """A model's classification under the regime; null means the facts cannot decide."""

    id: str
    gpai: bool | None
    systemic_risk: bool | None
    open_source_exempt: bool | None
    provider: str | None = Field(description="The actor that is the model's provider for the Union market.")
    because: list[str]


class ObligationPublic(BaseModel):
    """One duty of one actor for one model or system."""

    actor: str
    subject: str = Field(description="Model or system id.")
    rule: str = Field(description="Rule id of the regime, e.g. A53.1.a.")
    citation: str
    scope: str = Field(description="full, or modification (a modifier's duties are limited to it).")
    applies_from: date
    due: date | None
    status: str = Field(description="open, overdue, not yet applicable, cannot decide, or the evidence held.")
    because: list[str] = Field(description="The facts that triggered it.")


class ClaimNotePublic(BaseModel):
    """A statement naming an organisation that has not confirmed it; it creates no obligation for it."""

    actor: str = Field(description="The organisation named.")
    subject: str = Field(description="The record naming it: model, system, derivation or offer.")
    role: str = Field(description="released_by, deployer, parent_supplier, on_behalf_of or offer_upstream.")
    claimed_by: str
    status: str = Field(description="pending or rejected.")
    note: str = Field(description="e.g. `... claimed by X, not confirmed`.")


class ObligationsPublic(BaseModel):
    """The evaluation of the chain."""

    regime: str
    regime_version: str
    as_of: date
    models: list[ModelStatusPublic]
    obligations: list[ObligationPublic]
    notes: list[ClaimNotePublic] = Field(
        default_factory=list, description="Claims not confirmed by the organisation they name (issue 9)."
    )


class WhatIfRequest(InputModel):
    """Changes to evaluate in memory; nothing is written."""

    changes: list[str] = Field(
        min_length=1,
        max_length=100,
        description="Change expressions, e.g. `models[org/m].weights_public=true` or "
        "`+offers={model: org/m, by: org, channel: api}` (docs/compliance.md, What-if).",
    )
    as_of: date | None = None
    regime: str = "eu-ai-act"


class ChangedObligation(BaseModel):
    before: ObligationPublic
    after: ObligationPublic


class ChangedModel(BaseModel):
    before: ModelStatusPublic | None
    after: ModelStatusPublic | None


class WhatIfPublic(BaseModel):
    """The difference in obligations the changes would make."""

    added: list[ObligationPublic]
    removed: list[ObligationPublic]
    changed: list[ChangedObligation]
    models: list[ChangedModel]
    recomputed: dict[str, int] = Field(description="How many models and systems were re-evaluated.")


# -- accountability records (issue 13) -------------------------------------------------------------------


class ObligationKey(InputModel):
    """Which obligation: actor, subject and rule id."""

    actor: str
    subject: str
    rule: str


class EvidenceCreate(InputModel):
    """Evidence meeting one obligation of your organisation."""

    obligation: ObligationKey
    kind: str = Field(description="evaluation, notification, summary or document.")
    sha256: str = Field(description="SHA-256 (hex) of the exact file that is the evidence.")
    note: str = Field(default="", max_length=2_000)


class SignOff(InputModel):
    """Sign off a generated document as evidence."""

    note: str = Field(default="", max_length=2_000)
    signer: str = Field(
        default="",
        max_length=120,
        description="The person who signs off, e.g. 'Jane Roe, Head of Compliance' (an API key names no "
        "person); kept with the key or user that made the call.",
    )


class EvaluationCreate(BaseModel):
    """An evaluation run: a shipped suite over one channel of a model (issue 13 point 6)."""

    suite: Literal["builtin-mc", "builtin-mc-short"] = Field(
        default="builtin-mc",
        description="A shipped suite; `builtin-mc-short` (3 items) is a quick channel check, not evidence.",
    )
    channel: Literal["api", "weights"] = "weights"
    #: api channel: the model name on /v1 (default: the model id); the run is called with your own key
    served_name: str | None = Field(default=None, max_length=200)
    #: weights channel: the hub repo holding the GGUF (default: the model id) and its revision
    repo: str | None = Field(default=None, max_length=200)
    revision: str = Field(default="main", max_length=200)


class EvaluationItemPublic(BaseModel):
    """One item: the choice picked, the answer, every choice's log-likelihood."""

    index: int
    picked: int
    answer: int
    correct: bool
    loglikelihoods: list[float]


class EvaluationPublic(BaseModel):
    """A stored evaluation run (evidence for Annex XI §2 and Art. 55(1)(a))."""

    id: str
    model: str
    channel: str
    role: str
    suite: str
    suite_sha256: str
    score: float
    correct: int
    total: int
    sha256: str
    run_by: str
    created_at: str
    items: list[EvaluationItemPublic]


class EvidencePublic(BaseModel):
    """A piece of evidence; ``stale`` when the facts it covers changed since the sign-off."""

    id: str
    actor: str
    subject: str
    rule: str
    kind: str
    sha256: str
    signed_by: str
    signed_at: str
    stale: bool
    note: str


class IncidentCreate(InputModel):
    """A serious incident of one of your models or systems (Art. 73, Art. 55(1)(c))."""

    subject: str = Field(description="Model or system id.")
    category: str = Field(
        description="critical_infrastructure, widespread_infringement, cybersecurity_breach, death, health, "
        "fundamental_rights or property_or_environment."
    )
    aware_on: date = Field(description="The day you became aware of the incident.")
    description: str = Field(min_length=1, max_length=20_000)


class IncidentReportCreate(InputModel):
    """A report on an incident."""

    kind: str = Field(description="initial, intermediate, complete or final.")
    text: str = Field(min_length=1, max_length=50_000)
    resolved_on: date | None = None


class IncidentPublic(BaseModel):
    """An incident with the next report owed and its deadline."""

    id: str
    subject: str
    category: str
    systemic_model: bool
    aware_on: str
    resolved_on: str | None
    description: str
    reports: list[dict[str, str]]
    next_report: str
    due: str | None
    overdue: bool
    source: str


class ComplaintCreate(InputModel):
    """A complaint by a person affected by an AI model or system (no account needed)."""

    subject: str = Field(description="The model or system id, e.g. shop/assistant.")
    text: str = Field(min_length=10, max_length=10_000)


class ComplaintAnswer(InputModel):
    """An answer by an organisation the complaint is routed to."""

    text: str = Field(min_length=1, max_length=10_000)
    close: bool = False


class ComplaintPublic(BaseModel):
    """A complaint: its tracking id, status and answers (text and routing only for its addressees)."""

    id: str
    subject: str
    status: str
    created_at: str
    answers: list[dict[str, str]]
    text: str | None = None
    routed_to: list[str] | None = None


class InspectorGrantCreate(InputModel):
    """Let an organisation inspect organisations or models for a period (operator only)."""

    inspector: str = Field(
        description="Slug of the inspecting organisation (e.g. a market surveillance authority)."
    )
    orgs: list[str] = Field(default_factory=list, description="Organisations it may inspect (slugs).")
    models: list[str] = Field(default_factory=list, description="Models it may inspect (<org>/<name>).")
    valid_from: date
    valid_until: date


class InspectorGrantPublic(BaseModel):
    """An inspector grant."""

    id: str
    inspector: str
    orgs: list[str]
    models: list[str]
    valid_from: str
    valid_until: str
