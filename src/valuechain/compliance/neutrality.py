"""Channel neutrality: the same model's duties under every release channel, and why any of them differ.

Obligations attach to (actor, model), never to a channel (DESIGN.md); the only channel-dependent difference
the Act makes for GPAI models is the open-source exemption (Art. 53(2), 54(6)), which needs public weights.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from valuechain.compliance.engine import Engine
from valuechain.compliance.facts import ChainFacts, ModelFact
from valuechain.compliance.pack import load_regime
from valuechain.core.errors import NotFoundError
from valuechain.registry.manifest import Channel

# How each channel changes the facts the rules read (DESIGN.md, "Release channels are offers").
_WEIGHTS_PUBLIC = {"open_weights"}
_PAID = {"api", "marketplace", "white_label", "customer_specific", "software_sale", "kit"}


@dataclass(frozen=True, slots=True)
class DutyLine:
    """One duty of the model's provider(s) and the channels under which it applies."""

    rule: str
    citation: str
    title: str
    channels: tuple[str, ...]
    why: str = ""


@dataclass
class NeutralityReport:
    """Duties that are identical whatever the channel, and those that differ only because of an exemption."""

    model: str
    as_of: date
    channels: tuple[str, ...]
    identical: list[DutyLine] = field(default_factory=list)
    differing: list[DutyLine] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        def line(d: DutyLine) -> dict[str, Any]:
            return {
                "rule": d.rule,
                "citation": d.citation,
                "title": d.title,
                "channels": list(d.channels),
                "why": d.why,
            }

        return {
            "model": self.model,
            "as_of": self.as_of.isoformat(),
            "channels": list(self.channels),
            "identical": [line(d) for d in self.identical],
            "differing": [line(d) for d in self.differing],
            "notes": self.notes,
        }


def channel_variant(fact: ModelFact, channel: str, as_of: date) -> ModelFact:
    """The model as if released in the Union only through ``channel``."""
    return replace(
        fact,
        weights_public=channel in _WEIGHTS_PUBLIC,
        monetised=fact.monetised | {"paid_access"} if channel in _PAID else fact.monetised,
        eu_market=fact.eu_market or as_of,
        eu_excluded=False,
    )


def _lineage(facts: ChainFacts, model_id: str) -> ChainFacts:
    """The model with its ancestors (their classification decides who provides it), nothing else."""
    parents: dict[str, list[str]] = {}
    for d in facts.derivations:
        parents.setdefault(d.child, []).append(d.parent)
    keep, stack = {model_id}, [model_id]
    while stack:
        for parent in parents.get(stack.pop(), []):
            if parent not in keep and parent in facts.models:
                keep.add(parent)
                stack.append(parent)
    return ChainFacts.build(
        actors=list(facts.actors.values()),
        models=[m for k, m in facts.models.items() if k in keep],
        derivations=[d for d in facts.derivations if d.child in keep and d.parent in keep],
        as_of=facts.as_of,
    )


def neutrality(
    facts: ChainFacts, model_id: str, *, regime: str = "eu-ai-act", as_of: date | None = None
) -> NeutralityReport:
    """Evaluate the model under each channel and compare its providers' duties."""
    if model_id not in facts.models:
        raise NotFoundError(f"unknown model `{model_id}`")
    pack = load_regime(regime).pack
    day = as_of or facts.as_of or date.today()
    base = _lineage(facts, model_id)
    channels = tuple(str(c) for c in Channel)
    duties: dict[str, set[str]] = {}
    reasons: dict[str, str] = {}
    for channel in channels:
        models = dict(base.models)
        models[model_id] = channel_variant(models[model_id], channel, day)
        engine = Engine(replace(base, models=models), regime=regime, as_of=day)
        engine.evaluate()
        view = engine.view(model_id)
        reasons[channel] = view.exempt_reason or view.gpai_reason
        duties[channel] = {o.rule for o in engine.evaluation().obligations if o.subject == model_id}
    report = NeutralityReport(model=model_id, as_of=day, channels=channels)
    every = set.intersection(*duties.values())
    for spec in pack.rules:
        where = tuple(c for c in channels if spec.id in duties[c])
        if not where:
            continue
        if spec.id in every:
            report.identical.append(DutyLine(spec.id, spec.citation, spec.title, where))
            continue
        lifted = [c for c in channels if c not in where]
        why = f"lifted under {', '.join(lifted)}: {reasons[lifted[0]]}"
        report.differing.append(DutyLine(spec.id, spec.citation, spec.title, where, why))
    if not report.differing:
        report.notes.append(f"no channel changes the duties: {reasons['open_weights']}")
    report.notes.append(
        "under white_label, a reseller placing the model under its own brand may itself become "
        "its provider (Art. 3(3)); the duties stay the same"
    )
    return report
