"""Results of an evaluation: obligations, the output document, and diffs after changed facts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from valuechain.compliance.facts import ActorFact, DerivationFact, ModelFact, OfferFact, SystemFact
from valuechain.compliance.views import ModelView

EvidenceKey = tuple[str, str, str]  # (actor, subject, rule)


@dataclass(frozen=True, slots=True)
class Obligation:
    """One duty of one actor for one model or system, with its dates, status and the facts behind it."""

    actor: str
    subject: str
    rule: str
    citation: str
    scope: str
    applies_from: date
    due: date | None
    status: str
    because: tuple[str, ...]

    @property
    def key(self) -> EvidenceKey:
        return (self.actor, self.subject, self.rule)

    def as_dict(self) -> dict[str, Any]:
        return {
            "actor": self.actor,
            "subject": self.subject,
            "rule": self.rule,
            "citation": self.citation,
            "scope": self.scope,
            "applies_from": self.applies_from.isoformat(),
            "due": self.due.isoformat() if self.due else None,
            "status": self.status,
            "because": list(self.because),
        }


@dataclass(frozen=True, slots=True)
class ClaimNote:
    """A registry statement naming an organisation that has not confirmed it: no obligation attaches to it."""

    actor: str
    subject: str
    role: str
    claimed_by: str
    status: str
    note: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "actor": self.actor,
            "subject": self.subject,
            "role": self.role,
            "claimed_by": self.claimed_by,
            "status": self.status,
            "note": self.note,
        }


def model_entry(view: ModelView) -> dict[str, Any]:
    """The ``models[]`` item of the output."""
    return {
        "id": view.fact.id,
        "gpai": view.gpai,
        "systemic_risk": view.systemic,
        "open_source_exempt": view.exempt,
        "provider": view.provider,
        "because": list(view.because),
    }


@dataclass
class Evaluation:
    """The result of evaluating a chain under one regime on one date."""

    regime: str
    regime_version: str
    as_of: date
    models: list[ModelView]
    obligations: list[Obligation]
    notes: list[ClaimNote] = field(default_factory=list)  # registry-backed only: unconfirmed claims

    def for_actor(self, actor: str) -> Evaluation:
        """Only ``actor``'s obligations and claim notes, and the models it holds a duty for or a role in."""
        obligations = [o for o in self.obligations if o.actor == actor]
        subjects = {o.subject for o in obligations}
        models = [
            v
            for v in self.models
            if v.fact.id in subjects or actor in (v.fact.owner, v.fact.releaser, *(r.actor for r in v.roles))
        ]
        notes = [n for n in self.notes if actor in (n.actor, n.claimed_by)]
        return Evaluation(self.regime, self.regime_version, self.as_of, models, obligations, notes)

    def as_dict(self) -> dict[str, Any]:
        out = {
            "regime": self.regime,
            "regime_version": self.regime_version,
            "as_of": self.as_of.isoformat(),
            "models": [model_entry(v) for v in self.models],
            "obligations": [o.as_dict() for o in self.obligations],
        }
        if self.notes:  # a manifest file's statements are taken as given: no notes there
            out["notes"] = [n.as_dict() for n in self.notes]
        return out


@dataclass
class Diff:
    """What changed in the obligations (and model classifications) after a change of facts."""

    added: list[Obligation] = field(default_factory=list)
    removed: list[Obligation] = field(default_factory=list)
    changed: list[tuple[Obligation, Obligation]] = field(default_factory=list)
    models: list[tuple[dict[str, Any] | None, dict[str, Any] | None]] = field(default_factory=list)
    recomputed_models: int = 0
    recomputed_systems: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "added": [o.as_dict() for o in self.added],
            "removed": [o.as_dict() for o in self.removed],
            "changed": [{"before": a.as_dict(), "after": b.as_dict()} for a, b in self.changed],
            "models": [{"before": a, "after": b} for a, b in self.models],
            "recomputed": {"models": self.recomputed_models, "systems": self.recomputed_systems},
        }

    def record(self, before: list[Obligation], after: list[Obligation]) -> None:
        old = {o.key: o for o in before}
        new = {o.key: o for o in after}
        self.removed += [o for k, o in old.items() if k not in new]
        self.added += [o for k, o in new.items() if k not in old]
        self.changed += [(old[k], o) for k, o in new.items() if k in old and old[k] != o]


@dataclass
class Change:
    """Facts to add or replace: by id; derivations by (parent, child); offers by (model, by, channel)."""

    actors: list[ActorFact] = field(default_factory=list)
    models: list[ModelFact] = field(default_factory=list)
    derivations: list[DerivationFact] = field(default_factory=list)
    offers: list[OfferFact] = field(default_factory=list)
    systems: list[SystemFact] = field(default_factory=list)
