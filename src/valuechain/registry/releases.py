"""Registry use cases for a release channel that publishes by itself (the hub): the model behind a repo,
a version per commit with its artifacts, facts and lineage from the model card, the open-weights offer.

The channel has already authorised the act on its own record (a repo of the caller's organisation); these
functions are the registry's only writers for what a channel records, and they log the same events, under
the same names and subjects, as ``registry.service``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from valuechain.core.audit import record_event
from valuechain.core.clock import utcnow
from valuechain.core.errors import ConflictError
from valuechain.core.ids import new_id
from valuechain.registry import views
from valuechain.registry.claims import Naming, record_claims
from valuechain.registry.models import Artifact, Derivation, Model, ModelVersion, Offer
from valuechain.registry.schemas import ClaimField
from valuechain.registry.service import OfferRecord

UNLICENSED = "none"


@dataclass(frozen=True, slots=True)
class ArtifactFacts:
    """A file of a version as the channel stored it."""

    path: str
    sha256: str
    size: int


@dataclass(frozen=True, slots=True)
class LineageNode:
    """A neighbour in the model tree: a registry model slug or an external id."""

    id: str
    relation: str
    on_registry: bool


def ensure_channel_model(
    session: Session, *, slug: str, owner_org_id: str, visibility: str, actor: str, channel: str
) -> str:
    """The id of the model ``slug`` of ``owner_org_id``, created on first use."""
    model = session.scalar(select(Model).where(Model.slug == slug, Model.owner_org_id == owner_org_id))
    if model is not None:
        return model.id
    now = utcnow()
    model = Model(
        id=new_id("mdl"),
        slug=slug,
        owner_org_id=owner_org_id,
        released_by_org_id=owner_org_id,
        visibility=visibility,
        licence=UNLICENSED,  # until a model card declares one: published is not released (issue 15)
        created_at=now,
        updated_at=now,
    )
    session.add(model)
    session.flush()
    record_event(
        session, actor=actor, org_id=owner_org_id, action="model.create", subject_type="model",
        subject_id=slug, after=views.model_snapshot(model) | {"source": channel},
    )  # fmt: skip
    return model.id


def publish_weights(session: Session, *, model_id: str, visibility: str, actor: str) -> None:
    """The channel made the weights public or private: the model's visibility and ``weights_public``."""
    model = _model(session, model_id)
    if model.visibility == visibility and model.weights_public == (visibility == "public"):
        return
    before = views.model_snapshot(model)
    model.visibility = visibility
    model.weights_public = visibility == "public"  # gated weights are still published
    _updated(session, model, before=before, actor=actor)


def rename_channel_model(session: Session, *, model_id: str, slug: str, actor: str) -> None:
    """The channel renamed its record (a moved hub repo): the model's slug follows."""
    model = _model(session, model_id)
    if model.slug == slug:
        return
    if session.scalar(select(Model.id).where(Model.slug == slug, Model.id != model.id)) is not None:
        raise ConflictError(f"a registry model called {slug} already exists")
    before = views.model_snapshot(model)
    model.slug = slug
    _updated(session, model, before=before, actor=actor)


def apply_card_facts(
    session: Session,
    *,
    model_id: str,
    licence: str | None,
    training_data_summary: str | None,
    actor: str,
    architecture_public: bool = False,
    usage_info_public: bool = False,
    output_modalities: tuple[str, ...] = (),
) -> None:
    """Facts a model card declares (licence, datasets, what it makes public) replace or add to the model's.

    Issue 13: a public repo with a ``config.json`` publishes the architecture, and its model card the usage
    information (GL §4.2.3); the card's pipeline tag says what it outputs (GL para 17).
    """
    model = _model(session, model_id)
    before = views.model_snapshot(model)
    if licence:
        model.licence = licence
    if training_data_summary:
        model.training_data_summary = training_data_summary
    if architecture_public:
        model.architecture_public = True
    if usage_info_public:
        model.usage_info_public = True
    if output_modalities and not model.output_modalities:
        model.output_modalities = list(output_modalities)
    if views.model_snapshot(model) != before:
        _updated(session, model, before=before, actor=actor)


