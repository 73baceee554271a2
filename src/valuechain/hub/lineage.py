"""The registry link: a repo is a registry model, a commit a model version with artifacts, and a card's
``base_model`` a derivation edge (to a repo on this hub when present, otherwise an external parent)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from valuechain.core.audit import record_event
from valuechain.core.ids import new_id
from valuechain.hub.cards import CardData
from valuechain.hub.models import HubCommit, HubCommitFile, HubRepo
from valuechain.registry.claims import Naming, record_claims
from valuechain.registry.models import Artifact, Derivation, Model, ModelVersion, Offer
from valuechain.registry.schemas import ClaimField


@dataclass(frozen=True)
class TreeNode:
    """A neighbour in the model tree."""

    id: str
    relation: str
    on_hub: bool


def ensure_model(session: Session, repo: HubRepo, *, actor: str, now: datetime) -> Model:
    """The registry model behind a repo, created on first use (an existing model of the slug is reused)."""
    if repo.model_id:
        model = session.get(Model, repo.model_id)
        assert model is not None
        return model
    model = session.scalar(select(Model).where(Model.slug == repo.repo_id, Model.owner_org_id == repo.org_id))
    if model is None:
        model = Model(
            id=new_id("mdl"),
            slug=repo.repo_id,
            owner_org_id=repo.org_id,
            released_by_org_id=repo.org_id,
            visibility=repo.visibility,
            created_at=now,
            updated_at=now,
        )
        session.add(model)
        session.flush()
        record_event(
            session,
            actor=actor,
            org_id=repo.org_id,
            action="model.create",
            subject_type="model",
            subject_id=model.id,
            after={"slug": model.slug, "source": "hub"},
        )
    repo.model_id = model.id
    return model


def record_version(
    session: Session,
    *,
    repo: HubRepo,
    commit: HubCommit,
    files: list[HubCommitFile],
    card: CardData | None,
    actor: str,
    now: datetime,
    label: str | None = None,
) -> ModelVersion:
    """A model version for the commit (or the one named ``label``), its artifacts, card and lineage."""
    model = ensure_model(session, repo, actor=actor, now=now)
    version = None
    if label is not None:
        version = session.scalar(
            select(ModelVersion).where(ModelVersion.model_id == model.id, ModelVersion.label == label)
        )
    if version is None:
        version = ModelVersion(
            id=new_id("ver"), model_id=model.id, label=label or commit.id, notes=commit.title, created_at=now
        )
        session.add(version)
        session.flush()
    known = set(session.scalars(select(Artifact.path).where(Artifact.version_id == version.id)))
    session.add_all(
        Artifact(id=new_id("art"), version_id=version.id, path=f.path, sha256=f.sha256, size=f.size)
        for f in files
        if f.path not in known
    )
    commit.version_id = version.id
    if card is not None:
        _apply_card(session, model=model, version=version, card=card, repo=repo, now=now, actor=actor)
    record_event(
        session, actor=actor, org_id=repo.org_id, action="model.version.create", subject_type="model_version",
        subject_id=version.id, after={"model": model.slug, "commit": commit.id, "files": len(files)},
    )  # fmt: skip
    return version


def _apply_card(
    session: Session,
    *,
    model: Model,
    version: ModelVersion,
    card: CardData,
    repo: HubRepo,
    now: datetime,
    actor: str,
) -> None:
    if card.license:
        model.licence = card.license_name if card.license == "other" and card.license_name else card.license
    summary = ", ".join(card.datasets)
    if summary:
        model.training_data_summary = f"datasets: {summary}"
    model.updated_at = now
    existing = set(
        session.scalars(select(Derivation.parent_key).where(Derivation.child_version_id == version.id))
    )
    for base in card.base_models:
        parent_version_id = _latest_version_of(session, base)
        if (parent_version_id or f"external:{base}") in existing:
            continue
        derivation_id = new_id("drv")
        session.add(
            Derivation(
                id=derivation_id,
                parent_version_id=parent_version_id,
                external_parent=None if parent_version_id else base,
                parent_key=parent_version_id or f"external:{base}",
                child_version_id=version.id,
                relation=card.relation or "finetune",
                by_org_id=repo.org_id,
                created_at=now,
            )
        )
        if parent_version_id is not None:  # naming the parent's owner needs its consent (issue 9)
            _claim_parent(session, derivation_id, base, f"{base}->{model.slug}", repo.org_id, actor)


def _claim_parent(
    session: Session, derivation_id: str, parent_slug: str, label: str, org_id: str, actor: str
) -> None:
    owner = session.scalar(select(Model.owner_org_id).where(Model.slug == parent_slug))
    if owner is not None:
        naming = Naming(ClaimField.parent_supplier, "derivation", derivation_id, label, org_id, owner)
        record_claims(session, [naming], actor=actor)


def _latest_version_of(session: Session, slug: str) -> str | None:
    """The newest version of the registry model ``slug`` (hub repos are registry models), if any."""
    return session.scalar(
        select(ModelVersion.id)
        .join(Model, Model.id == ModelVersion.model_id)
        .where(Model.slug == slug)
        .order_by(ModelVersion.created_at.desc(), ModelVersion.id.desc())
        .limit(1)
    )


def parents(session: Session, version_id: str | None) -> list[TreeNode]:
    """Base models of a version: registry models (on this hub) or external ids."""
    if version_id is None:
        return []
    rows = session.execute(
        select(Derivation.relation, Derivation.external_parent, Model.slug)
        .outerjoin(ModelVersion, ModelVersion.id == Derivation.parent_version_id)
        .outerjoin(Model, Model.id == ModelVersion.model_id)
        .where(Derivation.child_version_id == version_id)
    ).all()
    return [TreeNode(id=str(slug or ext), relation=rel, on_hub=slug is not None) for rel, ext, slug in rows]


def children(session: Session, model_id: str | None, *, viewer_org_id: str | None) -> list[TreeNode]:
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
        slug: TreeNode(id=slug, relation=rel, on_hub=True)
        for rel, slug, visibility, owner in rows
        if visibility == "public" or owner == viewer_org_id
    }
    return sorted(nodes.values(), key=lambda n: n.id)


def children_counts(nodes: list[TreeNode]) -> dict[str, int]:
    """``childrenModelCount`` as the Hub shows it: children per relation."""
    return dict(Counter(node.relation for node in nodes))


def open_weights_offer(
    session: Session, *, repo: HubRepo, version_id: str, actor: str, eu: bool, now: datetime
) -> Offer:
    """The ``open_weights`` offer of a released version (one per version, brand and channel)."""
    brand = repo.namespace
    offer = session.scalar(
        select(Offer).where(
            Offer.version_id == version_id,
            Offer.by_org_id == repo.org_id,
            Offer.channel == "open_weights",
            Offer.brand == brand,
        )
    )
    if offer is not None:
        return offer
    offer = Offer(
        id=new_id("off"),
        version_id=version_id,
        by_org_id=repo.org_id,
        channel="open_weights",
        brand=brand,
        eu=eu,
        terms={"visibility": repo.visibility, "gated": repo.gated, "licence": repo.licence},
        created_at=now,
    )
    session.add(offer)
    session.flush()
    record_event(
        session,
        actor=actor,
        org_id=repo.org_id,
        action="offer.create",
        subject_type="offer",
        subject_id=offer.id,
        after={"channel": "open_weights", "version": version_id, "repo": repo.repo_id},
    )
    return offer
