"""Audit event types of the accounts domain: organisations, members and API keys."""

from __future__ import annotations

from datetime import datetime

from valuechain.core.events import EventType, Payload, declare


class OrgPayload(Payload):
    """An organisation's profile (never its members or keys)."""

    name: str
    country: str
    is_sme: bool
    is_microenterprise: bool


class MemberPayload(Payload):
    email: str
    role: str


class KeyPayload(Payload):
    """What the audit log keeps of a key: never the secret or its hash."""

    name: str
    prefix: str
    role: str
    scopes: list[str]
    expires_at: datetime | None
    revoked_at: datetime | None
    offers: list[str] | None = None  # issue 11: the offers a reseller's customer key is restricted to


org_create = EventType("org.create", "org", "An organisation was created.", OrgPayload)
org_update = EventType("org.update", "org", "An organisation's profile changed.", OrgPayload)
member_add = EventType("member.add", "user", "A user was added to an organisation.", MemberPayload)


class PasswordPayload(Payload):
    """Whose console password was set (never the password or its hash)."""

    email: str


password_set = EventType("user.password", "user", "A user's console password was set.", PasswordPayload)
key_create = EventType("key.create", "key", "An API key was issued.", KeyPayload)
key_revoke = EventType("key.revoke", "key", "An API key was revoked.", KeyPayload)

declare("accounts", org_create, org_update, member_add, password_set, key_create, key_revoke)
