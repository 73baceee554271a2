"""Use cases of the registry: models, versions, lineage, systems and offers, scoped to the caller."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import Session

from valuechain.accounts import directory
from valuechain.accounts.authz import Action, Resource, authorize, not_found
from valuechain.accounts.principal import Principal
from valuechain.core.audit import record_event
from valuechain.core.clock import utcnow
from valuechain.core.errors import ConflictError, NotFoundError, ValidationError
from valuechain.core.ids import new_id
from valuechain.registry import claims, events, views
from valuechain.registry.manifest import ModelFacts, split_ref
from valuechain.registry.models import (
    Artifact,
    Claim,
    Derivation,
    Model,
    ModelVersion,
    Offer,
    System,
    SystemDeployer,
    SystemModel,
)
from valuechain.registry.schemas import (
    ArtifactIn,
    ClaimField,
    DerivationCreate,
    ModelCreate,
    OfferCreate,
    OfferUpdate,
    SystemCreate,
    SystemUpdate,
    VersionCreate,
)

FACT_FIELDS = tuple(ModelFacts.model_fields)


def named_org(session: Session, slug: str, *, principal: Principal) -> directory.OrgRef:
    """An organisation the caller names as a party (releaser, deployer, on whose behalf it worked).

    The caller may name organisations it may see (:func:`org_visible`); any other answers exactly as
    one that does not exist, so naming never reveals that an organisation exists (issue 9, no oracles).
    """
    org = directory.org_by_slug(session, slug)
    if org is None:
        raise not_found("organisation", slug)
    visible = org.id == principal.org_id or org_visible(session, org.id, principal=principal)
    authorize(principal, Action.org_name, Resource("organisation", slug, org.id, is_visible=visible))
    return org


def org_visible(session: Session, org_id: str, *, principal: Principal) -> bool:
    """Whether the caller may see another organisation: it is a public actor, or already linked to it.

    A public actor owns or released a public model. Linked: one provides a system the other deploys,
    one made a derivation on behalf of the other, one offers the other's model, or a claim of one names
    the other (both sides of a claim see it, issue 9).
    """
    me = principal.org_id

    def between(one: Any, other: Any) -> Any:
        """``one`` is the caller and ``other`` the organisation, or the other way round."""
        return or_(and_(one == me, other == org_id), and_(one == org_id, other == me))

    public = select(Model.id).where(
        or_(Model.owner_org_id == org_id, Model.released_by_org_id == org_id), Model.visibility == "public"
    )
    deploys = (
        select(SystemDeployer.system_id)
        .join(System, System.id == SystemDeployer.system_id)
        .where(between(System.provider_org_id, SystemDeployer.org_id))
    )
    derived = select(Derivation.id).where(between(Derivation.by_org_id, Derivation.on_behalf_of_org_id))
    offered = (
        select(Offer.id)
        .join(ModelVersion, ModelVersion.id == Offer.version_id)
        .join(Model, Model.id == ModelVersion.model_id)
        .where(between(Offer.by_org_id, Model.owner_org_id))
    )
    claimed = select(Claim.id).where(between(Claim.claimant_org_id, Claim.named_org_id))
    links = (public, deploys, derived, offered, claimed)
    return any(session.scalar(q.limit(1)) is not None for q in links)


def model_resource(model: Model) -> Resource:
    """A model as the permission check sees it: public models are visible to every organisation."""
    return Resource("model", model.slug, model.owner_org_id, is_visible=model.visibility == "public")


def model_visible(principal: Principal) -> Any:
    """SQL condition: models the caller may read (own, public, or everything for operators)."""
    if principal.is_operator:
        return True
    return or_(Model.owner_org_id == principal.org_id, Model.visibility == "public")


def get_model(session: Session, slug: str, *, principal: Principal) -> Model:
    return _model(session, slug, principal, Action.model_read)


def own_model(session: Session, slug: str, *, principal: Principal) -> Model:
    """A model the caller may change: owned by its organisation."""
    return _model(session, slug, principal, Action.model_write)


def _model(session: Session, slug: str, principal: Principal, action: Action) -> Model:
    model = session.scalar(select(Model).where(Model.slug == slug))
    if model is None:
        raise not_found("model", slug)
    authorize(principal, action, model_resource(model))
    return model


def list_models(session: Session, *, principal: Principal, owner: str | None = None) -> list[Model]:
    authorize(principal, Action.model_read)
    query = select(Model).where(model_visible(principal)).order_by(Model.slug)
    if owner is not None:
        owner_id = directory.org_id_for_slug(session, owner)
        if owner_id is None:
            return []
        query = query.where(Model.owner_org_id == owner_id)
    return list(session.scalars(query))


def create_model(session: Session, data: ModelCreate, *, principal: Principal) -> Model:
    authorize(principal, Action.model_write)
    slug = f"{principal.org_slug}/{data.name}"
    if session.scalar(select(Model.id).where(Model.slug == slug)):
        raise ConflictError(f"model `{slug}` already exists")
    released_by = named_org(session, data.released_by, principal=principal).id if data.released_by else None
    now = utcnow()
    model = Model(
        id=new_id("mdl"),
        slug=slug,
        owner_org_id=principal.org_id,
        released_by_org_id=released_by,
        visibility=data.visibility,
        created_at=now,
        updated_at=now,
        **views.facts_to_columns(data),
    )
    session.add(model)
    session.flush()
    if released_by is not None:  # naming another organisation needs its consent (issue 9)
        naming = claims.Naming(ClaimField.released_by, "model", model.id, slug, principal.org_id, released_by)
        claims.name_party(session, naming, principal=principal)
    record_event(
        session,
        actor=principal.actor,
        org_id=principal.org_id,
        action=events.model_create,
        subject_type="model",
        subject_id=slug,
        after=views.model_snapshot(model),
    )
    return model


def update_model(session: Session, slug: str, changes: dict[str, Any], *, principal: Principal) -> Model:
    """Merge ``changes`` into the model's facts, validate the whole, record before and after."""
    model = own_model(session, slug, principal=principal)
    unknown = set(changes) - set(FACT_FIELDS) - {"visibility"}
    if unknown:
        raise ValidationError(f"unknown or read-only fields: {', '.join(sorted(unknown))}")
    visibility = changes.pop("visibility", model.visibility)
    if visibility not in ("public", "private"):
        raise ValidationError("visibility must be public or private")
    merged = {**views.columns_to_facts(model), **changes}
    facts = ModelFacts.model_validate(merged)  # raises pydantic.ValidationError → 422 with paths
    before = views.model_snapshot(model)
    for column, value in views.facts_to_columns(facts).items():
        setattr(model, column, value)
    model.visibility = visibility
    model.updated_at = utcnow()
    record_event(
        session,
        actor=principal.actor,
        org_id=model.owner_org_id,
        action=events.model_update,
        subject_type="model",
        subject_id=slug,
        before=before,
        after=views.model_snapshot(model),
    )
    return model


