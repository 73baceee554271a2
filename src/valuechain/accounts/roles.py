"""Roles, scopes and what each role may do."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    viewer = "viewer"
    member = "member"
    admin = "admin"
    owner = "owner"


class Scope(StrEnum):
    registry_read = "registry:read"
    registry_write = "registry:write"
    keys_manage = "keys:manage"
    org_manage = "org:manage"
    audit_read = "audit:read"
    inference = "inference"
    hub_read = "hub:read"
    hub_write = "hub:write"


ROLE_RANK = {Role.viewer: 0, Role.member: 1, Role.admin: 2, Role.owner: 3}

_READ = {Scope.registry_read, Scope.hub_read}
_WRITE = _READ | {Scope.registry_write, Scope.inference, Scope.hub_write}
_ADMIN = _WRITE | {Scope.keys_manage, Scope.org_manage, Scope.audit_read}

ROLE_SCOPES: dict[Role, frozenset[Scope]] = {
    Role.viewer: frozenset(_READ | {Scope.inference}),
    Role.member: frozenset(_WRITE),
    Role.admin: frozenset(_ADMIN),
    Role.owner: frozenset(_ADMIN),
}
