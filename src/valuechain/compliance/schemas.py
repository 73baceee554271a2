"""Pydantic I/O of the compliance API (the output shape of issue 5, documented in docs/compliance.md)."""

from __future__ import annotations

from datetime import date

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
