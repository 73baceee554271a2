"""Download counts as a report next to API usage: per day × model × version × downloading organisation."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from valuechain.accounts.models import Organization
from valuechain.accounts.principal import Principal
from valuechain.accounts.roles import Scope
from valuechain.core.clock import utcnow
from valuechain.core.errors import ValidationError
from valuechain.hub.downloads import ANONYMOUS
from valuechain.hub.models import HubCommit, HubDownload, HubRepo
from valuechain.registry.models import ModelVersion


def downloads_report(
    session: Session,
    *,
    principal: Principal,
    view: str = "provider",
    since: date | None = None,
    until: date | None = None,
) -> list[dict[str, Any]]:
    """``provider``: downloads of the caller's repos; ``consumer``: the caller's own downloads."""
    principal.require(Scope.registry_read)
    if view not in ("provider", "consumer"):
        raise ValidationError("view must be provider or consumer")
    until = until or utcnow().date()
    since = since or until - timedelta(days=30)
    query = (
        select(
            HubDownload.day,
            HubRepo.namespace,
            HubRepo.name,
            ModelVersion.label,
            Organization.slug,
            HubDownload.count,
        )
        .join(HubRepo, HubRepo.id == HubDownload.repo_id)
        .join(HubCommit, HubCommit.id == HubDownload.commit_id)
        .outerjoin(ModelVersion, ModelVersion.id == HubCommit.version_id)
        .outerjoin(Organization, Organization.id == HubDownload.org_key)
        .where(HubDownload.day >= since, HubDownload.day <= until)
        .order_by(HubDownload.day, HubRepo.namespace, HubRepo.name, HubDownload.org_key)
    )
    if not principal.is_operator:
        own = HubRepo.org_id if view == "provider" else HubDownload.org_key
        query = query.where(own == principal.org_id)
    return [
        {
            "day": day.isoformat(),
            "model": f"{namespace}/{name}",
            "version": label,
            "org": slug or ANONYMOUS,
            "downloads": count,
        }
        for day, namespace, name, label, slug, count in session.execute(query)
    ]