def versions_of(session: Session, model_id: str) -> list[ModelVersion]:
    query = select(ModelVersion).where(ModelVersion.model_id == model_id)
    return list(session.scalars(query.order_by(ModelVersion.created_at, ModelVersion.id)))


def create_version(session: Session, slug: str, data: VersionCreate, *, principal: Principal) -> ModelVersion:
    """Add an immutable version; artifacts are fixed at creation."""
    model = own_model(session, slug, principal=principal)
    if session.scalar(
        select(ModelVersion.id).where(ModelVersion.model_id == model.id, ModelVersion.label == data.label)
    ):
        raise ConflictError(f"version `{slug}@{data.label}` exists; versions are immutable")
    paths = [a.path for a in data.artifacts]
    if len(set(paths)) != len(paths):
        raise ValidationError("artifact paths must be unique within a version")
    version = ModelVersion(
        id=new_id("ver"), model_id=model.id, label=data.label, notes=data.notes, created_at=utcnow()
    )
    session.add(version)
    session.flush()
    session.add_all(
        Artifact(id=new_id("art"), version_id=version.id, **a.model_dump()) for a in data.artifacts
    )
    record_event(
        session,
        actor=principal.actor,
        org_id=model.owner_org_id,
        action=events.version_create,
        subject_type="version",
        subject_id=f"{slug}@{data.label}",
        after=data.model_dump(),
    )
    return version


