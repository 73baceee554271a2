"""EU AI Act classification of models (GPAI, systemic risk, open source, provider) and systems (high risk)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

from valuechain.compliance.facts import (
    ActorFact,
    DerivationFact,
    ModelFact,
    OfferFact,
    ResaleFact,
    SystemFact,
)
from valuechain.compliance.pack import Pack
from valuechain.compliance.views import ModelView, ProviderRole, SystemView, Tri, and3, flop, not3, or3

Edge = tuple[DerivationFact, ModelView]


def classify_model(
    fact: ModelFact,
    *,
    edges: Sequence[Edge],
    offers: Sequence[OfferFact],
    systems: Sequence[SystemFact],
    actors: Mapping[str, ActorFact],
    pack: Pack,
    resale: Sequence[ResaleFact] | None = None,
    as_of: date | None = None,
) -> ModelView:
    """Classify one model from its facts, its parents' views and its resale agreements (None: unknown)."""
    compute, compute_reason = _compute(fact, edges)
    roles, lineage_reasons, new_from = _lineage_roles(fact, edges, pack)
    gpai, gpai_reason = _gpai(fact, compute, edges, pack)
    systemic, systemic_reason = _systemic(fact, gpai, compute, edges, new_from, pack)
    open_source, foss_reason = _open_source(fact, pack)
    exempt, exempt_reason = _exemption(open_source, foss_reason, systemic)
    if gpai is False:  # the exemption is from GPAI duties; a model that is not GPAI has none to lift
        exempt, exempt_reason = False, ""
    roles, eu_reasons = _eu_exclusion(fact, roles, offers, systems)
    resold = _Resale(resale, as_of or date.today())
    roles, brand_reasons = _brand_roles(fact, roles, offers, edges, actors, resold)
    placed, placing_date, placing_reason = _placing(fact, roles, offers, systems)
    because = [r for r in (compute_reason, gpai_reason, systemic_reason) if r]
    because += lineage_reasons + eu_reasons + brand_reasons + [exempt_reason, placing_reason]
    if fact.eu_business_users >= pack.value("reach_business_users"):
        because.append(
            f"made available to {fact.eu_business_users} EU business users: reach presumed under "
            "Annex XIII(f); the Commission may designate it (Art. 51(1)(b))"
        )
    return ModelView(
        fact=fact,
        compute=compute,
        gpai=gpai,
        systemic=systemic,
        designated=fact.designated_systemic_risk,
        open_source=open_source,
        exempt=exempt,
        placed=placed,
        placing_date=placing_date,
        roles=roles,
        because=tuple(b for b in because if b),
        gpai_reason=gpai_reason,
        systemic_reason=systemic_reason,
        exempt_reason=exempt_reason,
        placing_reason=placing_reason,
    )


def _compute(fact: ModelFact, edges: Sequence[Edge]) -> tuple[float | None, str]:
    if fact.training_compute_flop is not None:
        return fact.training_compute_flop, f"training compute {flop(fact.training_compute_flop)} FLOP (given)"
    estimate = None
    if fact.parameters is not None and fact.training_tokens is not None:
        value = 6 * fact.parameters * fact.training_tokens
        estimate = (
            value,
            (
                f"training compute estimated as 6·parameters·tokens = 6 × {flop(fact.parameters)} × "
                f"{flop(fact.training_tokens)} = {flop(value)} FLOP (GL Annex A.2.2)"
            ),
        )
    if estimate is not None and (not edges or all(d.relation == "distilled" for d, _ in edges)):
        return estimate  # the model's own training: a root model, or a student (teacher left out)
    distilled = [d for d, _ in edges if d.relation == "distilled"]
    if distilled and len(distilled) == len(edges) and all(d.compute_flop is not None for d in distilled):
        # GL Annex A.1: the compute of training the parent (teacher) model in distillation may be left out.
        value = max(d.compute_flop or 0.0 for d in distilled)
        return value, (
            f"training compute {flop(value)} FLOP of the distillation; the teacher's training compute is "
            "left out (GL Annex A.1)"
        )
    known = [(d, p) for d, p in edges if p.compute is not None and d.compute_flop is not None]
    if edges and not distilled and len(known) == len(edges):
        d, p = max(known, key=lambda e: e[1].compute or 0.0)
        value = (p.compute or 0.0) + (d.compute_flop or 0.0)
        return value, (
            f"cumulative training compute {flop(value)} FLOP = {d.parent} {flop(p.compute or 0.0)} + "
            f"{d.relation} {flop(d.compute_flop or 0.0)} (GL Annex A.1)"
        )
    # A modified model's own tokens count the modification only (GL Annex A.1): used when the cumulative
    # compute is unknown, as before issue 13; recorded Annex XI "data points" no longer hide the parent's.
    return estimate if estimate is not None else (None, "")


