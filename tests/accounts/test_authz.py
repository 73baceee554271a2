"""The one permission check: visibility and ownership, operator actions, scopes and roles, in that order."""

from __future__ import annotations

import pytest

from valuechain.accounts.authz import (
    RULES,
    Action,
    Resource,
    authorize,
    is_allowed,
    key_reaches_offer,
    not_found,
)
from valuechain.accounts.principal import Principal, system_principal
from valuechain.accounts.roles import ROLE_SCOPES, Role, Scope
from valuechain.core.errors import ForbiddenError, NotFoundError


def key(
    role: Role = Role.owner, *, org: str = "org_a", scopes: set[Scope] | None = None, **kw: object
) -> Principal:
    """A key of ``org`` with ``role`` and (by default) every scope the role allows."""
    granted = ROLE_SCOPES[role] if scopes is None else frozenset(scopes)
    return Principal(org, org.removeprefix("org_"), "key_x", None, role, frozenset(granted), **kw)  # type: ignore[arg-type]


CUSTOMER = frozenset({"off_wl"})  # a white-label reseller's customer key (issue 11)


PRIVATE = Resource("model", "a/private", "org_a")
PUBLIC = Resource("model", "a/open", "org_a", is_visible=True)
PLATFORM = Resource("audit log", "all", None)


def test_every_action_has_a_rule() -> None:
    assert set(RULES) == set(Action)


@pytest.mark.parametrize(
    ("principal", "action", "resource", "error", "message"),
    [
        # Owner of the record: allowed (role and scopes permitting).
        (key(), Action.model_write, PRIVATE, None, ""),
        (key(Role.viewer), Action.model_read, PRIVATE, None, ""),
        (key(Role.member), Action.model_write, None, None, ""),
        # A record the caller may not see answers as a missing one, whatever the action or the key.
        (key(org="org_b"), Action.model_read, PRIVATE, NotFoundError, "model `a/private` not found"),
        (key(org="org_b"), Action.model_write, PRIVATE, NotFoundError, "model `a/private` not found"),
        (
            key(Role.viewer, org="org_b", scopes=set()),
            Action.model_write,
            PRIVATE,
            NotFoundError,
            "not found",
        ),
        # A visible record of another organisation: readable, not writable.
        (key(org="org_b"), Action.model_read, PUBLIC, None, ""),
        (key(org="org_b"), Action.model_write, PUBLIC, ForbiddenError, "belongs to another organisation"),
        # Scopes: the key's scopes, whatever its role.
        (key(scopes={Scope.inference}), Action.model_read, PRIVATE, ForbiddenError, "`registry:read`"),
        (key(scopes={Scope.registry_read}), Action.offer_write, PRIVATE, ForbiddenError, "`registry:write`"),
        (key(scopes={Scope.registry_read}), Action.terms_write, PRIVATE, ForbiddenError, "`registry:write`"),
        (key(scopes={Scope.inference}), Action.oversight_manage, None, ForbiddenError, "`org:manage`"),
        (key(scopes={Scope.registry_read}), Action.repo_read, None, ForbiddenError, "`hub:read`"),
        # A scope the key holds but its role does not allow is not enough (defence in depth).
        (key(Role.viewer, scopes={Scope.registry_write}), Action.model_write, None, ForbiddenError, "scope"),
        # Roles.
        (key(Role.viewer), Action.model_write, PRIVATE, ForbiddenError, "`registry:write`"),
        (key(Role.member), Action.key_manage, None, ForbiddenError, "`keys:manage`"),
        (
            key(Role.member, scopes={Scope.registry_read}),
            Action.audit_read,
            None,
            ForbiddenError,
            "audit:read",
        ),
        # Operator-only actions, and operators acting on any organisation's records.
        (key(), Action.org_create, None, ForbiddenError, "platform operator"),
        (key(), Action.audit_verify, PLATFORM, ForbiddenError, "platform operator"),
        (key(), Action.chain_import, None, ForbiddenError, "platform operator"),
        (key(is_operator=True), Action.org_create, None, None, ""),
        (key(org="org_ops", is_operator=True), Action.model_write, PRIVATE, None, ""),
        (system_principal(), Action.chain_import, None, None, ""),
        # A platform-wide record (no owner) is governed by role and scope alone.
        (key(Role.admin), Action.audit_read, PLATFORM, None, ""),
        # A key restricted to offers calls them and does nothing else, whatever its role and scopes.
        (key(offer_ids=CUSTOMER), Action.inference, None, None, ""),
        (key(offer_ids=CUSTOMER), Action.model_read, PRIVATE, ForbiddenError, "issued for offer off_wl only"),
        (key(offer_ids=CUSTOMER), Action.repo_read, None, ForbiddenError, "issued for offer off_wl only"),
        (key(offer_ids=CUSTOMER), Action.finetune_write, None, ForbiddenError, "issued for"),
        (key(offer_ids=CUSTOMER), Action.entitlement_request, None, ForbiddenError, "issued for"),
        (key(offer_ids=CUSTOMER, org="org_b"), Action.model_read, PRIVATE, NotFoundError, "not found"),
    ],
)
def test_authorize(
    principal: Principal,
    action: Action,
    resource: Resource | None,
    error: type[Exception] | None,
    message: str,
) -> None:
    if error is None:
        authorize(principal, action, resource)
        assert is_allowed(principal, action, resource)
        return
    with pytest.raises(error) as raised:
        authorize(principal, action, resource)
    assert message in str(raised.value)
    assert not is_allowed(principal, action, resource)


