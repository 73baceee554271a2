"""The catalogue and the model page's registry parts, as typed records for the web console.

Every read is authorized through ``accounts.authz`` (a model the caller may not see answers exactly as a
missing one) and paged on an index: the catalogue is a keyset page on ``models.slug`` (unique index), the
lineage of a model reads the derivations of its versions through their indexed version columns, capped.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import String, cast, exists, or_, select
from sqlalchemy.orm import Session, aliased

from valuechain.accounts import directory
from valuechain.accounts.authz import Action, authorize
from valuechain.accounts.principal import Principal
from valuechain.registry.models import Artifact, Derivation, Model, ModelVersion, Offer
from valuechain.registry.service import get_model, model_visible

PAGE_MAX = 100
LINEAGE_MAX = 200


@dataclass(frozen=True, slots=True)
class CatalogueFilters:
    """What the visitor narrowed the catalogue to (all optional; they live in the URL)."""

    q: str | None = None
    licence: str | None = None
    modality: str | None = None
    channel: str | None = None
    org: str | None = None


@dataclass(frozen=True, slots=True)
class CatalogueEntry:
    """A model card in the catalogue."""

    id: str
    slug: str
    owner: str
    description: str | None
    licence: str
    visibility: str
    input_modalities: tuple[str, ...]
    output_modalities: tuple[str, ...]
    channels: tuple[str, ...]
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class CataloguePage:
    """One page of the catalogue and the slug after which the next page starts (None: last page)."""

    entries: list[CatalogueEntry]
    next_after: str | None


def catalogue(
    session: Session,
    *,
    principal: Principal,
    filters: CatalogueFilters,
    after: str | None = None,
    limit: int = 24,
) -> CataloguePage:
    """Models the caller may see, by slug, ``limit`` at a time after the slug ``after``."""
    authorize(principal, Action.model_read)
    limit = max(1, min(limit, PAGE_MAX))
    query = select(Model).where(model_visible(principal)).order_by(Model.slug).limit(limit + 1)
    if after:
        query = query.where(Model.slug > after)
    if filters.q:
        pattern = f"%{filters.q.lower()}%"
        query = query.where(
            or_(Model.slug.like(pattern, escape="\\"), Model.description.ilike(pattern, escape="\\"))
        )
    if filters.licence:
        query = query.where(Model.licence == filters.licence)
    if filters.modality:  # JSON lists stored as text on both backends: match the quoted element
        needle = f'%"{filters.modality}"%'
        query = query.where(
            or_(
                cast(Model.input_modalities, String).like(needle),
                cast(Model.output_modalities, String).like(needle),
            )
        )
    if filters.org:
        owner_id = directory.org_id_for_slug(session, filters.org)
        query = query.where(Model.owner_org_id == (owner_id or ""))
    if filters.channel:
        offered = (
            select(Offer.id)
            .join(ModelVersion, ModelVersion.id == Offer.version_id)
            .where(ModelVersion.model_id == Model.id, Offer.channel == filters.channel)
        )
        query = query.where(exists(offered))
    models = list(session.scalars(query))
    more = len(models) > limit
    models = models[:limit]
    channels = channels_of(session, [m.id for m in models])
    owners = directory.slugs_for_ids(session, {m.owner_org_id for m in models})
    entries = [
        CatalogueEntry(
            id=m.id,
            slug=m.slug,
            owner=owners.get(m.owner_org_id, ""),
            description=m.description,
            licence=m.licence,
            visibility=m.visibility,
            input_modalities=tuple(m.input_modalities or ()),
            output_modalities=tuple(m.output_modalities or ()),
            channels=tuple(sorted(channels.get(m.id, ()))),
            updated_at=m.updated_at,
        )
        for m in models
    ]
    return CataloguePage(entries, models[-1].slug if more and models else None)


def channels_of(session: Session, model_ids: Iterable[str]) -> dict[str, set[str]]:
    """The channels each model is offered through (one query over the page's models)."""
    ids = list(model_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(ModelVersion.model_id, Offer.channel)
        .join(Offer, Offer.version_id == ModelVersion.id)
        .where(ModelVersion.model_id.in_(ids))
        .distinct()
    )
    found: dict[str, set[str]] = defaultdict(set)
    for model_id, channel in rows:
        found[model_id].add(channel)
    return found


@dataclass(frozen=True, slots=True)
class VersionInfo:
    label: str
    notes: str | None
    created_at: datetime
    stage: str = "active"  # the lifecycle (issue 11)
    sunset_at: datetime | None = None
    successor: str | None = None


@dataclass(frozen=True, slots=True)
class FileInfo:
    path: str
    sha256: str
    size: int


@dataclass(frozen=True, slots=True)
class LineageEdge:
    """One derivation next to the model: the other model (or an external parent) and how it relates."""

    other: str
    version: str | None
    relation: str
    compute_flop: float | None
    by: str
    on_registry: bool


@dataclass(frozen=True, slots=True)
class OfferInfo:
    id: str
    version: str
    channel: str
    brand: str
    by: str
    eu: bool
    terms: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ModelPage:
    """What the registry knows about a model, as far as the caller may see it."""

    id: str
    slug: str
    owner: str
    owner_org_id: str
    released_by: str
    description: str | None
    visibility: str
    licence: str
    licence_terms: tuple[str, ...]
    input_modalities: tuple[str, ...]
    output_modalities: tuple[str, ...]
    parameters: float | None
    training_compute_flop: float | None
    versions: list[VersionInfo]
    files: list[FileInfo]
    parents: list[LineageEdge]
    children: list[LineageEdge]
    offers: list[OfferInfo]
    updated_at: datetime


def model_page(session: Session, slug: str, *, principal: Principal) -> ModelPage:
    """The model ``slug`` (404 if the caller may not see it) with versions, files, lineage and offers."""
    model = get_model(session, slug, principal=principal)
    versions = list(
        session.scalars(
            select(ModelVersion).where(ModelVersion.model_id == model.id).order_by(ModelVersion.created_at)
        )
    )
    latest = versions[-1] if versions else None
    files = (
        [
            FileInfo(a.path, a.sha256, a.size)
            for a in session.scalars(
                select(Artifact).where(Artifact.version_id == latest.id).order_by(Artifact.path)
            )
        ]
        if latest is not None
        else []
    )
    version_ids = [v.id for v in versions]
    parents, children = _lineage(session, version_ids, principal, owns=model.owner_org_id == principal.org_id)
    offer_rows = list(
        session.scalars(
            select(Offer).where(Offer.version_id.in_(version_ids)).order_by(Offer.created_at).limit(PAGE_MAX)
        )
    )
    labels = {v.id: v.label for v in versions}
    org_ids = {model.owner_org_id, model.released_by_org_id, *(o.by_org_id for o in offer_rows)}
    names = directory.slugs_for_ids(session, {i for i in org_ids if i})
    owner = names.get(model.owner_org_id, "")
    return ModelPage(
        id=model.id,
        slug=model.slug,
        owner=owner,
        owner_org_id=model.owner_org_id,
        released_by=names.get(model.released_by_org_id or "", owner),
        description=model.description,
        visibility=model.visibility,
        licence=model.licence,
        licence_terms=tuple(model.licence_terms or ()),
        input_modalities=tuple(model.input_modalities or ()),
        output_modalities=tuple(model.output_modalities or ()),
        parameters=model.parameters,
        training_compute_flop=model.training_compute_flop,
        versions=[
            VersionInfo(v.label, v.notes, v.created_at, v.stage or "active", v.sunset_at, v.successor)
            for v in versions
        ],
        files=files,
        parents=parents,
        children=children,
        offers=[
            OfferInfo(
                o.id,
                labels.get(o.version_id, ""),
                o.channel,
                o.brand,
                names.get(o.by_org_id, ""),
                o.eu,
                dict(o.terms or {}),
            )
            for o in offer_rows
        ],
        updated_at=model.updated_at,
    )


def _lineage(
    session: Session, version_ids: list[str], principal: Principal, *, owns: bool
) -> tuple[list[LineageEdge], list[LineageEdge]]:
    """Parents of the model's versions, and the children the caller may see (capped, indexed reads)."""
    if not version_ids:
        return [], []
    other_version, other_model = aliased(ModelVersion), aliased(Model)
    parent_rows = session.execute(
        select(Derivation, other_model.slug, other_version.label)
        .outerjoin(other_version, other_version.id == Derivation.parent_version_id)
        .outerjoin(other_model, other_model.id == other_version.model_id)
        .where(Derivation.child_version_id.in_(version_ids))
        .limit(LINEAGE_MAX)
    ).all()
    child_query = (
        select(Derivation, other_model.slug, other_version.label)
        .join(other_version, other_version.id == Derivation.child_version_id)
        .join(other_model, other_model.id == other_version.model_id)
        .where(Derivation.parent_version_id.in_(version_ids))
        .order_by(other_model.slug)
        .limit(LINEAGE_MAX)
    )
    if not (principal.is_operator or owns):  # what came back is the parent owner's to see (as `lineage`)
        child_query = child_query.where(
            or_(
                other_model.visibility == "public",
                other_model.owner_org_id == principal.org_id,
                Derivation.by_org_id == principal.org_id,
            )
        )
    child_rows = session.execute(child_query).all()
    by = directory.slugs_for_ids(session, {d.by_org_id for d, _, _ in [*parent_rows, *child_rows]})

    def edge(d: Derivation, slug: str | None, label: str | None) -> LineageEdge:
        return LineageEdge(
            other=slug or d.external_parent or "?",
            version=label,
            relation=d.relation,
            compute_flop=d.compute_flop,
            by=by.get(d.by_org_id, ""),
            on_registry=slug is not None,
        )

    return [edge(*row) for row in parent_rows], [edge(*row) for row in child_rows]


def version_refs(session: Session, version_ids: Iterable[str]) -> dict[str, str]:
    """``<org>/<name>@<label>`` of the given versions, by id (one query; callers decide what to show)."""
    ids = list(set(version_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(ModelVersion.id, Model.slug, ModelVersion.label)
        .join(Model, Model.id == ModelVersion.model_id)
        .where(ModelVersion.id.in_(ids))
    )
    return {version_id: f"{slug}@{label}" for version_id, slug, label in rows}
