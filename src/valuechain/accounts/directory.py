"""Organisation names for other domains: read-only slug ↔ id lookups (accounts owns the tables)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from valuechain.accounts.models import ApiKey, Organization


def org_id_for_slug(session: Session, slug: str) -> str | None:
    """The id of the organisation ``slug``, or None."""
    return session.scalar(select(Organization.id).where(Organization.slug == slug))


def slugs_for_ids(session: Session, org_ids: Iterable[str]) -> dict[str, str]:
    """Slugs of the given organisations, by id (unknown ids are left out)."""
    ids = list(set(org_ids))
    if not ids:
        return {}
    rows = session.execute(select(Organization.id, Organization.slug).where(Organization.id.in_(ids)))
    return {org_id: slug for org_id, slug in rows}


def org_id_for_ref(session: Session, ref: str) -> str | None:
    """The id of the organisation whose id or slug is ``ref``, or None."""
    return session.scalar(
        select(Organization.id).where((Organization.id == ref) | (Organization.slug == ref))
    )


def key_id_for_ref(session: Session, ref: str) -> str | None:
    """The id of the API key whose id or public prefix is ``ref``, or None."""
    return session.scalar(select(ApiKey.id).where((ApiKey.id == ref) | (ApiKey.prefix == ref)))
