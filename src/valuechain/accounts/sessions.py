"""Console users and sign-in: argon2id passwords, server-side sessions, the session's playground key.

A session id is 256 random bits handed to the browser once (the cookie); only its SHA-256 is stored, so a
read of the table cannot be replayed as a login. Signing in issues a new id (no fixation), signing out
deletes the row, and rows expire. The CSRF token of a session is an HMAC of its id: it needs no storage
and changes with the session. The playground calls ``/v1``'s serving path with a real API key of the
session's organisation (metered and limited like any key): the key's secret is sealed with AES-GCM under a
key derived from the session id, so only a request carrying the cookie can open it, and the key is revoked
when the session ends.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from valuechain.accounts import events
from valuechain.accounts.authz import Action, authorize, not_found
from valuechain.accounts.models import ApiKey, Membership, Organization, User, UserSession
from valuechain.accounts.principal import Principal
from valuechain.accounts.roles import ROLE_RANK, ROLE_SCOPES, Role, Scope
from valuechain.accounts.service import issue_key, org_resource
from valuechain.core.audit import record_event
from valuechain.core.clock import utcnow
from valuechain.core.errors import AuthenticationError, ForbiddenError, ValidationError
from valuechain.core.ids import new_id
from valuechain.core.security import hash_secret

SESSION_TTL = timedelta(hours=12)
MIN_PASSWORD = 12
PLAYGROUND_KEY_NAME = "console playground"
_HASHER = PasswordHasher()  # argon2id with the library's RFC 9106 "low memory" profile
# A hash verified when the e-mail is unknown, so a wrong address costs as long as a wrong password.
_DUMMY_HASH = _HASHER.hash("valuechain-timing-equaliser")


@dataclass(frozen=True, slots=True)
class OrgChoice:
    """An organisation the signed-in user belongs to, with the user's role there."""

    slug: str
    name: str
    role: Role


@dataclass(frozen=True, slots=True)
class ConsoleSession:
    """A live console session: who signed in, for which organisation, and what else they may switch to."""

    principal: Principal
    email: str
    orgs: tuple[OrgChoice, ...]
    expires_at: datetime
    csrf_token: str


def hash_password(password: str) -> str:
    """The argon2id PHC string of a password."""
    if len(password) < MIN_PASSWORD:
        raise ValidationError(f"a console password needs at least {MIN_PASSWORD} characters")
    return _HASHER.hash(password)


def new_password() -> str:
    """A random password to hand to a new user (the demo prints one per organisation)."""
    return secrets.token_urlsafe(15)


def set_user(
    session: Session, email: str, org_slug: str, *, role: Role, password: str, principal: Principal
) -> str:
    """Create the user (or update it) with a password and a membership of ``org_slug``; returns its id.

    The caller must manage the organisation's members (the CLI acts as the operator); the password is
    stored only as its argon2id hash and the audit log records that it was set, never what it is.
    """
    org = session.scalar(select(Organization).where(Organization.slug == org_slug))
    if org is None:
        raise not_found("organisation", org_slug)
    authorize(principal, Action.member_manage, org_resource(org))
    if ROLE_RANK[role] > ROLE_RANK[principal.role]:
        raise ForbiddenError(f"cannot grant role {role.value} above your own ({principal.role.value})")
    email = email.strip().lower()
    user = session.scalar(select(User).where(User.email == email))
    if user is None:
        user = User(id=new_id("usr"), email=email, name="", created_at=utcnow())
        session.add(user)
        session.flush()
    user.password_hash = hash_password(password)
    membership = session.scalar(
        select(Membership).where(Membership.user_id == user.id, Membership.org_id == org.id)
    )
    if membership is None:
        session.add(
            Membership(id=new_id("mem"), user_id=user.id, org_id=org.id, role=role.value, created_at=utcnow())
        )
        record_event(
            session,
            actor=principal.actor,
            org_id=org.id,
            action=events.member_add,
            subject_type="user",
            subject_id=user.id,
            after={"email": email, "role": role.value},
        )
    elif membership.role != role.value:
        membership.role = role.value
    record_event(
        session,
        actor=principal.actor,
        org_id=org.id,
        action=events.password_set,
        subject_type="user",
        subject_id=user.id,
        after={"email": email},
    )
    session.execute(delete(UserSession).where(UserSession.user_id == user.id))  # a new password ends them
    return user.id


def has_password(session: Session, email: str) -> bool:
    """Whether ``email`` can sign in to the console (the demo keeps passwords it set before)."""
    found = session.scalar(select(User.password_hash).where(User.email == email.strip().lower()))
    return found is not None


