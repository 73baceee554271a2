"""Download counts as a report next to API usage: per day × model × version × downloading organisation."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from valuechain.accounts.authz import Action, authorize
from valuechain.accounts.directory import slugs_for_ids
from valuechain.accounts.principal import Principal
from valuechain.core.clock import utcnow
from valuechain.core.errors import ValidationError
from valuechain.hub.downloads import ANONYMOUS
from valuechain.hub.models import HubCommit, HubDownload, HubRepo
from valuechain.registry import releases


def downloads_report(
    session: Session,
    *,
    principal: Principal,
    view: str = "provider",
    since: date | None = None,
    until: date | None = None,
) -> list[dict[str, Any]]:
    """``provider``: downloads of the caller's repos; ``consumer``: the caller's own downloads."""
    authorize(principal, Action.repo_read)
    if view not in ("provider", "consumer"):
        raise ValidationError("view must be provider or consumer")
    until = until or utcnow().date()
    since = since or until - timedelta(days=30)
    query = (
        select(
            HubDownload.day,
            HubRepo.namespace,
            HubRepo.name,
            HubCommit.version_id,
            HubDownload.org_key,
            HubDownload.count,
        )
        .join(HubRepo, HubRepo.id == HubDownload.repo_id)
        .join(HubCommit, HubCommit.id == HubDownload.commit_id)
        .where(HubDownload.day >= since, HubDownload.day <= until)
        .order_by(HubDownload.day, HubRepo.namespace, HubRepo.name, HubDownload.org_key)
    )
    if not principal.is_operator:
        own = HubRepo.org_id if view == "provider" else HubDownload.org_key
        query = query.where(own == principal.org_id)
    rows = session.execute(query).all()
    labels = releases.version_labels(session, (row.version_id for row in rows if row.version_id))
    slugs = slugs_for_ids(session, (row.org_key for row in rows))
    return [
        {
            "day": day.isoformat(),
            "model": f"{namespace}/{name}",
            "version": labels.get(version_id) if version_id else None,
            "org": slugs.get(org_key, ANONYMOUS),
            "downloads": count,
        }
        for day, namespace, name, version_id, org_key, count in rows
    ]
