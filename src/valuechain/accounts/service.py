"""Use cases of the accounts domain: organisations, members, API keys, authentication."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import insert, or_, select, update
from sqlalchemy.orm import Session

from valuechain.accounts import directory, events
from valuechain.accounts.authz import Action, Resource, authorize, not_found
from valuechain.accounts.models import ApiKey, Membership, Organization, User
from valuechain.accounts.principal import Principal
from valuechain.accounts.roles import ROLE_RANK, ROLE_SCOPES, Role, Scope
from valuechain.accounts.schemas import KeyCreate, MemberCreate, OrgCreate, OrgUpdate
from valuechain.core.audit import Change, jsonable, record_changes, record_event
from valuechain.core.clock import utcnow
from valuechain.core.errors import (
    AuthenticationError,
    ConflictError,
    ForbiddenError,
    ValidationError,
)
from valuechain.core.ids import new_id
from valuechain.core.security import generate_secret, hash_secret, looks_like_secret

LAST_USED_GRANULARITY = timedelta(seconds=60)


@dataclass(frozen=True, slots=True)
class Member:
    """A user's membership of one organisation, as the service hands it to routes and the CLI."""

    user_id: str
    email: str
    name: str
    role: Role


def org_resource(org: Organization) -> Resource:
    """An organisation as the permission check sees it: its own members only."""
    return Resource("organisation", org.slug, owner_org_id=org.id)


def org_snapshot(org: Organization) -> dict[str, object]:
    return {
        "slug": org.slug,
        "name": org.name,
        "country": org.country,
        "is_sme": org.is_sme,
        "is_microenterprise": org.is_microenterprise,
    }


def key_snapshot(key: ApiKey) -> dict[str, object]:
    """What the audit log keeps of a key: never the secret or its hash."""
    return {
        "name": key.name,
        "prefix": key.prefix,
        "role": key.role,
        "scopes": key.scopes,
        "offers": key.offer_ids,
        "expires_at": key.expires_at,
        "revoked_at": key.revoked_at,
    }


def create_org(session: Session, data: OrgCreate, *, principal: Principal) -> Organization:
    """Create an organisation (platform operators only)."""
    authorize(principal, Action.org_create)
    if data.is_microenterprise and not data.is_sme:
        raise ValidationError("a microenterprise is an SME: set is_sme too")
    if session.scalar(select(Organization.id).where(Organization.slug == data.slug)):
        raise ConflictError(f"organisation `{data.slug}` already exists")
    org = Organization(id=new_id("org"), created_at=utcnow(), **data.model_dump())
    session.add(org)
    session.flush()
    record_event(
        session,
        actor=principal.actor,
        org_id=org.id,
        action=events.org_create,
        subject_type="org",
        subject_id=org.id,
        after=org_snapshot(org),
    )
    return org


def get_org(session: Session, slug: str, *, principal: Principal) -> Organization:
    """An organisation the caller belongs to (operators see all); others are 'not found'."""
    return _org(session, slug, principal, Action.org_read)


def _org(session: Session, slug: str, principal: Principal, action: Action) -> Organization:
    org = session.scalar(select(Organization).where(Organization.slug == slug))
    if org is None:
        raise not_found("organisation", slug)
    authorize(principal, action, org_resource(org))
    return org


def list_orgs(session: Session, *, principal: Principal) -> list[Organization]:
    authorize(principal, Action.org_read)
    query = select(Organization).order_by(Organization.slug)
    if not principal.is_operator:
        query = query.where(Organization.id == principal.org_id)
    return list(session.scalars(query))


def update_org(session: Session, slug: str, data: OrgUpdate, *, principal: Principal) -> Organization:
    org = _org(session, slug, principal, Action.org_update)
    before = org_snapshot(org)
    for field, value in data.model_dump(exclude_unset=True).items():
        setattr(org, field, value)
    if org.is_microenterprise and not org.is_sme:
        raise ValidationError("a microenterprise is an SME: set is_sme too")
    record_event(
        session,
        actor=principal.actor,
        org_id=org.id,
        action=events.org_update,
        subject_type="org",
        subject_id=org.id,
        before=before,
        after=org_snapshot(org),
    )
    return org


def add_member(session: Session, slug: str, data: MemberCreate, *, principal: Principal) -> Member:
    """Add a user (created on first use) to an organisation with a role.

    The answer echoes what the caller sent: whether the e-mail already had an account elsewhere (and
    under which name) is another organisation's business (issue 9, no oracles).
    """
    org = _org(session, slug, principal, Action.member_manage)
    _check_grantable(principal, data.role)
    user = session.scalar(select(User).where(User.email == data.email))
    if user is None:
        user = User(id=new_id("usr"), email=data.email, name=data.name, created_at=utcnow())
        session.add(user)
        session.flush()
    if session.scalar(
        select(Membership.id).where(Membership.user_id == user.id, Membership.org_id == org.id)
    ):
        raise ConflictError(f"{data.email} is already a member of `{slug}`")
    session.add(
        Membership(id=new_id("mem"), user_id=user.id, org_id=org.id, role=data.role, created_at=utcnow())
    )
    record_event(
        session,
        actor=principal.actor,
        org_id=org.id,
        action=events.member_add,
        subject_type="user",
        subject_id=user.id,
        after={"email": user.email, "role": data.role.value},
    )
    return Member(user_id=user.id, email=data.email, name=data.name, role=data.role)