def get_version(session: Session, slug: str, label: str, *, principal: Principal) -> ModelVersion:
    model = get_model(session, slug, principal=principal)
    version = session.scalar(
        select(ModelVersion).where(ModelVersion.model_id == model.id, ModelVersion.label == label)
    )
    if version is None:
        raise not_found("version", f"{slug}@{label}")
    return version


def artifacts_of(session: Session, version_id: str) -> list[Artifact]:
    return list(
        session.scalars(select(Artifact).where(Artifact.version_id == version_id).order_by(Artifact.path))
    )


def resolve_ref(session: Session, ref: str, *, principal: Principal) -> tuple[Model, ModelVersion]:
    """``org/name[@label]`` → (model, version); no label = the latest version."""
    slug, label = split_ref(ref)
    model = get_model(session, slug, principal=principal)
    if label is not None:
        return model, get_version(session, slug, label, principal=principal)
    versions = versions_of(session, model.id)
    if not versions:
        raise ValidationError(f"model `{slug}` has no version yet; create one first")
    return model, versions[-1]


def create_derivation(session: Session, data: DerivationCreate, *, principal: Principal) -> Derivation:
    """Record that the caller's model version was made from a parent version."""
    authorize(principal, Action.model_write)
    if (data.parent is None) == (data.external_parent is None):
        raise ValidationError("give exactly one of parent and external_parent")
    child_model, child = resolve_ref(session, data.child, principal=principal)
    own_model(session, child_model.slug, principal=principal)
    parent_id, parent_key = None, f"external:{data.external_parent}"
    parent_owner = None
    if data.parent is not None:
        parent_model, parent = resolve_ref(session, data.parent, principal=principal)
        if parent_model.id == child_model.id:
            raise ValidationError("a model cannot be derived from itself")
        parent_id, parent_key, parent_owner = parent.id, parent.id, parent_model.owner_org_id
    if session.scalar(
        select(Derivation.id).where(
            Derivation.parent_key == parent_key, Derivation.child_version_id == child.id
        )
    ):
        raise ConflictError("this derivation is already recorded")
    on_behalf = named_org(session, data.on_behalf_of, principal=principal).id if data.on_behalf_of else None
    derivation = Derivation(
        id=new_id("drv"),
        parent_version_id=parent_id,
        external_parent=data.external_parent,
        parent_key=parent_key,
        child_version_id=child.id,
        relation=data.relation.value,
        compute_flop=data.compute_flop,
        by_org_id=principal.org_id,
        on_behalf_of_org_id=on_behalf,
        data_summary=data.data_summary,
        created_at=utcnow(),
    )
    session.add(derivation)
    session.flush()
    label = f"{data.parent or data.external_parent}->{data.child}"
    for field, named in ((ClaimField.parent_supplier, parent_owner), (ClaimField.on_behalf_of, on_behalf)):
        if named is not None:  # naming another organisation needs its consent (issue 9)
            naming = claims.Naming(field, "derivation", derivation.id, label, principal.org_id, named)
            claims.name_party(session, naming, principal=principal)
    record_event(
        session,
        actor=principal.actor,
        org_id=principal.org_id,
        action=events.derivation_create,
        subject_type="derivation",
        subject_id=derivation.id,
        after=data.model_dump(mode="json"),
    )
    return derivation


def lineage(
    session: Session, slug: str, *, principal: Principal
) -> tuple[list[Derivation], list[Derivation]]:
    """Parents and children of a model (any version) that the caller may see."""
    model = get_model(session, slug, principal=principal)
    version_ids = select(ModelVersion.id).where(ModelVersion.model_id == model.id)
    parents = session.scalars(select(Derivation).where(Derivation.child_version_id.in_(version_ids)))
    children = session.scalars(select(Derivation).where(Derivation.parent_version_id.in_(version_ids)))
    visible_children = [d for d in children if _derivation_visible(session, d, principal)]
    return list(parents), visible_children


