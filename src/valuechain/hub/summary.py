"""The hub as the web console shows it: a repo's summary and card, download series, the access inbox.

Typed records; each read authorizes like the hub's own routes (``repos.find_repo``: a repo the caller may
not see answers as a missing one) and reads only ``hub_*`` tables.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from valuechain.accounts.authz import Action, is_allowed
from valuechain.accounts.directory import slugs_for_ids
from valuechain.accounts.principal import Principal
from valuechain.core.errors import ForbiddenError, NotFoundError
from valuechain.hub.access import request_id
from valuechain.hub.downloads import ANONYMOUS, download_totals
from valuechain.hub.errors import HubError
from valuechain.hub.models import HubAccess, HubCommitFile, HubDownload, HubRepo
from valuechain.hub.repos import DEFAULT_BRANCH, find_repo, has_download_access, is_owner, resolve_revision
from valuechain.hub.storage import BlobStore

CARD_MAX_BYTES = 256 * 1024


@dataclass(frozen=True, slots=True)
class RepoSummary:
    """A model's hub repo as the visitor sees it: gating, licence, whether they may download, counts."""

    repo_id: str
    visibility: str
    gated: str | None
    licence: str | None
    licence_name: str | None
    can_download: bool
    is_owner: bool
    access_status: str | None
    downloads_30d: int
    downloads_all_time: int
    readme_sha256: str | None
    files: list[tuple[str, int]]


def repo_summary(
    session: Session, repo_id: str, *, principal: Principal | None, today: date
) -> RepoSummary | None:
    """The repo ``repo_id`` (a registry model's slug), or None when there is none the caller may see."""
    try:
        repo = find_repo(session, repo_id, principal=principal)
    except (NotFoundError, ForbiddenError):
        return None
    status = None
    if principal is not None:
        status = session.scalar(
            select(HubAccess.status).where(HubAccess.repo_id == repo.id, HubAccess.org_id == principal.org_id)
        )
    recent, all_time = download_totals(session, repo, today=today)
    readme, files = None, []
    try:
        head = resolve_revision(session, repo, DEFAULT_BRANCH)
    except (HubError, NotFoundError):
        head = None
    if head is not None:
        entries = session.scalars(
            select(HubCommitFile)
            .where(HubCommitFile.commit_id == head.id)
            .order_by(HubCommitFile.path)
            .limit(200)
        )
        for entry in entries:
            files.append((entry.path, entry.size))
            if entry.path == "README.md" and entry.size <= CARD_MAX_BYTES:
                readme = entry.sha256
    return RepoSummary(
        repo_id=repo.repo_id,
        visibility=repo.visibility,
        gated=repo.gated,
        licence=repo.licence,
        licence_name=repo.licence_name,
        can_download=has_download_access(session, repo, principal),
        is_owner=is_owner(repo, principal),
        access_status=status,
        downloads_30d=recent,
        downloads_all_time=all_time,
        readme_sha256=readme,
        files=files,
    )


def read_card(store: BlobStore, summary: RepoSummary) -> str | None:
    """The README (model card) text of a summarised repo, or None."""
    if summary.readme_sha256 is None:
        return None
    return b"".join(store.read_range(summary.readme_sha256)).decode("utf-8", "replace")


def download_series(
    session: Session, repo_id: str, *, principal: Principal | None, days: int = 30
) -> list[tuple[date, int]]:
    """Downloads per day over the last ``days`` days (totals only: who downloaded is the provider's)."""
    try:
        repo = find_repo(session, repo_id, principal=principal)
    except (NotFoundError, ForbiddenError):
        return []
    since = date.today() - timedelta(days=days - 1)
    rows = session.execute(
        select(HubDownload.day, func.sum(HubDownload.count))
        .where(HubDownload.repo_id == repo.id, HubDownload.day >= since)
        .group_by(HubDownload.day)
    )
    counts = {day: int(total) for day, total in rows}
    return [(since + timedelta(days=i), counts.get(since + timedelta(days=i), 0)) for i in range(days)]


def download_counts(session: Session, model_ids: Iterable[str]) -> dict[str, int]:
    """All-time downloads by registry model id, for catalogue cards (public counters, as on the Hub)."""
    ids = list(model_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(HubRepo.model_id, func.sum(HubDownload.count))
        .join(HubDownload, HubDownload.repo_id == HubRepo.id)
        .where(HubRepo.model_id.in_(ids))
        .group_by(HubRepo.model_id)
    )
    return {model_id: int(total) for model_id, total in rows if model_id is not None}


@dataclass(frozen=True, slots=True)
class AccessRequest:
    """An organisation's request for a gated repo of the provider."""

    repo_id: str
    org: str
    request_id: str
    status: str
    terms: str | None
    accepted_at: datetime | None
    decided_at: datetime | None


def access_inbox(
    session: Session, *, principal: Principal, status: str | None = "pending", limit: int = 100
) -> list[AccessRequest]:
    """Requests for the caller's gated repos (operators: all), newest first; [] for who may not decide."""
    if not is_allowed(principal, Action.repo_manage):
        return []
    query = (
        select(HubAccess, HubRepo.namespace, HubRepo.name)
        .join(HubRepo, HubRepo.id == HubAccess.repo_id)
        .order_by(HubAccess.accepted_at.desc())
        .limit(limit)
    )
    if not principal.is_operator:
        query = query.where(HubRepo.org_id == principal.org_id)
    if status:
        query = query.where(HubAccess.status == status)
    rows = session.execute(query).all()
    slugs = slugs_for_ids(session, (a.org_id for a, _, _ in rows))
    return [
        AccessRequest(
            repo_id=f"{namespace}/{name}",
            org=slugs.get(a.org_id, a.org_id),
            request_id=request_id(a),
            status=a.status,
            terms=a.terms,
            accepted_at=a.accepted_at,
            decided_at=a.decided_at,
        )
        for a, namespace, name in rows
    ]


def downloader_org_ids(session: Session, model_id: str) -> set[str]:
    """The organisations that downloaded files of the model ``model_id`` (issue 11: deprecation notices)."""
    query = (
        select(HubDownload.org_key)
        .join(HubRepo, HubRepo.id == HubDownload.repo_id)
        .where(HubRepo.model_id == model_id, HubDownload.org_key != ANONYMOUS)
        .distinct()
    )
    return set(session.scalars(query))