def list_members(session: Session, slug: str, *, principal: Principal) -> list[Member]:
    org = _org(session, slug, principal, Action.member_read)
    rows = session.execute(
        select(User, Membership)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.org_id == org.id)
        .order_by(Membership.created_at, Membership.id)
    )
    return [Member(user_id=u.id, email=u.email, name=u.name, role=Role(m.role)) for u, m in rows]


def _check_grantable(principal: Principal, role: Role) -> None:
    if ROLE_RANK[role] > ROLE_RANK[principal.role]:
        raise ForbiddenError(f"cannot grant role {role.value} above your own ({principal.role.value})")


def create_key(
    session: Session,
    slug: str,
    data: KeyCreate,
    *,
    principal: Principal,
    is_operator: bool = False,
    offer_ids: list[str] | None = None,
) -> tuple[ApiKey, str]:
    """Issue an API key; returns the record and the secret, which is never stored.

    ``offer_ids`` restricts the key to calling those offers on /v1 and nothing else (issue 11: a
    white-label reseller's customer key); the caller has checked that the organisation may use them.
    """
    org = _org(session, slug, principal, Action.key_manage)
    _check_grantable(principal, data.role)
    if is_operator:
        authorize(principal, Action.operator_key_create)
    allowed = ROLE_SCOPES[data.role]
    scopes = set(data.scopes) if data.scopes is not None else set(allowed)
    if not scopes <= allowed:
        extra = ", ".join(sorted(s.value for s in scopes - allowed))
        raise ValidationError(f"role {data.role.value} does not allow the scopes: {extra}")
    if data.expires_at is not None and data.expires_at <= utcnow():
        raise ValidationError("expires_at is in the past")
    return issue_key(
        session,
        principal=principal,
        org_id=org.id,
        user_id=principal.user_id if principal.user_id != "cli" else None,
        name=data.name,
        role=data.role,
        scopes=sorted(s.value for s in scopes),
        is_operator=is_operator,
        expires_at=data.expires_at,
        offer_ids=offer_ids,
    )


def issue_key(
    session: Session,
    *,
    principal: Principal,
    org_id: str,
    user_id: str | None,
    name: str,
    role: Role,
    scopes: list[str],
    is_operator: bool = False,
    expires_at: datetime | None = None,
    offer_ids: list[str] | None = None,
) -> tuple[ApiKey, str]:
    """Write a key whose issue the caller has authorized, audited as ``key.create``; the secret is returned,
    only its hash stored. The one place a key row is made (``create_key``, the console's playground key)."""
    prefix, secret = generate_secret()
    key = ApiKey(
        id=new_id("key"),
        org_id=org_id,
        user_id=user_id,
        name=name,
        prefix=prefix,
        secret_hash=hash_secret(secret),
        role=role.value,
        scopes=scopes,
        is_operator=is_operator,
        created_at=utcnow(),
        expires_at=expires_at,
        offer_ids=sorted(offer_ids) if offer_ids is not None else None,
    )
    session.add(key)
    session.flush()
    record_event(
        session,
        actor=principal.actor,
        org_id=org_id,
        action=events.key_create,
        subject_type="key",
        subject_id=key.id,
        after=key_snapshot(key),
    )
    return key, secret


def list_keys(session: Session, slug: str, *, principal: Principal) -> list[ApiKey]:
    org = _org(session, slug, principal, Action.key_read)
    return list(session.scalars(select(ApiKey).where(ApiKey.org_id == org.id).order_by(ApiKey.created_at)))


def revoke_key(
    session: Session, slug: str, key_id: str, *, principal: Principal, reason: str | None = None
) -> ApiKey:
    """Revoke a key of the organisation named by its id or its prefix (another org's key: not found)."""
    org = _org(session, slug, principal, Action.key_manage)
    key = session.scalar(
        select(ApiKey).where(or_(ApiKey.id == key_id, ApiKey.prefix == key_id), ApiKey.org_id == org.id)
    )
    if key is None:
        raise not_found("key", key_id)
    if key.revoked_at is not None:
        return key
    before = key_snapshot(key)
    key.revoked_at = utcnow()
    record_event(
        session,
        actor=principal.actor,
        org_id=org.id,
        action=events.key_revoke,
        subject_type="key",
        subject_id=key.id,
        before=before,
        after=key_snapshot(key),
        reason=reason,
    )
    return key


