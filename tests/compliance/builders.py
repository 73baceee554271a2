"""Small builders for compliance test chains (facts, not manifests, so every fact can be set)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from valuechain.compliance.engine import Evaluation, Obligation, evaluate
from valuechain.compliance.facts import (
    ActorFact,
    ChainFacts,
    DerivationFact,
    ModelFact,
    OfferFact,
    ResaleFact,
    SystemFact,
)

AS_OF = date(2026, 11, 28)

ACTORS = [
    ActorFact("lab", "Lab SAS", "FR"),
    ActorFact("uslab", "US Lab Inc", "US"),
    ActorFact("tuner", "Tuner GmbH", "DE"),
    ActorFact("ustuner", "US Tuner Inc", "US"),
    ActorFact("contractor", "Contractor BV", "NL"),
    ActorFact("reseller", "Reseller SRL", "IT"),
    ActorFact("shop", "Shop SA", "FR"),
    ActorFact("vendor", "Vendor Oy", "FI"),
    ActorFact("bank", "Bank SpA", "IT", public_body=False, public_service=False),
    ActorFact("city", "City of Utrecht", "NL", public_body=True),
    ActorFact("agency", "Agency AB", "SE"),
]


def model(model_id: str = "lab/m", **kw: Any) -> ModelFact:
    """A proprietary text model above the GPAI criterion, placed in the EU on 1 Sep 2025."""
    base = ModelFact(
        id=model_id,
        releaser=model_id.split("/")[0],
        training_compute_flop=2e23,
        output_modalities=frozenset({"text"}),
        eu_market=date(2025, 9, 1),
    )
    return replace(base, **kw)


def open_model(model_id: str = "uslab/open", **kw: Any) -> ModelFact:
    """A model meeting every open-source condition (Art. 53(2), GL §4.2)."""
    fields = {
        "licence": "apache-2.0",
        "weights_public": True,
        "architecture_public": True,
        "usage_info_public": True,
    }
    return model(model_id, **{**fields, **kw})


def system(system_id: str = "shop/bot", **kw: Any) -> SystemFact:
    base = SystemFact(
        id=system_id,
        provider=system_id.split("/")[0],
        deployers=(system_id.split("/")[0],),
        eu_market=date(2026, 9, 1),
    )
    return replace(base, **kw)


def chain(
    *models: ModelFact,
    derivations: list[DerivationFact] | None = None,
    offers: list[OfferFact] | None = None,
    systems: list[SystemFact] | None = None,
    actors: list[ActorFact] | None = None,
    resale: list[ResaleFact] | None = None,
) -> ChainFacts:
    return ChainFacts.build(
        actors=ACTORS + (actors or []),
        models=list(models),
        derivations=derivations or [],
        offers=offers or [],
        systems=systems or [],
        resale=resale,
    )


def run(
    facts: ChainFacts, **kw: Any
) -> tuple[Evaluation, dict[tuple[str, str, str], Obligation], dict[str, Any]]:
    kw.setdefault("as_of", AS_OF)
    result = evaluate(facts, **kw)
    data = result.as_dict()
    return result, {o.key: o for o in result.obligations}, {m["id"]: m for m in data["models"]}