def _derivation_visible(session: Session, derivation: Derivation, principal: Principal) -> bool:
    """Children are visible to the parent's owner (what came back) and to whoever sees the child."""
    if principal.is_operator or derivation.by_org_id == principal.org_id:
        return True
    child_model = session.scalar(
        select(Model)
        .join(ModelVersion, ModelVersion.model_id == Model.id)
        .where(ModelVersion.id == derivation.child_version_id)
    )
    if child_model is None:
        return False
    if child_model.visibility == "public" or child_model.owner_org_id == principal.org_id:
        return True
    parent_owner = session.scalar(
        select(Model.owner_org_id)
        .join(ModelVersion, ModelVersion.model_id == Model.id)
        .where(ModelVersion.id == derivation.parent_version_id)
    )
    return parent_owner == principal.org_id


def system_visible(principal: Principal) -> Any:
    if principal.is_operator:
        return True
    deployed = select(SystemDeployer.system_id).where(SystemDeployer.org_id == principal.org_id)
    return or_(System.provider_org_id == principal.org_id, System.id.in_(deployed))


def create_system(session: Session, data: SystemCreate, *, principal: Principal) -> System:
    authorize(principal, Action.system_write)
    slug = f"{principal.org_slug}/{data.name}"
    if session.scalar(select(System.id).where(System.slug == slug)):
        raise ConflictError(f"system `{slug}` already exists")
    deployers = [named_org(session, s, principal=principal) for s in dict.fromkeys(data.deployers)]
    versions = [resolve_ref(session, ref, principal=principal)[1] for ref in dict.fromkeys(data.models)]
    now = utcnow()
    fields = data.model_dump(exclude={"name", "deployers", "models"}, mode="json")
    fields["eu_market"] = data.eu_market
    system = System(
        id=new_id("sys"),
        slug=slug,
        provider_org_id=principal.org_id,
        created_at=now,
        updated_at=now,
        **fields,
    )
    session.add(system)
    session.flush()
    session.add_all(SystemDeployer(system_id=system.id, org_id=org.id) for org in deployers)
    for org in deployers:  # naming another organisation needs its consent (issue 9)
        naming = claims.Naming(ClaimField.deployer, "system", system.id, slug, principal.org_id, org.id)
        claims.name_party(session, naming, principal=principal)
    session.add_all(
        SystemModel(system_id=system.id, version_id=v.id) for v in {v.id: v for v in versions}.values()
    )
    record_event(
        session,
        actor=principal.actor,
        org_id=principal.org_id,
        action=events.system_create,
        subject_type="system",
        subject_id=slug,
        after=data.model_dump(mode="json"),
    )
    return system


def get_system(session: Session, slug: str, *, principal: Principal) -> System:
    system = session.scalar(select(System).where(System.slug == slug))
    if system is None:
        raise not_found("system", slug)
    deployed = session.scalar(
        select(SystemDeployer.org_id).where(
            SystemDeployer.system_id == system.id, SystemDeployer.org_id == principal.org_id
        )
    )
    resource = Resource("system", slug, system.provider_org_id, is_visible=deployed is not None)
    authorize(principal, Action.system_read, resource)
    return system


def list_systems(session: Session, *, principal: Principal) -> list[System]:
    authorize(principal, Action.system_read)
    return list(session.scalars(select(System).where(system_visible(principal)).order_by(System.slug)))


def offer_visible(principal: Principal) -> Any:
    if principal.is_operator:
        return True
    visible_versions = (
        select(ModelVersion.id).join(Model, Model.id == ModelVersion.model_id).where(model_visible(principal))
    )
    return or_(Offer.by_org_id == principal.org_id, Offer.version_id.in_(visible_versions))