def _lineage_roles(
    fact: ModelFact, edges: Sequence[Edge], pack: Pack
) -> tuple[tuple[ProviderRole, ...], list[str], Tri]:
    """Who provides the model; ``new_from`` says whether a modifier became a new provider (GL para 60)."""
    if not edges:
        reason = f"{fact.releaser} places {fact.id} on the market under its own name (Art. 3(3))"
        return (ProviderRole(fact.releaser, "full", True, reason),), [], False
    roles: dict[str, ProviderRole] = {}
    reasons: list[str] = []
    new_from: Tri = False
    for drv, parent in edges:
        role, note, becomes = _edge_role(fact, drv, parent, pack)
        reasons.append(note)
        new_from = or3(new_from, becomes)
        if role is not None and (role.actor not in roles or role.decided is True):
            roles[role.actor] = role
    return tuple(roles.values()), reasons, new_from


def _brand_holder(offer: OfferFact, actors: Mapping[str, ActorFact]) -> str:
    """The actor whose name or trademark an offer's brand is: an actor so named, else the offering actor."""
    brand = (offer.brand or offer.by).strip().lower()
    for actor in actors.values():
        if brand in (actor.id.lower(), actor.name.strip().lower()):
            return actor.id
    return offer.by


def _brand_roles(
    fact: ModelFact,
    roles: tuple[ProviderRole, ...],
    offers: Sequence[OfferFact],
    edges: Sequence[Edge],
    actors: Mapping[str, ActorFact],
    resold: _Resale,
) -> tuple[tuple[ProviderRole, ...], list[str]]:
    """Art. 3(3): the provider develops a model **or has it developed** and places it on the market **under
    its own name or trademark**. An offer under another actor's brand is read against both limbs:

    - commissioned (a derivation made ``on_behalf_of`` the brand, or a ``customer_specific`` offer under the
      customer's brand): the brand had it developed and places it under its own name, so it is a provider;
    - white-labelled or resold under a brand that neither developed nor commissioned it: the name limb is met,
      the development limb is not, and no text read addresses white-labelled models (Art. 25(1)(a) covers
      high-risk AI *systems* only; GL section 3.1 does not treat resale), so whether the brand is a provider
      cannot be decided from the facts; the actors who released it stay providers either way. A reseller
      agreement decides two cases (issue 13 point 2): one asking for the upstream name leaves the reseller no
      name of its own on the model (not a provider); with every agreement recorded and none covering a
      white-label offer, the reseller places the model under its own name without authorisation (provider).
    """
    known = {r.actor for r in roles} | {fact.releaser, fact.owner}
    commissioners = {d.on_behalf_of for d, _ in edges if d.on_behalf_of}
    added: dict[str, ProviderRole] = {}
    notes: list[str] = []
    for offer in offers:
        holder = _brand_holder(offer, actors)
        if holder in known:
            if offer.by not in known and (note := resold.upstream_name(fact, offer, holder, known)):
                notes.append(note)
            continue
        if holder in added and added[holder].decided is True:
            continue
        brand = offer.brand or holder
        if holder in commissioners or offer.channel == "customer_specific":
            how = "commissioned it" if holder in commissioners else "it is made for it (customer_specific)"
            reason = (
                f"{offer.by} offers {fact.id} under the name {brand} of {holder}, which {how}: "
                f"{holder} is a provider (Art. 3(3): has it developed, places it under its own name)"
            )
            added[holder] = ProviderRole(holder, "full", True, reason)
        elif offer.channel == "white_label" and resold.known:
            added[holder] = resold.own_brand(fact, offer, holder, brand, known)
        else:
            reason = (
                f"{offer.by} offers {fact.id} under its brand {brand} ({offer.channel}) without developing "
                "or commissioning it: unsettled under Art. 3(3) (GL section 3.1 is silent): "
                f"{holder} may be a provider"
            )
            added[holder] = ProviderRole(holder, "full", None, reason)
    return roles + tuple(added.values()), notes + [r.reason for r in added.values()]