def test_hidden_and_missing_answer_alike() -> None:
    """The not-found of a hidden record is the not-found of a missing one: same type, same words."""
    with pytest.raises(NotFoundError) as hidden:
        authorize(key(org="org_b"), Action.model_write, PRIVATE)
    missing = not_found("model", "a/private")
    assert (type(hidden.value), hidden.value.message) == (type(missing), missing.message)


def test_visibility_is_decided_before_scopes() -> None:
    """A key without the scope learns nothing about another organisation's hidden record either."""
    bare = key(Role.viewer, org="org_b", scopes=set())
    with pytest.raises(NotFoundError):
        authorize(bare, Action.model_read, PRIVATE)
    with pytest.raises(ForbiddenError):
        authorize(bare, Action.model_read, PUBLIC)


def test_every_rule_is_satisfiable_by_some_role() -> None:
    """No rule asks for a scope that the role it requires can never hold."""
    for action, rule in RULES.items():
        roles = [r for r in Role if rule.scope in ROLE_SCOPES[r]]
        assert roles, action
        principal = key(max(roles, key=list(Role).index), is_operator=rule.operator_only)
        authorize(principal, action)


def test_a_key_needs_the_scope_in_its_grant_and_in_its_role() -> None:
    """``Principal.can``: the key's own scopes and its role's both must hold the scope."""
    assert not key(Role.viewer, scopes={Scope.registry_write}).can(Scope.registry_write)  # role lacks it
    assert not key(Role.owner, scopes={Scope.inference}).can(Scope.registry_read)  # grant lacks it
    assert key(Role.owner, scopes={Scope.registry_read}).can(Scope.registry_read)
    with pytest.raises(ForbiddenError):
        authorize(key(Role.viewer, scopes={Scope.registry_write}), Action.model_write)


def test_the_refusals_say_what_is_missing() -> None:
    """The messages a caller reads, word for word."""
    cases = [
        (key(), Action.org_create, None, "only a platform operator may do this"),
        (key(scopes={Scope.inference}), Action.model_read, None, "this key lacks the scope `registry:read`"),
        (
            key(Role.member),
            Action.claim_answer,
            None,
            "requires role admin or higher; this key has member",
        ),
        (key(org="org_b"), Action.model_write, PUBLIC, "model `a/open` belongs to another organisation"),
    ]
    for principal, action, resource, message in cases:
        with pytest.raises(ForbiddenError) as raised:
            authorize(principal, action, resource)
        assert raised.value.message == message


def test_a_role_at_the_minimum_is_enough() -> None:
    authorize(key(Role.admin), Action.claim_answer)
    authorize(key(Role.member), Action.model_write, PRIVATE)


def test_an_operator_writes_any_record_and_a_platform_record_is_nobody_elses() -> None:
    """Operators, and records of no organisation, pass the ownership check even when hidden."""
    authorize(key(org="org_ops", is_operator=True), Action.model_write, PRIVATE)
    authorize(key(Role.admin, org="org_b"), Action.audit_read, PLATFORM)
    authorize(key(Role.member, org="org_b"), Action.model_write, Resource("model", "x", None))


def test_a_restricted_key_reaches_only_its_offers() -> None:
    assert key_reaches_offer(key(offer_ids=CUSTOMER), "off_wl")
    assert not key_reaches_offer(key(offer_ids=CUSTOMER), "off_other")
    assert not key_reaches_offer(key(offer_ids=frozenset()), "off_wl")
    assert key_reaches_offer(key(), "off_other")  # an ordinary key: the market decides
