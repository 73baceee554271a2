"""HTTP routes of the accounts domain (/api/v1/orgs, members, keys)."""

from __future__ import annotations

from fastapi import APIRouter, status

from valuechain.accounts import service
from valuechain.accounts.deps import CurrentPrincipal
from valuechain.accounts.schemas import (
    KeyCreate,
    KeyCreated,
    KeyPublic,
    MemberCreate,
    MemberPublic,
    MePublic,
    OrgCreate,
    OrgPublic,
    OrgUpdate,
)
from valuechain.core.http import ReadSession, WriteSession

router = APIRouter(prefix="/api/v1", tags=["accounts"])


@router.get("/me")
def read_me(principal: CurrentPrincipal) -> MePublic:
    """Who the key belongs to and what it may do."""
    return MePublic(
        org=principal.org_slug,
        key_id=principal.key_id,
        role=principal.role,
        scopes=sorted(principal.scopes),
        is_operator=principal.is_operator,
    )


@router.get("/orgs")
def list_orgs(session: ReadSession, principal: CurrentPrincipal) -> list[OrgPublic]:
    return [OrgPublic.model_validate(o) for o in service.list_orgs(session, principal=principal)]


@router.post("/orgs", status_code=status.HTTP_201_CREATED)
def create_org(data: OrgCreate, session: WriteSession, principal: CurrentPrincipal) -> OrgPublic:
    return OrgPublic.model_validate(service.create_org(session, data, principal=principal))


@router.get("/orgs/{slug}")
def read_org(slug: str, session: ReadSession, principal: CurrentPrincipal) -> OrgPublic:
    return OrgPublic.model_validate(service.get_org(session, slug, principal=principal))


@router.patch("/orgs/{slug}")
def update_org(slug: str, data: OrgUpdate, session: WriteSession, principal: CurrentPrincipal) -> OrgPublic:
    return OrgPublic.model_validate(service.update_org(session, slug, data, principal=principal))


@router.get("/orgs/{slug}/members")
def list_members(slug: str, session: ReadSession, principal: CurrentPrincipal) -> list[MemberPublic]:
    return [MemberPublic.model_validate(m) for m in service.list_members(session, slug, principal=principal)]


@router.post("/orgs/{slug}/members", status_code=status.HTTP_201_CREATED)
def add_member(
    slug: str, data: MemberCreate, session: WriteSession, principal: CurrentPrincipal
) -> MemberPublic:
    return MemberPublic.model_validate(service.add_member(session, slug, data, principal=principal))


@router.get("/orgs/{slug}/keys")
def list_keys(slug: str, session: ReadSession, principal: CurrentPrincipal) -> list[KeyPublic]:
    return [KeyPublic.model_validate(k) for k in service.list_keys(session, slug, principal=principal)]


@router.post("/orgs/{slug}/keys", status_code=status.HTTP_201_CREATED)
def create_key(slug: str, data: KeyCreate, session: WriteSession, principal: CurrentPrincipal) -> KeyCreated:
    """Issue a key; the secret is in the response once and never again."""
    key, secret = service.create_key(session, slug, data, principal=principal)
    return KeyCreated(**KeyPublic.model_validate(key).model_dump(), key=secret)


@router.delete("/orgs/{slug}/keys/{key_id}")
def revoke_key(slug: str, key_id: str, session: WriteSession, principal: CurrentPrincipal) -> KeyPublic:
    return KeyPublic.model_validate(service.revoke_key(session, slug, key_id, principal=principal))