def authenticate(session: Session, secret: str, *, now: datetime | None = None) -> Principal:
    """Resolve a bearer secret to a Principal, or raise AuthenticationError (never echoing it)."""
    if not looks_like_secret(secret):
        raise AuthenticationError("invalid API key")
    now = now or utcnow()
    row = session.execute(
        select(ApiKey, Organization.slug)
        .join(Organization, Organization.id == ApiKey.org_id)
        .where(ApiKey.secret_hash == hash_secret(secret))
    ).first()
    if row is None:
        raise AuthenticationError("invalid API key")
    key, org_slug = row
    if key.revoked_at is not None:
        raise AuthenticationError(f"API key {key.prefix} has been revoked")
    if key.expires_at is not None and key.expires_at <= now:
        raise AuthenticationError(f"API key {key.prefix} has expired")
    return Principal(
        org_id=key.org_id,
        org_slug=org_slug,
        key_id=key.id,
        user_id=key.user_id,
        role=Role(key.role),
        scopes=frozenset(Scope(s) for s in key.scopes),
        is_operator=key.is_operator,
        offer_ids=frozenset(key.offer_ids) if key.offer_ids is not None else None,
    )


def key_use_is_stale(session: Session, key_id: str, *, now: datetime | None = None) -> bool:
    """Whether last use is older than the granularity (the key row is usually in the identity map)."""
    key = session.get(ApiKey, key_id)
    now = now or utcnow()
    return key is not None and (key.last_used_at is None or now - key.last_used_at >= LAST_USED_GRANULARITY)


def touch_key(session: Session, key_id: str, *, now: datetime | None = None) -> None:
    """Record last use, at most once a minute per key (keeps the read path free of writes)."""
    now = now or utcnow()
    key = session.get(ApiKey, key_id)
    if key is not None and (key.last_used_at is None or now - key.last_used_at >= LAST_USED_GRANULARITY):
        key.last_used_at = now


def display_names(
    session: Session, *, org_ids: Iterable[str] = (), key_ids: Iterable[str] = ()
) -> dict[str, str]:
    """How a person reads ids in reports: organisation id → slug, key id → ``name (prefix)``."""
    org_ids, key_ids = set(org_ids), set(key_ids)
    names: dict[str, str] = {}
    names.update(directory.slugs_for_ids(session, org_ids))
    if key_ids:
        keys = session.execute(select(ApiKey.id, ApiKey.name, ApiKey.prefix).where(ApiKey.id.in_(key_ids)))
        names.update({key_id: f"{name} ({prefix})" for key_id, name, prefix in keys})
    return names


@dataclass(frozen=True, slots=True)
class OrgProfile:
    """An organisation as a chain manifest declares it (its slug and public profile)."""

    slug: str
    name: str
    country: str
    is_sme: bool
    is_microenterprise: bool


@dataclass(frozen=True, slots=True)
class OrgImport:
    """What :func:`import_orgs` did: every organisation's id by slug, and how many it created or changed."""

    ids: dict[str, str]
    created: int
    updated: int
    unchanged: int


_PROFILE_FIELDS = ("name", "country", "is_sme", "is_microenterprise")


def import_orgs(
    session: Session, profiles: Iterable[OrgProfile], *, principal: Principal, at: datetime
) -> OrgImport:
    """Create or update organisations in bulk (a chain manifest's actors), auditing each change.

    Operators only (it names every organisation); two statements however many actors, and one audit
    append. Events keep the manifest's view: subject is the slug, payload the profile.
    """
    authorize(principal, Action.chain_import)
    existing = {
        row[0]: row
        for row in session.execute(
            select(
                Organization.slug,
                Organization.id,
                Organization.name,
                Organization.country,
                Organization.is_sme,
                Organization.is_microenterprise,
            )
        )
    }
    ids = {slug: row[1] for slug, row in existing.items()}
    new_rows: list[dict[str, object]] = []
    updates: list[dict[str, object]] = []
    changes: list[Change] = []
    unchanged = 0
    for profile in profiles:
        wanted = {f: getattr(profile, f) for f in _PROFILE_FIELDS}
        row = existing.get(profile.slug)
        if row is None:
            org_id = new_id("org")
            new_rows.append({"id": org_id, "slug": profile.slug, "created_at": at, **wanted})
            changes.append(
                Change(
                    principal.actor,
                    org_id,
                    "org.create",
                    "org",
                    profile.slug,
                    None,
                    jsonable(wanted),
                )
            )
        else:
            org_id = row[1]
            before = dict(zip(_PROFILE_FIELDS, row[2:], strict=True))
            if before != wanted:
                updates.append({"id": org_id, **wanted})
                changes.append(
                    Change(
                        principal.actor,
                        org_id,
                        "org.update",
                        "org",
                        profile.slug,
                        jsonable(before),
                        jsonable(wanted),
                    )
                )
            else:
                unchanged += 1
        ids[profile.slug] = org_id
    for start in range(0, len(new_rows), 5000):
        session.execute(insert(Organization), new_rows[start : start + 5000])
    if updates:
        session.execute(update(Organization), updates)
    record_changes(session, changes, at=at)
    return OrgImport(ids, len(new_rows), len(updates), unchanged)
