"""The authenticated caller: how it appears in the audit log, its scope and role checks, the CLI operator."""

from __future__ import annotations

import pytest

from valuechain.accounts.principal import Principal, system_principal
from valuechain.accounts.roles import ROLE_SCOPES, Role, Scope
from valuechain.core.errors import ForbiddenError


def key(role: Role = Role.member, scopes: set[Scope] | None = None) -> Principal:
    granted = ROLE_SCOPES[role] if scopes is None else frozenset(scopes)
    return Principal("org_a", "a", "key_1", None, role, frozenset(granted))


def test_the_actor_is_the_key_else_the_user() -> None:
    assert key().actor == "key:key_1"
    assert Principal("org_a", "a", None, "usr_1", Role.owner, frozenset()).actor == "user:usr_1"


def test_require_passes_a_held_scope_and_names_a_missing_one() -> None:
    key().require(Scope.registry_write)
    with pytest.raises(ForbiddenError) as raised:
        key(Role.viewer).require(Scope.registry_write)
    assert raised.value.message == "this key (role viewer) lacks the scope `registry:write`"
    with pytest.raises(ForbiddenError, match="lacks the scope `inference`"):
        key(scopes={Scope.registry_read}).require(Scope.inference)


@pytest.mark.parametrize(
    ("role", "needed", "allowed"),
    [
        (Role.member, Role.member, True),
        (Role.owner, Role.admin, True),
        (Role.member, Role.admin, False),
        (Role.viewer, Role.member, False),
    ],
)
def test_require_role_is_a_minimum(role: Role, needed: Role, allowed: bool) -> None:
    if allowed:
        key(role).require_role(needed)
        return
    with pytest.raises(ForbiddenError) as raised:
        key(role).require_role(needed)
    assert raised.value.message == f"requires role {needed.value} or higher; this key has {role.value}"


def test_the_cli_operator_holds_every_scope_as_owner() -> None:
    assert system_principal() == Principal(
        org_id="",
        org_slug="",
        key_id=None,
        user_id="cli",
        role=Role.owner,
        scopes=frozenset(Scope),
        is_operator=True,
    )
    acting = system_principal(org_id="org_x", org_slug="x")
    assert (acting.org_id, acting.org_slug, acting.actor) == ("org_x", "x", "user:cli")
    assert all(acting.can(scope) for scope in Scope)
