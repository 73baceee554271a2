"""HTTP routes of the registry (/api/v1/models, derivations, systems, offers, chain)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Query, status

from valuechain.accounts.deps import CurrentPrincipal
from valuechain.core.http import ReadSession, WriteSession
from valuechain.registry import service, views
from valuechain.registry.schemas import (
    DerivationCreate,
    DerivationPublic,
    LineagePublic,
    ModelCreate,
    ModelPublic,
    OfferCreate,
    OfferPublic,
    SystemCreate,
    SystemPublic,
    VersionCreate,
    VersionPublic,
)

router = APIRouter(prefix="/api/v1", tags=["registry"])


@router.get("/models")
def list_models(
    session: ReadSession, principal: CurrentPrincipal, owner: str | None = None
) -> list[ModelPublic]:
    names = views.Names(session)
    models = service.list_models(session, principal=principal, owner=owner)
    names.prefetch_orgs([m.owner_org_id for m in models] + [m.released_by_org_id for m in models])
    return [views.model_public(session, m, names) for m in models]


@router.post("/models", status_code=status.HTTP_201_CREATED)
def create_model(data: ModelCreate, session: WriteSession, principal: CurrentPrincipal) -> ModelPublic:
    return views.model_public(session, service.create_model(session, data, principal=principal))


@router.get("/models/{org}/{name}")
def read_model(org: str, name: str, session: ReadSession, principal: CurrentPrincipal) -> ModelPublic:
    return views.model_public(session, service.get_model(session, f"{org}/{name}", principal=principal))


@router.patch("/models/{org}/{name}")
def update_model(
    org: str, name: str, session: WriteSession, principal: CurrentPrincipal, changes: dict[str, Any] = Body()
) -> ModelPublic:
    """Change facts of a model; the whole is re-validated and the change is audited."""
    model = service.update_model(session, f"{org}/{name}", changes, principal=principal)
    return views.model_public(session, model)


@router.get("/models/{org}/{name}/versions")
def list_versions(
    org: str, name: str, session: ReadSession, principal: CurrentPrincipal
) -> list[VersionPublic]:
    model = service.get_model(session, f"{org}/{name}", principal=principal)
    return [
        views.version_public(model.slug, v, service.artifacts_of(session, v.id))
        for v in service.versions_of(session, model.id)
    ]


@router.post("/models/{org}/{name}/versions", status_code=status.HTTP_201_CREATED)
def create_version(
    org: str, name: str, data: VersionCreate, session: WriteSession, principal: CurrentPrincipal
) -> VersionPublic:
    version = service.create_version(session, f"{org}/{name}", data, principal=principal)
    return views.version_public(f"{org}/{name}", version, service.artifacts_of(session, version.id))


@router.get("/models/{org}/{name}/versions/{label}")
def read_version(
    org: str, name: str, label: str, session: ReadSession, principal: CurrentPrincipal
) -> VersionPublic:
    version = service.get_version(session, f"{org}/{name}", label, principal=principal)
    return views.version_public(f"{org}/{name}", version, service.artifacts_of(session, version.id))


@router.get("/models/{org}/{name}/lineage")
def read_lineage(org: str, name: str, session: ReadSession, principal: CurrentPrincipal) -> LineagePublic:
    """The model tree around a model: the derivations it came from and those made from it."""
    parents, children = service.lineage(session, f"{org}/{name}", principal=principal)
    names = views.Names(session)
    return LineagePublic(
        model=f"{org}/{name}",
        parents=[views.derivation_public(d, names) for d in parents],
        children=[views.derivation_public(d, names) for d in children],
    )


@router.post("/derivations", status_code=status.HTTP_201_CREATED)
def create_derivation(
    data: DerivationCreate, session: WriteSession, principal: CurrentPrincipal
) -> DerivationPublic:
    derivation = service.create_derivation(session, data, principal=principal)
    return views.derivation_public(derivation, views.Names(session))


@router.get("/systems")
def list_systems(session: ReadSession, principal: CurrentPrincipal) -> list[SystemPublic]:
    names = views.Names(session)
    return [
        views.system_public(session, s, names) for s in service.list_systems(session, principal=principal)
    ]


@router.post("/systems", status_code=status.HTTP_201_CREATED)
def create_system(data: SystemCreate, session: WriteSession, principal: CurrentPrincipal) -> SystemPublic:
    system = service.create_system(session, data, principal=principal)
    return views.system_public(session, system, views.Names(session))


@router.get("/systems/{org}/{name}")
def read_system(org: str, name: str, session: ReadSession, principal: CurrentPrincipal) -> SystemPublic:
    system = service.get_system(session, f"{org}/{name}", principal=principal)
    return views.system_public(session, system, views.Names(session))


@router.get("/offers")
def list_offers(
    session: ReadSession, principal: CurrentPrincipal, channel: str | None = Query(default=None)
) -> list[OfferPublic]:
    names = views.Names(session)
    offers = service.list_offers(session, principal=principal, channel=channel)
    names.prefetch_orgs(o.by_org_id for o in offers)
    return [views.offer_public(o, names) for o in offers]


@router.post("/offers", status_code=status.HTTP_201_CREATED)
def create_offer(data: OfferCreate, session: WriteSession, principal: CurrentPrincipal) -> OfferPublic:
    return views.offer_public(service.create_offer(session, data, principal=principal), views.Names(session))


@router.get("/offers/{offer_id}")
def read_offer(offer_id: str, session: ReadSession, principal: CurrentPrincipal) -> OfferPublic:
    return views.offer_public(service.get_offer(session, offer_id, principal=principal), views.Names(session))
