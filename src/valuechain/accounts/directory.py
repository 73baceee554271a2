"""How other domains read organisations and keys: typed, read-only lookups (accounts owns the tables)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

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


@dataclass(frozen=True, slots=True)
class OrgRef:
    """An organisation as other domains see it: its public profile, never its members or keys."""

    id: str
    slug: str
    name: str
    country: str
    is_sme: bool
    is_microenterprise: bool


_ORG_REF_COLUMNS = (
    Organization.id,
    Organization.slug,
    Organization.name,
    Organization.country,
    Organization.is_sme,
    Organization.is_microenterprise,
)


def org_by_slug(session: Session, slug: str) -> OrgRef | None:
    """The organisation ``slug``, or None."""
    row = session.execute(select(*_ORG_REF_COLUMNS).where(Organization.slug == slug)).one_or_none()
    return OrgRef(*row) if row is not None else None


def orgs_by_ids(session: Session, org_ids: Iterable[str]) -> dict[str, OrgRef]:
    """The given organisations in one query, by id (unknown ids are left out)."""
    ids = list(set(org_ids))
    if not ids:
        return {}
    rows = session.execute(select(*_ORG_REF_COLUMNS).where(Organization.id.in_(ids)))
    return {row[0]: OrgRef(*row) for row in rows}


def all_orgs(session: Session) -> list[OrgRef]:
    """Every organisation, ordered by slug (for whole-registry exports and imports)."""
    return [OrgRef(*row) for row in session.execute(select(*_ORG_REF_COLUMNS).order_by(Organization.slug))]


def all_org_slugs(session: Session) -> dict[str, str]:
    """Every organisation's slug, by id, in one query."""
    return {org_id: slug for org_id, slug in session.execute(select(Organization.id, Organization.slug))}
