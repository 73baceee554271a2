"""Frozen, typed facts of a value chain: the only input of the rules (no database, no HTTP)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType

from valuechain.registry.manifest import (
    ANNEX_III_AREA,
    EU_COUNTRIES,
    V2_FIELDS,
    ChainManifest,
    ManifestModel,
    ManifestResale,
    ManifestSystem,
    split_ref,
)

DOCUMENTATION_FIELDS = tuple(n for n in V2_FIELDS["models"])


@dataclass(frozen=True, slots=True)
class ActorFact:
    """An organisation of the chain (Art. 3(3)-(8) roles are derived, not stored)."""

    id: str
    name: str
    country: str
    sme: bool = False
    microenterprise: bool = False
    public_body: bool | None = None  # Art. 27(1): body governed by public law
    public_service: bool | None = None  # Art. 27(1): private entity providing public services

    @property
    def is_eu(self) -> bool:
        return self.country in EU_COUNTRIES


@dataclass(frozen=True, slots=True)
class ModelFact:
    """A model and the facts that decide its obligations."""

    id: str
    releaser: str
    version: str = "1"
    parameters: float | None = None
    training_compute_flop: float | None = None
    training_tokens: float | None = None
    gpai: bool | None = None
    output_modalities: frozenset[str] = frozenset()
    licence: str = "proprietary"
    licence_terms: frozenset[str] = frozenset()
    weights_public: bool = False
    architecture_public: bool = False
    usage_info_public: bool = False
    monetised: frozenset[str] = frozenset()
    eu_market: date | None = None
    eu_excluded: bool = False
    designated_systemic_risk: bool = False
    eu_business_users: int = 0
    description: str | None = None
    training_data_summary: str | None = None
    # Annex XI/XII and training-content fields (manifest format 2); name → recorded text.
    documentation: tuple[tuple[str, str], ...] = ()
    # False in a completion of an unknown compute: a modifier cannot know it, so GL para 61's fallback holds.
    compute_disclosed: bool = True

    @property
    def owner(self) -> str:
        return self.id.split("/", 1)[0]


@dataclass(frozen=True, slots=True)
class DerivationFact:
    """A lineage edge: ``child`` was made from ``parent`` by ``by`` (optionally on behalf of another)."""

    parent: str
    child: str
    by: str
    relation: str
    compute_flop: float | None = None
    on_behalf_of: str | None = None
    data_summary: str | None = None

    @property
    def modifier(self) -> str:
        """The actor that has the modification made (Art. 3(3) "has it developed")."""
        return self.on_behalf_of or self.by


@dataclass(frozen=True, slots=True)
class OfferFact:
    """A model released through a channel by an actor."""

    model: str
    by: str
    channel: str
    brand: str | None = None
    eu: bool = True
    marketed_as: str | None = None  # the model name a white-label reseller markets it under (issue 11)


@dataclass(frozen=True, slots=True)
class ResaleFact:
    """A provider's agreement that a reseller resells its model (issue 11's white label; Art. 3(3)).

    ``brand`` is what the agreement asks: ``own`` (the reseller's name or trademark) or ``upstream`` (the
    provider's name and the model's name). The agreement holds from ``valid_from`` through ``valid_until``
    (both days included) unless it was revoked on or before the day in question."""

    provider: str
    reseller: str
    model: str
    brand: str = "own"
    valid_from: date | None = None
    valid_until: date | None = None
    revoked_on: date | None = None
    agreement: str | None = None  # the registry agreement (agr_…), when there is one

    def lapse(self, on: date) -> str | None:
        """Why the agreement does not hold on ``on`` (not yet valid, expired, revoked); None if it holds."""
        if self.revoked_on is not None and self.revoked_on <= on:
            return f"revoked on {self.revoked_on.isoformat()}"
        if self.valid_until is not None and self.valid_until < on:
            return f"expired after {self.valid_until.isoformat()}"
        if self.valid_from is not None and on < self.valid_from:
            return f"valid only from {self.valid_from.isoformat()}"
        return None


@dataclass(frozen=True, slots=True)
class SystemFact:
    """A downstream AI system integrating models."""

    id: str
    provider: str
    deployers: tuple[str, ...] = ()
    models: tuple[str, ...] = ()
    intended_purpose: str = ""
    interacts_with_persons: bool = False
    synthetic_output: frozenset[str] = frozenset()
    deep_fake: bool = False
    public_interest_text: bool = False
    annex_iii: frozenset[str] = frozenset()
    eu_market: date | None = None
    annex_iii_points: frozenset[str] = frozenset()  # e.g. "5(b)" (Art. 27(1)); their areas are in annex_iii
    # Art. 25 facts (manifest format 2).
    modified_from: str | None = None
    changes: frozenset[str] = frozenset()  # "rebrand", "substantial_modification", "intended_purpose"
    excludes_high_risk_use: bool = False  # Art. 25(2) last sentence

    @property
    def areas(self) -> frozenset[str]:
        """The Annex III areas recorded, and those of the recorded points (5(b) is in area 5)."""
        return self.annex_iii | {ANNEX_III_AREA[p] for p in self.annex_iii_points if p in ANNEX_III_AREA}

    @property
    def origin(self) -> str:
        """The actor whose name the system id carries; differs from ``provider`` when rebranded."""
        return self.id.split("/", 1)[0]


def _frozen(mapping: Mapping[str, object]) -> Mapping[str, object]:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True, slots=True)
class ChainFacts:
    """A whole value chain as facts, keyed by id and in document order."""

    actors: Mapping[str, ActorFact]
    models: Mapping[str, ModelFact]
    derivations: tuple[DerivationFact, ...] = ()
    offers: tuple[OfferFact, ...] = ()
    systems: Mapping[str, SystemFact] = field(default_factory=lambda: MappingProxyType({}))
    as_of: date | None = None
    # None: resale agreements not recorded (a format-1 manifest), so none can be said to be missing.
    resale: tuple[ResaleFact, ...] | None = None

    @classmethod
    def build(
        cls,
        *,
        actors: list[ActorFact],
        models: list[ModelFact],
        derivations: list[DerivationFact] | tuple[DerivationFact, ...] = (),
        offers: list[OfferFact] | tuple[OfferFact, ...] = (),
        systems: list[SystemFact] | tuple[SystemFact, ...] = (),
        as_of: date | None = None,
        resale: Sequence[ResaleFact] | None = None,
    ) -> ChainFacts:
        """Index lists of facts by id."""
        return cls(
            actors=MappingProxyType({a.id: a for a in actors}),
            models=MappingProxyType({m.id: m for m in models}),
            derivations=tuple(derivations),
            offers=tuple(offers),
            systems=MappingProxyType({s.id: s for s in systems}),
            as_of=as_of,
            resale=None if resale is None else tuple(resale),
        )


def facts_from_manifest(manifest: ChainManifest) -> ChainFacts:
    """Turn a checked chain manifest into facts (model references lose their ``@version``)."""
    actors = [
        ActorFact(
            id=a.id,
            name=a.name,
            country=a.country,
            sme=a.sme,
            microenterprise=a.microenterprise,
            public_body=a.public_body,
            public_service=a.public_service,
        )
        for a in manifest.actors
    ]
    models = [model_fact(m) for m in manifest.models]
    derivations = [
        DerivationFact(
            parent=split_ref(d.parent)[0],
            child=split_ref(d.child)[0],
            by=d.by,
            relation=str(d.relation),
            compute_flop=d.compute_flop,
            on_behalf_of=d.on_behalf_of,
            data_summary=d.data_summary,
        )
        for d in manifest.derivations
    ]
    offers = [
        OfferFact(
            model=split_ref(o.model)[0],
            by=o.by,
            channel=str(o.channel),
            brand=o.brand,
            eu=o.eu,
            marketed_as=o.marketed_as,
        )
        for o in manifest.offers
    ]
    systems = [system_fact(s) for s in manifest.systems]
    return ChainFacts.build(
        actors=actors,
        models=models,
        derivations=derivations,
        offers=offers,
        systems=systems,
        as_of=manifest.as_of,
        resale=None if manifest.resale is None else [resale_fact(r) for r in manifest.resale],
    )


def resale_fact(r: ManifestResale) -> ResaleFact:
    """One manifest resale agreement → a fact."""
    return ResaleFact(
        provider=r.provider,
        reseller=r.reseller,
        model=split_ref(r.model)[0],
        brand=str(r.brand),
        valid_from=r.valid_from,
        valid_until=r.valid_until,
        revoked_on=r.revoked_on,
        agreement=r.agreement,
    )


def system_fact(s: ManifestSystem) -> SystemFact:
    """One manifest system → a fact."""
    return SystemFact(
        id=s.id,
        provider=s.provider,
        deployers=tuple(s.deployers),
        models=tuple(dict.fromkeys(split_ref(r)[0] for r in s.models)),
        intended_purpose=s.intended_purpose,
        interacts_with_persons=s.interacts_with_persons,
        synthetic_output=frozenset(str(x) for x in s.synthetic_output),
        deep_fake=s.deep_fake,
        public_interest_text=s.public_interest_text,
        annex_iii=frozenset(str(x) for x in s.annex_iii),
        annex_iii_points=frozenset(str(p) for p in s.annex_iii_points),
        eu_market=s.eu_market,
        modified_from=s.modified_from,
        changes=frozenset(str(x) for x in s.changes),
        excludes_high_risk_use=s.excludes_high_risk_use,
    )


def _documentation(m: ManifestModel) -> tuple[tuple[str, str], ...]:
    return tuple((name, value) for name in DOCUMENTATION_FIELDS if (value := getattr(m, name)))


def model_fact(m: ManifestModel) -> ModelFact:
    """One manifest model → a fact."""
    return ModelFact(
        id=m.id,
        releaser=m.releaser,
        version=m.version,
        parameters=m.parameters,
        training_compute_flop=m.training_compute_flop,
        training_tokens=m.training_tokens,
        gpai=m.gpai,
        output_modalities=frozenset(str(x) for x in m.output_modalities),
        licence=m.licence,
        licence_terms=frozenset(str(x) for x in m.licence_terms),
        weights_public=m.weights_public,
        architecture_public=m.architecture_public,
        usage_info_public=m.usage_info_public,
        monetised=frozenset(str(x) for x in m.monetised),
        eu_market=m.eu_market,
        eu_excluded=m.eu_excluded,
        designated_systemic_risk=m.designated_systemic_risk,
        eu_business_users=m.eu_business_users,
        description=m.description,
        training_data_summary=m.training_data_summary,
        documentation=_documentation(m),
    )