class _Resale:
    """A model's reseller agreements on the evaluation date (``None``: not recorded, so never missing)."""

    def __init__(self, agreements: Sequence[ResaleFact] | None, on: date) -> None:
        self.known = agreements is not None
        self.agreements = list(agreements or ())
        self.on = on

    def _of(self, offer: OfferFact, known: set[str]) -> list[ResaleFact]:
        """The agreements a provider of the model gave the offering reseller."""
        return [r for r in self.agreements if r.reseller == offer.by and r.provider in known]

    def upstream_name(self, fact: ModelFact, offer: OfferFact, holder: str, known: set[str]) -> str | None:
        """The note on a reseller offering the model under its provider's name by an agreement asking so."""
        agreement = next(
            (r for r in self._of(offer, known) if r.brand == "upstream" and r.lapse(self.on) is None), None
        )
        if agreement is None:
            return None
        return (
            f"{offer.by} resells {fact.id} under {holder}'s name, as {agreement.provider}'s agreement asks: "
            f"not under its own name, so {offer.by} is not a provider (Art. 3(3)); {holder} stays provider"
        )

    def own_brand(
        self, fact: ModelFact, offer: OfferFact, holder: str, brand: str, known: set[str]
    ) -> ProviderRole:
        """A white-label offer under the reseller's brand: unsettled with an agreement covering it, a
        provider without one (placed under its own name without the upstream's authorisation)."""
        agreements = self._of(offer, known)
        holding = [r for r in agreements if r.lapse(self.on) is None]
        cover = next((r for r in holding if r.brand == "own"), None)
        if cover is not None:
            until = f" until {cover.valid_until.isoformat()}" if cover.valid_until else ""
            reason = (
                f"{offer.by} resells {fact.id} as {brand} by {cover.provider}'s agreement{until}: unsettled "
                f"under Art. 3(3) (GL §3.1 silent), {holder} may be a provider; {cover.provider} keeps its "
                f"Art. 53 duties, Annex XII to {offer.by} included"
            )
            return ProviderRole(holder, "full", None, reason)
        if holding:
            why = "its agreement asks for the upstream name"
        elif agreements:
            why = "; ".join(f"agreement {r.lapse(self.on)}" for r in agreements[:2])
        else:
            why = "none recorded"
        reason = (
            f"{offer.by} offers {fact.id} as {brand} (white_label) and no agreement covers it ({why}): "
            f"placed under its own name without authorisation, so {holder} is a provider (Art. 3(3))"
        )
        return ProviderRole(holder, "full", True, reason)


def _edge_role(
    fact: ModelFact, drv: DerivationFact, parent: ModelView, pack: Pack
) -> tuple[ProviderRole | None, str, Tri]:
    modifier = drv.modifier
    # an actor that only may be the parent's provider (decided None) is not its provider for the lifecycle
    parent_providers = {r.actor for r in parent.roles if r.decided is not None} | {
        parent.fact.releaser,
        parent.fact.owner,
    }
    if modifier in parent_providers:
        note = (
            f"{drv.relation} of {drv.parent} by or on behalf of its provider {modifier}: "
            "same model lifecycle (GL §2.2)"
        )
        return ProviderRole(modifier, "full", True, note), note, False
    if parent.gpai is False:
        note = f"{drv.parent} is not a GPAI model: {fact.id} is assessed as a model of its own"
        return ProviderRole(fact.releaser, "full", True, note), note, False
    threshold, basis = _modifier_threshold(parent, pack)
    if drv.compute_flop is None:
        becomes: Tri = None
        note = (
            f"modification compute unknown: cannot decide whether {modifier} becomes the provider of "
            f"{fact.id} (threshold {basis}, GL para 60)"
        )
    else:
        becomes = _above(drv.compute_flop, threshold)
        verdict = {
            True: "becomes the provider, obligations limited to the modification",
            False: "does not become a provider; the original provider's obligations stay",
            None: "cannot decide whether it becomes the provider",
        }[becomes]
        note = (
            f"{modifier} modified {drv.parent} ({drv.relation}) with {flop(drv.compute_flop)} FLOP "
            f"against {basis}: {verdict} (GL paras 60-61)"
        )
    becomes = and3(becomes, parent.gpai)
    if becomes is False:
        return None, note, False
    return ProviderRole(modifier, "modification", becomes, note), note, becomes


