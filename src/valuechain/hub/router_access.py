"""Release, gating and lineage routes: accept terms, grant access, release as open weights, model tree,
download statistics. HF's access-request endpoints are mirrored; the rest are valuechain extensions."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body
from pydantic import BaseModel, ConfigDict, Field

from valuechain.core.errors import ValidationError
from valuechain.hub import browse, service
from valuechain.hub.deps import CurrentPrincipal, DbDep, MaybePrincipal
from valuechain.hub.views import iso

router = APIRouter(prefix="/api/models/{namespace}/{name}")


class AccessDecision(BaseModel):
    """``grant_access`` / ``handle_access_request`` body; ``user`` is an organisation slug here."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)
    user: str | None = Field(default=None, description="Organisation slug whose access changes.")
    request_id: str | None = Field(
        default=None, alias="requestId", description="Or the id of its access request (from the listing)."
    )
    status: str = Field(default="accepted", description="accepted, rejected or pending.")


class Release(BaseModel):
    """Release the head of ``main`` as open weights."""

    model_config = ConfigDict(extra="forbid")
    gated: str | None = Field(
        default=None, description="auto (accept terms), manual (provider approves) or null."
    )
    eu: bool = Field(default=True, description="Whether the release is placed on the EU market.")


@router.post("/accept")
def accept_terms(namespace: str, name: str, db: DbDep, principal: CurrentPrincipal) -> dict[str, Any]:
    """Accept the licence terms of a gated repo for the caller's organisation."""
    result = service.accept_terms(db, principal=principal, repo_id=f"{namespace}/{name}")
    result["accepted_at"] = iso(result["accepted_at"])  # type: ignore[arg-type]
    return result


@router.post("/user-access-request/grant")
@router.post("/user-access-request/handle")
def decide_access(
    namespace: str, name: str, body: AccessDecision, db: DbDep, principal: CurrentPrincipal
) -> dict[str, str | None]:
    """The provider grants or rejects an organisation's access; the status it already has is a 409."""
    if (body.user is None) == (body.request_id is None):
        raise ValidationError("name the organisation (`user`) or the access request (`requestId`)")
    service.decide_access(
        db,
        principal=principal,
        repo_id=f"{namespace}/{name}",
        org_slug=body.user,
        status=body.status,
        request_id=body.request_id,
    )
    return {"user": body.user, "status": body.status}


@router.get("/user-access-request/{status}")
def list_access_requests(
    namespace: str, name: str, status: str, db: DbDep, principal: CurrentPrincipal
) -> list[dict[str, Any]]:
    """Organisations by access status, with who accepted which terms when."""
    return browse.list_access_requests(db, principal=principal, repo_id=f"{namespace}/{name}", status=status)


@router.post("/release")
def release(
    namespace: str,
    name: str,
    db: DbDep,
    principal: CurrentPrincipal,
    body: Release = Body(default_factory=Release),
) -> dict[str, Any]:
    """Make the repo public (optionally gated) and record an ``open_weights`` offer; needs a licence."""
    offer = service.release_open_weights(
        db, principal=principal, repo_id=f"{namespace}/{name}", gated=body.gated, eu=body.eu
    )
    return {
        "offer_id": offer.id,
        "channel": offer.channel,
        "version_id": offer.version_id,
        "brand": offer.brand,
    }


@router.get("/lineage")
def model_tree(namespace: str, name: str, db: DbDep, principal: MaybePrincipal) -> dict[str, Any]:
    """The model tree: base models (on this hub or external) and derived models."""
    return browse.model_tree(db, principal=principal, repo_id=f"{namespace}/{name}")


@router.get("/downloads")
def downloads(namespace: str, name: str, db: DbDep, principal: CurrentPrincipal) -> dict[str, Any]:
    """Download counts per version, organisation and day (provider only)."""
    return browse.download_statistics(db, principal=principal, repo_id=f"{namespace}/{name}")