def create_offer(session: Session, data: OfferCreate, *, principal: Principal) -> Offer:
    """Release a model version through a channel under the caller's name or brand."""
    authorize(principal, Action.offer_write)
    model, version = resolve_ref(session, data.model, principal=principal)
    agreement = claims.offer_agreement(session, model, data.channel.value, principal=principal)
    brand = data.brand or principal.org_slug
    exists = select(Offer.id).where(
        Offer.version_id == version.id,
        Offer.by_org_id == principal.org_id,
        Offer.channel == data.channel.value,
        Offer.brand == brand,
    )
    if session.scalar(exists):
        raise ConflictError("this offer already exists")
    offer = Offer(
        id=new_id("off"),
        version_id=version.id,
        by_org_id=principal.org_id,
        channel=data.channel.value,
        brand=brand,
        eu=data.eu,
        terms={},
        created_at=utcnow(),
    )
    session.add(offer)
    session.flush()
    if model.owner_org_id != principal.org_id:  # the owner is named upstream (issue 9)
        label = f"{model.slug}@{version.label}:{data.channel.value}:{brand}"
        naming = claims.Naming(
            ClaimField.offer_upstream, "offer", offer.id, label, principal.org_id, model.owner_org_id
        )
        claims.name_party(session, naming, principal=principal, agreement=agreement)
    record_event(
        session,
        actor=principal.actor,
        org_id=principal.org_id,
        action=events.offer_create,
        subject_type="offer",
        subject_id=offer.id,
        after=data.model_dump(mode="json") | {"brand": brand},
    )
    return offer


def list_offers(session: Session, *, principal: Principal, channel: str | None = None) -> list[Offer]:
    authorize(principal, Action.offer_read)
    query = select(Offer).where(offer_visible(principal)).order_by(Offer.created_at)
    if channel is not None:
        query = query.where(Offer.channel == channel)
    return list(session.scalars(query))


def get_offer(session: Session, offer_id: str, *, principal: Principal) -> Offer:
    offer = session.scalar(select(Offer).where(Offer.id == offer_id))
    if offer is None:
        raise not_found("offer", offer_id)
    model = session.scalar(
        select(Model)
        .join(ModelVersion, ModelVersion.model_id == Model.id)
        .where(ModelVersion.id == offer.version_id)
    )
    visible = model is not None and (model.visibility == "public" or model.owner_org_id == principal.org_id)
    authorize(principal, Action.offer_read, Resource("offer", offer_id, offer.by_org_id, is_visible=visible))
    return offer


def update_system(session: Session, slug: str, data: SystemUpdate, *, principal: Principal) -> System:
    """Change fields of the caller's system; ``deployers``/``models`` replace the lists; audited."""
    system = get_system(session, slug, principal=principal)
    authorize(principal, Action.system_write, Resource("system", f"`{slug}`", system.provider_org_id, True))
    before = views.system_public(session, system, views.Names(session)).model_dump(mode="json")
    changes = data.model_dump(exclude_unset=True, exclude={"deployers", "models"})
    for field, value in changes.items():
        if value is None and field != "eu_market":
            raise ValidationError(f"{field} cannot be null; omit it to leave it unchanged")
        setattr(system, field, value if field == "eu_market" else _plain(value))
    if data.deployers is not None:
        orgs = [named_org(session, s, principal=principal) for s in dict.fromkeys(data.deployers)]
        session.execute(SystemDeployer.__table__.delete().where(SystemDeployer.system_id == system.id))
        session.add_all(SystemDeployer(system_id=system.id, org_id=org.id) for org in orgs)
    if data.models is not None:
        versions = {resolve_ref(session, r, principal=principal)[1].id for r in dict.fromkeys(data.models)}
        session.execute(SystemModel.__table__.delete().where(SystemModel.system_id == system.id))
        session.add_all(SystemModel(system_id=system.id, version_id=v) for v in sorted(versions))
    system.updated_at = utcnow()
    session.flush()
    record_event(
        session,
        actor=principal.actor,
        org_id=system.provider_org_id,
        action="system.update",
        subject_type="system",
        subject_id=slug,
        before=before,
        after=views.system_public(session, system, views.Names(session)).model_dump(mode="json"),
    )
    return system


def _plain(value: Any) -> Any:
    """Enum members (and lists of them) as the strings the JSON columns hold."""
    if isinstance(value, list):
        return [getattr(v, "value", v) for v in value]
    return getattr(value, "value", value)