def _modifier_threshold(parent: ModelView, pack: Pack) -> tuple[tuple[float, float], str]:
    """(low, high) bounds: equal when decided; apart when the original's systemic risk is undecided."""
    divisor = pack.value("modifier_divisor")
    if parent.compute is not None and parent.fact.compute_disclosed:
        value = parent.compute / divisor
        return (value, value), f"one third of {flop(parent.compute)} = {flop(value)} FLOP"
    low = pack.value("modifier_fallback_gpai_flop") / divisor
    high = pack.value("modifier_fallback_systemic_flop") / divisor
    if parent.systemic is None:
        return (low, high), (
            f"the fallback {flop(low)} or {flop(high)} FLOP (original compute unknown, "
            "systemic risk of the original undecided)"
        )
    value = high if parent.systemic else low
    return (value, value), f"the fallback {flop(value)} FLOP (original compute unknown)"


def _above(value: float, bounds: tuple[float, float]) -> Tri:
    low, high = bounds
    if value > high:
        return True
    if value <= low:
        return False
    return None


def _gpai(fact: ModelFact, compute: float | None, edges: Sequence[Edge], pack: Pack) -> tuple[Tri, str]:
    criterion, criterion_reason = _indicative(fact, compute, pack)
    if fact.gpai is False and fact.designated_systemic_risk:
        return None, (
            "contradictory facts: designated as a GPAI model with systemic risk but `gpai: false`: "
            "cannot decide"
        )
    if fact.gpai is not None:
        if compute is None:
            return (
                fact.gpai,
                "training compute unknown and not estimable: GPAI status decided by the `gpai` override",
            )
        agrees = "consistent with" if criterion == fact.gpai else "overriding"
        return (
            fact.gpai,
            f"GPAI status set by the `gpai` override, {agrees} the indicative criterion ({criterion_reason})",
        )
    if compute is not None:
        return criterion, criterion_reason
    if edges:
        value = or3(*(p.gpai for _, p in edges))
        parents = ", ".join(d.parent for d, _ in edges)
        return value, f"GPAI status inherited from {parents}: a modified model keeps its parent's generality"
    return (
        None,
        "training compute unknown and not estimable: cannot decide whether it is a GPAI model (set `gpai`)",
    )


def _indicative(fact: ModelFact, compute: float | None, pack: Pack) -> tuple[Tri, str]:
    """GL para 17: more than 10^23 FLOP and generates language (text/audio), images or video."""
    if compute is None:
        return None, "compute unknown"
    limit = pack.value("gpai_indicative_flop")
    if compute <= limit:
        return False, f"{flop(compute)} FLOP is not above {flop(limit)} FLOP: not a GPAI model (GL para 17)"
    generative = fact.output_modalities & pack.gpai_output_modalities
    if not fact.output_modalities:
        return (
            None,
            f"above {flop(limit)} FLOP but output modalities not recorded: cannot decide (GL para 17)",
        )
    if not generative:
        return (
            False,
            f"above {flop(limit)} FLOP but generates no language, image or video: not GPAI (GL para 17)",
        )
    outputs = ", ".join(sorted(generative))
    return True, f"above {flop(limit)} FLOP and generates {outputs}: GPAI model (GL para 17)"


