"""Release and access: visibility, gating, licence acceptance (who, when, which terms) and grants."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from valuechain.accounts.directory import org_id_for_slug, slugs_for_ids
from valuechain.accounts.principal import Principal
from valuechain.core.audit import record_event
from valuechain.core.errors import ConflictError, NotFoundError, ValidationError
from valuechain.hub import lineage
from valuechain.hub.errors import GatedRepoError
from valuechain.hub.licences import find_licence, release_licence
from valuechain.hub.models import ACCESS_STATUSES, GATE_MODES, HubAccess, HubRepo
from valuechain.hub.repos import DEFAULT_BRANCH, has_download_access, resolve_revision


def _snapshot(repo: HubRepo) -> dict[str, object]:
    return {"visibility": repo.visibility, "gated": repo.gated, "licence": repo.licence}


def set_visibility(
    session: Session, *, repo: HubRepo, principal: Principal, visibility: str, now: datetime
) -> None:
    """Make a repo public or private; public without a licence is published, not released (issue 15)."""
    if visibility not in ("public", "private"):
        raise ValidationError("visibility must be public or private")
    before = _snapshot(repo)
    if visibility == "public":
        head = resolve_revision(session, repo, DEFAULT_BRANCH)
        licence = release_licence(session, head, repo_id=repo.repo_id)
        repo.licence, repo.licence_name = (licence.id, licence.name) if licence else (None, None)
    repo.visibility = visibility
    repo.updated_at = now
    lineage.publish_visibility(session, repo, actor=principal.actor)
    record_event(
        session,
        actor=principal.actor,
        org_id=repo.org_id,
        action="hub.repo.visibility",
        subject_type="hub_repo",
        subject_id=repo.id,
        before=before,
        after=_snapshot(repo),
    )


def set_gated(
    session: Session, *, repo: HubRepo, principal: Principal, gated: str | None, now: datetime
) -> None:
    """Gate downloads: ``auto`` (accepting the terms suffices), ``manual`` (provider approves), or off."""
    if gated is not None and gated not in GATE_MODES:
        raise ValidationError("gated must be auto, manual or false")
    before = _snapshot(repo)
    repo.gated = gated
    repo.updated_at = now
    record_event(
        session,
        actor=principal.actor,
        org_id=repo.org_id,
        action="hub.repo.gated",
        subject_type="hub_repo",
        subject_id=repo.id,
        before=before,
        after=_snapshot(repo),
    )


def check_download(session: Session, repo: HubRepo, principal: Principal | None) -> None:
    """Raise GatedRepo unless the caller may download files of this (visible) repo."""
    if not has_download_access(session, repo, principal):
        raise GatedRepoError(
            f"Access to model {repo.repo_id} is restricted and you are not in the authorized list: "
            "accept its licence terms first "
            f"(`valuechain hub accept {repo.repo_id}` or POST /hub/api/models/{repo.repo_id}/accept)"
            + (" and wait for the provider's approval" if repo.gated == "manual" else "")
        )


def accept_terms(session: Session, *, repo: HubRepo, principal: Principal, now: datetime) -> HubAccess:
    """Record that the caller's organisation accepts the licence at the head of ``main``."""
    if repo.gated is None:
        raise ValidationError(f"{repo.repo_id} is not gated; its files need no acceptance")
    head = resolve_revision(session, repo, DEFAULT_BRANCH)
    licence = find_licence(session, head)
    access = session.get(HubAccess, (repo.id, principal.org_id))
    if access is None:
        access = HubAccess(repo_id=repo.id, org_id=principal.org_id, status="pending")
        session.add(access)
    access.terms = licence.label if licence else None
    access.terms_sha256 = licence.file.sha256 if licence and licence.file else None
    access.accepted_by = principal.key_id or principal.user_id
    access.accepted_at = now
    if repo.gated == "auto" and access.status != "rejected":
        access.status = "accepted"
    session.flush()
    record_event(
        session,
        actor=principal.actor,
        org_id=principal.org_id,
        action="hub.terms.accept",
        subject_type="hub_repo",
        subject_id=repo.id,
        after=_access_snapshot(access),
    )
    return access


def request_id(access: HubAccess) -> str:
    """An opaque, stable id of an organisation's access request (the client's ``request_id``)."""
    digest = hashlib.sha256(f"{access.repo_id}:{access.org_id}".encode()).hexdigest()
    return f"ar_{digest[:24]}"


def decide_access(
    session: Session,
    *,
    repo: HubRepo,
    principal: Principal,
    org_slug: str | None,
    status: str,
    now: datetime,
    request: str | None = None,
) -> HubAccess:
    """The provider grants, rejects or resets the access of an organisation that asked for it, named by
    slug or by ``request`` id; setting the status it already has is a conflict (as on the Hub).

    Only organisations that accepted the terms of this repo can be named: any other slug, existing or
    not, gets the same not-found answer (issue 9: a write never reveals that an organisation exists).
    """
    if status not in ACCESS_STATUSES:
        raise ValidationError(f"status must be one of {', '.join(ACCESS_STATUSES)}")
    access = _find_request(session, repo=repo, org_slug=org_slug, request=request)
    if access.status == status:
        raise ConflictError(f"the access request of {org_slug or request} is already {status}")
    before = _access_snapshot(access)
    access.status = status
    access.decided_by = principal.key_id or principal.user_id
    access.decided_at = now
    session.flush()
    record_event(
        session,
        actor=principal.actor,
        org_id=repo.org_id,
        action=f"hub.access.{status}",
        subject_type="hub_repo",
        subject_id=repo.id,
        before=before,
        after=_access_snapshot(access),
    )
    return access


def _find_request(session: Session, *, repo: HubRepo, org_slug: str | None, request: str | None) -> HubAccess:
    if org_slug is not None:
        org_id = org_id_for_slug(session, org_slug)
        access = session.get(HubAccess, (repo.id, org_id)) if org_id else None
    else:
        records = session.scalars(select(HubAccess).where(HubAccess.repo_id == repo.id))
        access = next((r for r in records if request_id(r) == request), None)
    if access is None:
        named = f"organisation {org_slug}" if org_slug is not None else f"request {request}"
        raise NotFoundError(f"no access request from {named} for {repo.repo_id}")
    return access


def list_access(session: Session, *, repo: HubRepo, status: str | None = None) -> list[tuple[HubAccess, str]]:
    """Access records of a repo with the organisation slug (for its provider)."""
    query = select(HubAccess).where(HubAccess.repo_id == repo.id)
    if status:
        query = query.where(HubAccess.status == status)
    records = list(session.scalars(query))
    slugs = slugs_for_ids(session, (r.org_id for r in records))
    return sorted(((r, slugs[r.org_id]) for r in records), key=lambda pair: pair[1])


def _access_snapshot(access: HubAccess) -> dict[str, object]:
    return {
        "org_id": access.org_id,
        "status": access.status,
        "terms": access.terms,
        "terms_sha256": access.terms_sha256,
        "accepted_by": access.accepted_by,
        "accepted_at": access.accepted_at,
    }


def has_accepted_access(session: Session, model_id: str, org_id: str) -> bool:
    """Whether the organisation holds accepted access to a hub repo of the registry model ``model_id``."""
    query = (
        select(HubAccess.org_id)
        .join(HubRepo)
        .where(HubRepo.model_id == model_id, HubAccess.org_id == org_id, HubAccess.status == "accepted")
    )
    return session.scalar(select(query.exists())) is True