def update_offer(session: Session, offer_id: str, data: OfferUpdate, *, principal: Principal) -> Offer:
    """Change the brand or EU availability of the caller's offer; audited."""
    offer = get_offer(session, offer_id, principal=principal)
    authorize(principal, Action.offer_write, Resource("offer", f"`{offer_id}`", offer.by_org_id, True))
    before = {"brand": offer.brand, "eu": offer.eu}
    changes = data.model_dump(exclude_unset=True)
    if "brand" in changes and changes["brand"] != offer.brand:
        clash = select(Offer.id).where(
            Offer.version_id == offer.version_id,
            Offer.by_org_id == offer.by_org_id,
            Offer.channel == offer.channel,
            Offer.brand == changes["brand"],
        )
        if session.scalar(clash):
            raise ConflictError(f"an offer of this version and channel under `{changes['brand']}` exists")
    for field, value in changes.items():
        if value is None:
            raise ValidationError(f"{field} cannot be null; omit it to leave it unchanged")
        setattr(offer, field, value)
    session.flush()
    record_event(
        session,
        actor=principal.actor,
        org_id=offer.by_org_id,
        action="offer.update",
        subject_type="offer",
        subject_id=offer.id,
        before=before,
        after={"brand": offer.brand, "eu": offer.eu},
    )
    return offer


@dataclass(frozen=True, slots=True)
class OfferRecord:
    """An offer as other domains read it (they never touch the ``offers`` table)."""

    id: str
    version_id: str
    by_org_id: str
    channel: str
    brand: str
    eu: bool
    terms: dict[str, Any]
    created_at: datetime

    @classmethod
    def of(cls, offer: Offer) -> OfferRecord:
        """The record of a loaded offer row."""
        return cls(*(getattr(offer, column.key) for column in _OFFER_COLUMNS))


@dataclass(frozen=True, slots=True)
class ApiOfferRoute:
    """An ``api`` offer with the version and model it serves: what the gateway routes a model name to."""

    offer_id: str
    by_org_id: str
    terms: dict[str, Any]
    created_at: datetime
    version_id: str
    version_label: str
    model_slug: str
    model_visibility: str
    model_owner_org_id: str
    # issue 11: the channel (``api`` or ``white_label``), the brand and the version's lifecycle
    channel: str = "api"
    brand: str = ""
    stage: str = "active"
    deprecated_at: datetime | None = None
    sunset_at: datetime | None = None
    successor: str | None = None
    # a white-label offer's reseller agreement (``terms.white_label.agreement_id``): when it was revoked
    agreement_revoked_at: datetime | None = None


ROUTED_CHANNELS = ("api", "white_label")

_OFFER_COLUMNS = (
    Offer.id,
    Offer.version_id,
    Offer.by_org_id,
    Offer.channel,
    Offer.brand,
    Offer.eu,
    Offer.terms,
    Offer.created_at,
)


def api_offer_routes(session: Session) -> list[ApiOfferRoute]:
    """Every ``api`` and ``white_label`` offer with its version and model, oldest version first, in one
    query (and one more for the revocations of the agreements white-label offers are made under)."""
    rows = session.execute(
        select(
            Offer.id,
            Offer.by_org_id,
            Offer.terms,
            Offer.created_at,
            ModelVersion.id,
            ModelVersion.label,
            Model.slug,
            Model.visibility,
            Model.owner_org_id,
            Offer.channel,
            Offer.brand,
            ModelVersion.stage,
            ModelVersion.deprecated_at,
            ModelVersion.sunset_at,
            ModelVersion.successor,
        )
        .join(ModelVersion, Offer.version_id == ModelVersion.id)
        .join(Model, ModelVersion.model_id == Model.id)
        .where(Offer.channel.in_(ROUTED_CHANNELS))
        .order_by(ModelVersion.created_at)
    )
    routes = [ApiOfferRoute(*row) for row in rows]
    agreements = {o.offer_id: _reseller_agreement(o.terms) for o in routes if o.channel == "white_label"}
    if not any(agreements.values()):
        return routes
    revoked = claims.revocations(session, {a for a in agreements.values() if a})
    return [replace(o, agreement_revoked_at=revoked.get(agreements.get(o.offer_id) or "")) for o in routes]


def _reseller_agreement(terms: dict[str, Any] | None) -> str | None:
    """The agreement a white-label offer is made under (the channels domain writes it in its terms)."""
    section = (terms or {}).get("white_label")
    found = section.get("agreement_id") if isinstance(section, dict) else None
    return str(found) if found else None