def record_channel_version(
    session: Session,
    *,
    model_id: str,
    label: str,
    notes: str,
    artifacts: Iterable[ArtifactFacts],
    actor: str,
) -> str:
    """The version ``label`` of the model (created if new) with the given artifacts added; its id."""
    model = _model(session, model_id)
    version = session.scalar(
        select(ModelVersion).where(ModelVersion.model_id == model.id, ModelVersion.label == label)
    )
    created = version is None
    if version is None:
        version = ModelVersion(
            id=new_id("ver"), model_id=model.id, label=label, notes=notes, created_at=utcnow()
        )
        session.add(version)
        session.flush()
    known = set(session.scalars(select(Artifact.path).where(Artifact.version_id == version.id)))
    added = [a for a in artifacts if a.path not in known]
    session.add_all(
        Artifact(id=new_id("art"), version_id=version.id, path=a.path, sha256=a.sha256, size=a.size)
        for a in added
    )
    payload: dict[str, Any] = {
        "label": label,
        "notes": version.notes,
        "artifacts": [{"path": a.path, "sha256": a.sha256, "size": a.size} for a in added],
    }
    subject = {"actor": actor, "org_id": model.owner_org_id, "subject_type": "version"}
    if created:
        record_event(
            session, action="version.create", subject_id=f"{model.slug}@{label}", after=payload, **subject
        )
    elif added:
        record_event(
            session,
            action="version.artifacts.add",
            subject_id=f"{model.slug}@{label}",
            after=payload,
            **subject,
        )
    return version.id


def record_base_models(
    session: Session,
    *,
    version_id: str,
    base_models: Iterable[str],
    relation: str,
    by_org_id: str,
    actor: str,
) -> None:
    """Derivation edges from a card's ``base_model`` list: to the newest version of a registry model the
    organisation may see, otherwise to an external parent (a private model is not revealed by its name)."""
    child = session.get(ModelVersion, version_id)
    assert child is not None
    child_model = _model(session, child.model_id)
    existing = set(
        session.scalars(select(Derivation.parent_key).where(Derivation.child_version_id == version_id))
    )
    for base in base_models:
        parent = _latest_visible_version(session, base, viewer_org_id=by_org_id)
        parent_key = parent.id if parent else f"external:{base}"
        if parent_key in existing or (parent is not None and parent.model_id == child_model.id):
            continue
        existing.add(parent_key)
        derivation = Derivation(
            id=new_id("drv"),
            parent_version_id=parent.id if parent else None,
            external_parent=None if parent else base,
            parent_key=parent_key,
            child_version_id=version_id,
            relation=relation,
            by_org_id=by_org_id,
            created_at=utcnow(),
        )
        session.add(derivation)
        session.flush()
        after = {
            "parent": f"{base}@{parent.label}" if parent else None,
            "external_parent": None if parent else base,
            "child": f"{child_model.slug}@{child.label}",
            "relation": relation,
            "compute_flop": None,
            "on_behalf_of": None,
            "data_summary": None,
        }
        record_event(
            session, actor=actor, org_id=by_org_id, action="derivation.create", subject_type="derivation",
            subject_id=derivation.id, after=after,
        )  # fmt: skip
        if parent is not None:  # naming the parent's owner needs its consent (issue 9)
            owner = _model(session, parent.model_id).owner_org_id
            label = f"{after['parent']}->{after['child']}"
            naming = Naming(ClaimField.parent_supplier, "derivation", derivation.id, label, by_org_id, owner)
            record_claims(session, [naming], actor=actor)