def _systemic(
    fact: ModelFact, gpai: Tri, compute: float | None, edges: Sequence[Edge], new_from: Tri, pack: Pack
) -> tuple[Tri, str]:
    if gpai is False:
        return False, ""
    if fact.designated_systemic_risk:
        return True, "designated by the Commission as a GPAI model with systemic risk (Art. 51(1)(b), 52(4))"
    parents_systemic = or3(*(p.systemic for _, p in edges)) if edges else False
    inherited = and3(new_from, parents_systemic)
    if inherited is not False:
        return inherited, (
            "new provider of a modified model with systemic risk: presumed high-impact "
            "capabilities (GL §3.2.2, Art. 51(1)(a))"
        )
    if compute is not None:
        limit = pack.value("systemic_presumption_flop")
        if compute > limit:
            return and3(
                gpai, True
            ), f"{flop(compute)} FLOP above {flop(limit)} FLOP: systemic risk presumed (Art. 51(2))"
        return (
            False,
            f"{flop(compute)} FLOP not above {flop(limit)} FLOP: no systemic-risk presumption (Art. 51(2))",
        )
    if edges and parents_systemic is not None:
        return and3(gpai, parents_systemic), "systemic-risk status inherited from the parent model"
    return None, "training compute unknown: the 10^25 FLOP presumption (Art. 51(2)) cannot be checked"


UNLICENSED = "none"  # the registry's licence of a model published without one (a hub repo, issue 15)


def _open_source(fact: ModelFact, pack: Pack) -> tuple[bool, str]:
    """Art. 53(2), 54(6), GL §4.2: licence rights, no disqualifying terms, no monetisation, public weights."""
    failed = []
    if fact.licence.lower() == UNLICENSED:
        failed.append("no licence: public weights without one are published, not released (GL §4.2.1)")
    elif fact.licence.lower() not in pack.open_source_licences:
        failed.append(f"licence `{fact.licence}` is not a free and open-source licence (GL §4.2.1)")
    bad_terms = sorted(fact.licence_terms & pack.disqualifying_terms)
    if bad_terms:
        failed.append(f"licence terms {', '.join(bad_terms)} disqualify it (GL §4.2.1)")
    if fact.monetised:
        failed.append(f"monetised ({', '.join(sorted(fact.monetised))}) (GL §4.2.2, recital 103)")
    hidden = [
        name
        for name, public in (
            ("weights", fact.weights_public),
            ("architecture", fact.architecture_public),
            ("usage information", fact.usage_info_public),
        )
        if not public
    ]
    if hidden:
        failed.append(f"{', '.join(hidden)} not public (GL §4.2.3)")
    if failed:
        return False, "; ".join(failed)
    return True, (
        f"released under {fact.licence} with no disqualifying terms, not monetised, weights, "
        "architecture and usage information public"
    )


def _exemption(open_source: bool, foss_reason: str, systemic: Tri) -> tuple[Tri, str]:
    if not open_source:
        return False, f"open-source exemption not available: {foss_reason}"
    exempt = and3(open_source, not3(systemic))
    if exempt is True:
        return (
            True,
            f"open-source exemption from Art. 53(1)(a)-(b) and 54 applies: {foss_reason} (Art. 53(2), 54(6))",
        )
    if exempt is False:
        return (
            False,
            "open-source exemption never applies to GPAI models with systemic risk (Art. 53(2), 54(6))",
        )
    return None, "open-source exemption applies only without systemic risk, which cannot be decided"


