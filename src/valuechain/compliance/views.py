"""Classified views of models and systems, and three-valued logic (True, False, None = cannot decide)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from valuechain.compliance.facts import ModelFact, SystemFact

Tri = bool | None


def and3(*values: Tri) -> Tri:
    """Kleene conjunction: False wins, then None (cannot decide), else True."""
    result: Tri = True
    for value in values:
        if value is False:
            return False
        if value is None:
            result = None
    return result


def or3(*values: Tri) -> Tri:
    """Kleene disjunction: True wins, then None, else False."""
    result: Tri = False
    for value in values:
        if value is True:
            return True
        if value is None:
            result = None
    return result


def not3(value: Tri) -> Tri:
    """Kleene negation."""
    return None if value is None else not value


def flop(value: float) -> str:
    """``1.26e+23`` → ``1.26e23`` for explanations."""
    return f"{value:.3g}".replace("e+", "e")


@dataclass(frozen=True, slots=True)
class ProviderRole:
    """An actor that is (or may be: ``decided`` None) the provider of a model, and for what scope."""

    actor: str
    scope: str  # "full" | "modification"
    decided: Tri
    reason: str


@dataclass(frozen=True, slots=True)
class ModelView:
    """A model classified under a regime; children depend only on ``lineage_key``."""

    fact: ModelFact
    compute: float | None
    gpai: Tri
    systemic: Tri
    designated: bool
    open_source: bool
    exempt: Tri
    placed: bool
    placing_date: date | None
    roles: tuple[ProviderRole, ...]
    because: tuple[str, ...]
    gpai_reason: str
    systemic_reason: str
    exempt_reason: str
    placing_reason: str

    @property
    def provider(self) -> str | None:
        """The first decided provider, or None."""
        return next((r.actor for r in self.roles if r.decided is True), None)

    @property
    def lineage_key(self) -> tuple[object, ...]:
        """What a derived model reads from its parent (early cut-off of incremental re-evaluation)."""
        return (
            self.compute,
            self.gpai,
            self.systemic,
            self.fact.releaser,
            self.fact.owner,
            tuple((r.actor, r.decided) for r in self.roles),
        )


@dataclass(frozen=True, slots=True)
class SystemView:
    """A system classified under a regime."""

    fact: SystemFact
    placed: bool
    high_risk: bool
    high_risk_reason: str
    legacy_note: str | None
    initial_provider: str | None = None  # Art. 25(2): who provided the system it was made from
    initial_excludes_high_risk: bool = False  # Art. 25(2) last sentence
    source_high_risk: bool | None = None  # the system it was made from was high-risk (None: not in the chain)


@dataclass(frozen=True, slots=True)
class Hit:
    """One actor a rule applies to, whether that is decided, and the facts behind it."""

    actor: str
    decided: Tri
    because: tuple[str, ...]