def open_weights_offer(
    session: Session,
    *,
    version_id: str,
    by_org_id: str,
    brand: str,
    eu: bool,
    terms: dict[str, Any],
    actor: str,
) -> OfferRecord:
    """The ``open_weights`` offer of a released version (one per version, organisation and brand)."""
    offer = session.scalar(
        select(Offer).where(
            Offer.version_id == version_id,
            Offer.by_org_id == by_org_id,
            Offer.channel == "open_weights",
            Offer.brand == brand,
        )
    )
    if offer is None:
        offer = Offer(
            id=new_id("off"),
            version_id=version_id,
            by_org_id=by_org_id,
            channel="open_weights",
            brand=brand,
            eu=eu,
            terms=terms,
            created_at=utcnow(),
        )
        session.add(offer)
        session.flush()
        version = session.get(ModelVersion, version_id)
        assert version is not None
        model = _model(session, version.model_id)
        if eu and model.eu_market is None:  # issue 13: the first EU offer is the Union placing date
            before = views.model_snapshot(model)
            model.eu_market = utcnow().date()
            _updated(session, model, before=before, actor=actor)
        after = {
            "model": f"{model.slug}@{version.label}",
            "channel": "open_weights",
            "brand": brand,
            "eu": eu,
        }
        record_event(
            session, actor=actor, org_id=by_org_id, action="offer.create", subject_type="offer",
            subject_id=offer.id, after=after,
        )  # fmt: skip
    return OfferRecord.of(offer)


def version_parents(session: Session, version_id: str | None) -> list[LineageNode]:
    """Base models of a version: registry models or external ids."""
    if version_id is None:
        return []
    rows = session.execute(
        select(Derivation.relation, Derivation.external_parent, Model.slug)
        .outerjoin(ModelVersion, ModelVersion.id == Derivation.parent_version_id)
        .outerjoin(Model, Model.id == ModelVersion.model_id)
        .where(Derivation.child_version_id == version_id)
        .order_by(Derivation.created_at, Derivation.id)
    ).all()
    return [
        LineageNode(id=str(slug or ext), relation=rel, on_registry=slug is not None)
        for rel, ext, slug in rows
    ]


def model_children(session: Session, model_id: str | None, *, viewer_org_id: str | None) -> list[LineageNode]:
    """Models derived from any version of this model that the viewer may see (one node per child model)."""
    if model_id is None:
        return []
    parent_versions = select(ModelVersion.id).where(ModelVersion.model_id == model_id)
    child_version = ModelVersion.__table__.alias("child_version")
    child_model = Model.__table__.alias("child_model")
    rows = session.execute(
        select(Derivation.relation, child_model.c.slug, child_model.c.visibility, child_model.c.owner_org_id)
        .join(child_version, child_version.c.id == Derivation.child_version_id)
        .join(child_model, child_model.c.id == child_version.c.model_id)
        .where(Derivation.parent_version_id.in_(parent_versions))
    ).all()
    nodes = {
        slug: LineageNode(id=slug, relation=rel, on_registry=True)
        for rel, slug, visibility, owner in rows
        if visibility == "public" or owner == viewer_org_id
    }
    return sorted(nodes.values(), key=lambda n: n.id)


def version_labels(session: Session, version_ids: Iterable[str]) -> dict[str, str]:
    """Labels of the given versions, by id."""
    ids = list(set(version_ids))
    if not ids:
        return {}
    rows = session.execute(select(ModelVersion.id, ModelVersion.label).where(ModelVersion.id.in_(ids)))
    return {version_id: label for version_id, label in rows}


def _latest_visible_version(session: Session, slug: str, *, viewer_org_id: str) -> ModelVersion | None:
    return session.scalar(
        select(ModelVersion)
        .join(Model, Model.id == ModelVersion.model_id)
        .where(Model.slug == slug, or_(Model.visibility == "public", Model.owner_org_id == viewer_org_id))
        .order_by(ModelVersion.created_at.desc(), ModelVersion.id.desc())
        .limit(1)
    )


def _model(session: Session, model_id: str) -> Model:
    model = session.get(Model, model_id)
    assert model is not None, model_id
    return model


def _updated(session: Session, model: Model, *, before: dict[str, Any], actor: str) -> None:
    model.updated_at = utcnow()
    record_event(
        session, actor=actor, org_id=model.owner_org_id, action="model.update", subject_type="model",
        subject_id=model.slug, before=before, after=views.model_snapshot(model),
    )  # fmt: skip
