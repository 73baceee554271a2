"""Host branding (issue 11, white label): an organisation's display name and accent for visitors of its
host name. Split from ``whitelabel.py``, which keeps agreements, offers and customers."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from valuechain.accounts.authz import Action, Resource, authorize
from valuechain.accounts.directory import slugs_for_ids
from valuechain.accounts.principal import Principal
from valuechain.channels import events
from valuechain.channels.models import Brand
from valuechain.core.audit import record_event
from valuechain.core.clock import utcnow
from valuechain.core.errors import ConflictError
from valuechain.core.schema import InputModel


class BrandSet(InputModel):
    """How visitors of the reseller's host name see the console."""

    host: str = Field(pattern=r"^[a-z0-9.-]{1,253}(:[0-9]{1,5})?$", description="Host name, lower case.")
    display_name: str = Field(min_length=1, max_length=200)
    accent: str = Field(default="#1f6feb", pattern=r"^#[0-9a-fA-F]{6}$")


@dataclass(frozen=True, slots=True)
class BrandRecord:
    """An organisation's branding for its host name."""

    org_id: str
    org_slug: str
    host: str
    display_name: str
    accent: str


def set_brand(session: Session, data: BrandSet, *, principal: Principal) -> BrandRecord:
    """An organisation brands the console for visitors of its host name (admins)."""
    authorize(principal, Action.org_update, Resource("organization", principal.org_slug, principal.org_id))
    taken = session.scalar(select(Brand).where(Brand.host == data.host))
    if taken is not None and taken.org_id != principal.org_id:
        raise ConflictError(f"host {data.host} is branded by another organisation")
    brand = session.get(Brand, principal.org_id)
    if brand is None:
        brand = Brand(org_id=principal.org_id, created_at=utcnow())
        session.add(brand)
    brand.host, brand.display_name, brand.accent = data.host, data.display_name, data.accent
    session.flush()
    record_event(
        session,
        actor=principal.actor,
        org_id=principal.org_id,
        action=events.brand_set,
        subject_type="brand",
        subject_id=data.host,
        after=data.model_dump(mode="json"),
    )
    return BrandRecord(principal.org_id, principal.org_slug, data.host, data.display_name, data.accent)


def brand_of(session: Session, *, principal: Principal) -> BrandRecord | None:
    """The caller's organisation's own branding, or None (what the console's brand form starts from)."""
    authorize(principal, Action.org_read, Resource("organization", principal.org_slug, principal.org_id))
    brand = session.get(Brand, principal.org_id)
    if brand is None:
        return None
    return BrandRecord(brand.org_id, principal.org_slug, brand.host, brand.display_name, brand.accent)


def brand_for_host(session: Session, host: str) -> BrandRecord | None:
    """The branding of ``host`` (a request's Host header, port dropped), or None (public: it is shown to
    every visitor of that host)."""
    name = host.split(":", 1)[0].lower()
    brand = session.scalar(select(Brand).where(Brand.host == name))
    if brand is None:
        return None
    slug = slugs_for_ids(session, [brand.org_id]).get(brand.org_id, "")
    return BrandRecord(brand.org_id, slug, brand.host, brand.display_name, brand.accent)