def white_label_offer_ids(session: Session, *, by_org_id: str, agreement_id: str) -> list[str]:
    """A reseller's white-label offers made under one agreement (no authorisation: callers decide)."""
    rows = session.execute(
        select(Offer.id, Offer.terms).where(Offer.by_org_id == by_org_id, Offer.channel == "white_label")
    )
    return [offer_id for offer_id, terms in rows if _reseller_agreement(terms) == agreement_id]


def offer_records(session: Session, offer_ids: Iterable[str]) -> dict[str, OfferRecord]:
    """The given offers, by id, in one query (unknown ids are left out); no authorisation: callers decide."""
    ids = list(set(offer_ids))
    if not ids:
        return {}
    rows = session.execute(select(*_OFFER_COLUMNS).where(Offer.id.in_(ids)))
    return {row[0]: OfferRecord(*row) for row in rows}


def offer_record(session: Session, offer_id: str) -> OfferRecord | None:
    """One offer, or None."""
    return offer_records(session, [offer_id]).get(offer_id)


def find_offer(session: Session, *, version_id: str, by_org_id: str, channel: str) -> OfferRecord | None:
    """An organisation's offer of a version through a channel (the first brand), or None."""
    row = session.execute(
        select(*_OFFER_COLUMNS)
        .where(Offer.version_id == version_id, Offer.by_org_id == by_org_id, Offer.channel == channel)
        .order_by(Offer.created_at)
        .limit(1)
    ).first()
    return OfferRecord(*row) if row is not None else None


def offer_ids_by(org_id: str) -> Select[tuple[str]]:
    """A subquery of the ids of the offers an organisation makes (for ``IN`` filters in other domains)."""
    return select(Offer.id).where(Offer.by_org_id == org_id)


def set_offer_terms(
    session: Session,
    offer_id: str,
    channel: str,
    terms: dict[str, Any],
    *,
    principal: Principal,
    section: str | None = None,
) -> OfferRecord:
    """Set the ``channel`` section of an offer's terms (the market's API terms); audited as ``offer.terms``.

    ``section`` names another section of an offer of ``channel`` (issue 11: ``support`` terms of a
    maintained ``api`` offer). An offer of another channel, or one the caller may not manage, answers as
    absent.
    """
    offer = session.get(Offer, offer_id)
    if offer is None or offer.channel != channel:
        raise NotFoundError(f"{channel} offer {offer_id} not found")
    authorize(principal, Action.terms_write, Resource(f"{channel} offer", offer_id, offer.by_org_id))
    before = dict(offer.terms or {})
    offer.terms = {**before, section or channel: terms}
    record_event(
        session,
        actor=principal.actor,
        org_id=principal.org_id,
        action=events.offer_terms,
        subject_type="offer",
        subject_id=offer.id,
        before=before,
        after=offer.terms,
    )
    return OfferRecord(*(getattr(offer, c.key) for c in _OFFER_COLUMNS))


@dataclass(frozen=True, slots=True)
class ModelRef:
    """A model as other domains see it for access decisions: its ids, owner and visibility."""

    id: str
    slug: str
    owner_org_id: str
    visibility: str


def model_ref(session: Session, slug: str) -> ModelRef | None:
    """The model ``slug`` (no permission check: callers decide what to reveal), or None."""
    row = session.execute(
        select(Model.id, Model.slug, Model.owner_org_id, Model.visibility).where(Model.slug == slug)
    ).one_or_none()
    return ModelRef(*row) if row is not None else None


def offer_ids_of_model(session: Session, model_id: str) -> list[str]:
    """Ids of the offers of every version of the model ``model_id``."""
    query = select(Offer.id).join(ModelVersion, ModelVersion.id == Offer.version_id)
    return list(session.scalars(query.where(ModelVersion.model_id == model_id)))


def seed_artifacts(
    session: Session, version_id: str, artifacts: list[ArtifactIn], *, principal: Principal
) -> bool:
    """Attach files to a version imported without any (operators seeding a chain); False if it has some."""
    authorize(principal, Action.chain_import)
    if session.scalar(select(Artifact.id).where(Artifact.version_id == version_id).limit(1)) is not None:
        return False
    session.add_all(Artifact(id=new_id("art"), version_id=version_id, **a.model_dump()) for a in artifacts)
    return True