def sign_in(session: Session, email: str, password: str, *, now: datetime | None = None) -> str:
    """Check the password and open a session; returns the new opaque session id (the cookie value)."""
    now = now or utcnow()
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    stored = user.password_hash if user is not None else None
    try:
        _HASHER.verify(stored or _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        raise AuthenticationError("wrong e-mail or password") from None
    if user is None or stored is None:
        raise AuthenticationError("wrong e-mail or password")
    first = session.scalar(
        select(Membership.org_id)
        .where(Membership.user_id == user.id)
        .order_by(Membership.created_at, Membership.id)
        .limit(1)
    )
    if first is None:
        raise AuthenticationError("this user belongs to no organisation")
    if _HASHER.check_needs_rehash(stored):
        user.password_hash = _HASHER.hash(password)
    session.execute(delete(UserSession).where(UserSession.expires_at <= now))  # sweep expired rows
    session_id = secrets.token_urlsafe(32)
    session.add(
        UserSession(
            id_hash=hash_secret(session_id),
            user_id=user.id,
            org_id=first,
            created_at=now,
            expires_at=now + SESSION_TTL,
        )
    )
    return session_id


def resolve(session: Session, session_id: str, *, now: datetime | None = None) -> ConsoleSession | None:
    """The live session of a cookie value, or None (unknown, expired, or its membership is gone)."""
    now = now or utcnow()
    row = session.get(UserSession, hash_secret(session_id))
    if row is None or row.expires_at <= now:
        return None
    user = session.get(User, row.user_id)
    if user is None:
        return None
    memberships = session.execute(
        select(Organization.id, Organization.slug, Organization.name, Membership.role)
        .join(Membership, Membership.org_id == Organization.id)
        .where(Membership.user_id == user.id)
        .order_by(Organization.slug)
    ).all()
    current = next((m for m in memberships if m[0] == row.org_id), None)
    if current is None:
        return None
    role = Role(current[3])
    principal = Principal(
        org_id=current[0],
        org_slug=current[1],
        key_id=None,
        user_id=user.id,
        role=role,
        scopes=ROLE_SCOPES[role],
        is_operator=user.is_platform_operator,
    )
    orgs = tuple(OrgChoice(slug, name, Role(r)) for _, slug, name, r in memberships)
    return ConsoleSession(principal, user.email, orgs, row.expires_at, csrf_token(session_id))


def csrf_token(session_id: str) -> str:
    """The session's CSRF token (an HMAC of its id: nothing stored, new with every session)."""
    return hmac.new(session_id.encode(), b"valuechain-console-csrf", hashlib.sha256).hexdigest()


def switch_org(session: Session, session_id: str, org_slug: str) -> None:
    """Act for another organisation the user belongs to (any other slug: not found)."""
    row = session.get(UserSession, hash_secret(session_id))
    if row is None:
        raise AuthenticationError("not signed in")
    org_id = session.scalar(
        select(Organization.id)
        .join(Membership, Membership.org_id == Organization.id)
        .where(Membership.user_id == row.user_id, Organization.slug == org_slug)
    )
    if org_id is None:
        raise not_found("organisation", org_slug)
    _revoke_playground_key(session, row)
    row.org_id = org_id


def sign_out(session: Session, session_id: str) -> None:
    """Delete the session row and revoke its playground key."""
    row = session.get(UserSession, hash_secret(session_id))
    if row is None:
        return
    _revoke_playground_key(session, row)
    session.delete(row)


def _revoke_playground_key(session: Session, row: UserSession) -> None:
    if row.playground_key_id is not None:
        key = session.get(ApiKey, row.playground_key_id)
        if key is not None and key.revoked_at is None:
            key.revoked_at = utcnow()
    row.playground_key_id, row.playground_sealed = None, None


def playground_secret(session: Session, session_id: str, *, principal: Principal) -> str:
    """The secret of this session's playground key, issuing the key on first use.

    An inference-only key of the session's organisation, expiring with the session, audited like any
    other key (``key.create``); its secret is kept only sealed under the session id.
    """
    authorize(principal, Action.inference)
    row = session.get(UserSession, hash_secret(session_id))
    if row is None:
        raise AuthenticationError("not signed in")
    if row.playground_sealed is not None and row.playground_key_id is not None:
        key = session.get(ApiKey, row.playground_key_id)
        if key is not None and key.revoked_at is None:
            return _open(session_id, row.playground_sealed)
    role = principal.role if ROLE_RANK[principal.role] <= ROLE_RANK[Role.member] else Role.member
    key, secret = issue_key(
        session,
        principal=principal,
        org_id=principal.org_id,
        user_id=principal.user_id,
        name=PLAYGROUND_KEY_NAME,
        role=role,
        scopes=[Scope.inference.value],
        expires_at=row.expires_at,
    )
    row.playground_key_id, row.playground_sealed = key.id, _seal(session_id, secret)
    return secret


def _cipher_key(session_id: str) -> bytes:
    return hashlib.sha256(b"valuechain-playground-key:" + session_id.encode()).digest()


def _seal(session_id: str, secret: str) -> str:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce = secrets.token_bytes(12)
    sealed = AESGCM(_cipher_key(session_id)).encrypt(nonce, secret.encode(), None)
    return base64.b64encode(nonce + sealed).decode()


def _open(session_id: str, sealed: str) -> str:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    raw = base64.b64decode(sealed)
    return AESGCM(_cipher_key(session_id)).decrypt(raw[:12], raw[12:], None).decode()