def _eu_exclusion(
    fact: ModelFact,
    roles: tuple[ProviderRole, ...],
    offers: Sequence[OfferFact],
    systems: Sequence[SystemFact],
) -> tuple[tuple[ProviderRole, ...], list[str]]:
    """GL §3.1.3: whoever brings a model whose provider excluded the EU into the Union is its provider."""
    if not fact.eu_excluded:
        return roles, []
    excluded = {fact.releaser, fact.owner}
    kept = [r for r in roles if r.actor not in excluded]
    reasons = [f"{fact.releaser} clearly excluded distribution and use in the Union (GL §3.1.3)"]
    bringers = {
        o.by: f"offers it in the Union ({o.channel})" for o in offers if o.eu and o.by not in excluded
    }
    for s in systems:
        if s.eu_market is not None and s.provider not in excluded:
            bringers.setdefault(s.provider, f"integrates it in {s.id}, placed in the Union on {s.eu_market}")
    if not bringers and fact.eu_market is not None:
        reason = (
            f"contradictory facts: {fact.releaser} excluded the EU, yet the model was placed on the Union "
            "market and no other actor brings it in: cannot decide who its provider is"
        )
        kept.append(ProviderRole(fact.releaser, "full", None, reason))
        reasons.append(reason)
    for actor, how in bringers.items():
        reason = (
            f"{actor} {how} although {fact.releaser} excluded the EU: {actor} is the provider (GL §3.1.3)"
        )
        kept.append(ProviderRole(actor, "full", True, reason))
        reasons.append(reason)
    return tuple(kept), reasons


def _placing(
    fact: ModelFact,
    roles: tuple[ProviderRole, ...],
    offers: Sequence[OfferFact],
    systems: Sequence[SystemFact],
) -> tuple[bool, date | None, str]:
    excluded = {fact.releaser, fact.owner} if fact.eu_excluded else set()
    eu_systems = [s for s in systems if s.eu_market is not None and s.provider not in excluded]
    system_date = min((s.eu_market for s in eu_systems if s.eu_market), default=None)
    if fact.eu_market is not None:
        return True, fact.eu_market, f"placed on the Union market on {fact.eu_market.isoformat()}"
    eu_offers = [o for o in offers if o.eu and o.by not in excluded]
    if eu_offers:
        what = ", ".join(f"{o.channel} by {o.by}" for o in eu_offers[:3])
        when = f"first system on {system_date.isoformat()}" if system_date else "placing date not recorded"
        return True, system_date, f"offered in the Union ({what}); {when}"
    if eu_systems and system_date is not None:
        return (
            True,
            system_date,
            (
                f"integrated in {eu_systems[0].id}, placed in the Union on "
                f"{system_date.isoformat()} (GL §3.1.3)"
            ),
        )
    if not roles:
        return False, None, "no provider of this model for the Union market"
    return (
        False,
        None,
        (
            "not placed on the Union market (no `eu_market` date, EU offer or EU system): "
            "no obligations under this regime (Art. 2(1)(a))"
        ),
    )


def classify_system(fact: SystemFact, pack: Pack, *, source: SystemFact | None = None) -> SystemView:
    """High risk by Annex III area (Art. 6(2)); legacy note (Art. 111(2)); the Art. 25 initial provider."""
    if fact.areas:
        areas = ", ".join(sorted(fact.areas))
        points = f" (point {', '.join(sorted(fact.annex_iii_points))})" if fact.annex_iii_points else ""
        reason = f"Annex III area {areas}{points}: high-risk (Art. 6(2)); no Art. 6(3) derogation recorded"
    else:
        reason = "no Annex III area recorded: not high-risk under Art. 6(2)"
    legacy = None
    cutoff = pack.dates["high_risk_legacy_cutoff"]
    if fact.eu_market is not None and fact.eu_market < cutoff:
        legacy = (
            f"placed before {cutoff.isoformat()}: the high-risk rules apply only once its design changes "
            "significantly (Art. 111(2))"
        )
    return SystemView(
        fact=fact,
        placed=fact.eu_market is not None,
        high_risk=bool(fact.areas),
        high_risk_reason=reason,
        legacy_note=legacy,
        initial_provider=_initial_provider(fact, source),
        initial_excludes_high_risk=source.excludes_high_risk_use if source is not None else False,
        source_high_risk=bool(source.areas) if source is not None else None,
    )


def _initial_provider(fact: SystemFact, source: SystemFact | None) -> str | None:
    """The provider of the system this one was made from, or the actor whose name it carries (Art. 25(2))."""
    if source is not None:
        initial = source.provider
    elif fact.modified_from is not None:
        initial = fact.modified_from.split("/", 1)[0]
    else:
        initial = fact.origin
    return None if initial == fact.provider else initial
