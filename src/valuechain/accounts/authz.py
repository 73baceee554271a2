"""The one permission check: may this principal do this action to that resource?

Every service entry point calls :func:`authorize` once, after loading the record it acts on (or before a
create, with no resource). The decision combines, in this order:

1. visibility and ownership — a record the caller may not see answers exactly like a missing one
   (``NotFoundError`` with the same message), so a write never reveals that something exists;
2. the operator flag for platform-wide actions;
3. the key's role and scopes (``ForbiddenError`` naming what is missing); a key restricted to some offers
   (issue 11: a white-label reseller's customer key) may only call them (:func:`key_reaches_offer`);
4. for writes to a visible record of another organisation, ``ForbiddenError``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from valuechain.accounts.principal import Principal
from valuechain.accounts.roles import ROLE_RANK, ROLE_SCOPES, Role, Scope
from valuechain.core.errors import ForbiddenError, NotFoundError


class Action(StrEnum):
    """Every act a principal can attempt, named ``<domain>.<noun>.<verb>``."""

    org_create = "accounts.org.create"
    org_read = "accounts.org.read"
    org_update = "accounts.org.update"
    member_read = "accounts.member.read"
    member_manage = "accounts.member.manage"
    key_read = "accounts.key.read"
    key_manage = "accounts.key.manage"
    audit_read = "audit.event.read"
    model_read = "registry.model.read"
    model_write = "registry.model.write"
    system_read = "registry.system.read"
    system_write = "registry.system.write"
    offer_read = "registry.offer.read"
    offer_write = "registry.offer.write"
    chain_import = "registry.chain.import"
    claim_answer = "registry.claim.answer"
    terms_write = "market.terms.write"
    entitlement_request = "market.entitlement.request"
    entitlement_manage = "market.entitlement.manage"
    entitlement_read = "market.entitlement.read"
    usage_read = "market.usage.read"
    oversight_read = "oversight.event.read"
    oversight_manage = "oversight.rule.manage"
    inference = "gateway.inference"
    repo_read = "hub.repo.read"
    repo_write = "hub.repo.write"
    repo_manage = "hub.repo.manage"
    compliance_read = "compliance.obligation.read"
    audit_verify = "audit.chain.verify"
    org_name = "accounts.org.name"
    operator_key_create = "accounts.key.create_operator"
    claim_read = "registry.claim.read"
    agreement_read = "registry.agreement.read"
    agreement_manage = "registry.agreement.manage"
    oversight_list = "oversight.event.list"
    metrics_read = "platform.metrics.read"
    finetune_read = "finetune.job.read"
    finetune_write = "finetune.job.write"
    credit_grant = "market.credit.grant"
    evidence_write = "compliance.evidence.write"
    incident_read = "compliance.incident.read"
    incident_write = "compliance.incident.write"
    complaint_read = "compliance.complaint.read"
    complaint_answer = "compliance.complaint.answer"
    inspector_grant = "compliance.inspector.grant"
    inspect = "compliance.inspect"
    evaluation_run = "compliance.evaluation.run"


@dataclass(frozen=True, slots=True)
class Rule:
    """What an action needs: a scope, a minimum role, and whether it changes the resource."""

    scope: Scope
    role: Role = Role.viewer
    writes: bool = False
    operator_only: bool = False


_R, _W = Scope.registry_read, Scope.registry_write

RULES: dict[Action, Rule] = {
    Action.org_create: Rule(Scope.org_manage, Role.admin, writes=True, operator_only=True),
    Action.org_read: Rule(_R),
    Action.org_update: Rule(Scope.org_manage, Role.admin, writes=True),
    Action.member_read: Rule(_R),
    Action.member_manage: Rule(Scope.org_manage, Role.admin, writes=True),
    Action.key_read: Rule(Scope.keys_manage, Role.admin),
    Action.key_manage: Rule(Scope.keys_manage, Role.admin, writes=True),
    Action.audit_read: Rule(Scope.audit_read, Role.admin),
    Action.model_read: Rule(_R),
    Action.model_write: Rule(_W, Role.member, writes=True),
    Action.system_read: Rule(_R),
    Action.system_write: Rule(_W, Role.member, writes=True),
    Action.offer_read: Rule(_R),
    Action.offer_write: Rule(_W, Role.member, writes=True),
    Action.chain_import: Rule(_W, Role.member, writes=True, operator_only=True),
    Action.claim_answer: Rule(_W, Role.admin, writes=True),
    Action.terms_write: Rule(_W, Role.admin, writes=True),
    Action.entitlement_request: Rule(Scope.inference, Role.member, writes=True),
    Action.entitlement_manage: Rule(_W, Role.admin, writes=True),
    Action.entitlement_read: Rule(_R),
    Action.usage_read: Rule(_R),
    Action.oversight_read: Rule(_R, Role.admin),
    Action.oversight_manage: Rule(Scope.org_manage, Role.admin, writes=True),
    Action.inference: Rule(Scope.inference),
    Action.repo_read: Rule(Scope.hub_read),
    Action.repo_write: Rule(Scope.hub_write, Role.member, writes=True),
    Action.repo_manage: Rule(Scope.hub_write, Role.admin, writes=True),
    Action.compliance_read: Rule(_R),
    Action.audit_verify: Rule(Scope.audit_read, Role.admin, operator_only=True),
    Action.org_name: Rule(_R),
    Action.operator_key_create: Rule(Scope.keys_manage, Role.admin, writes=True, operator_only=True),
    Action.claim_read: Rule(_R),
    Action.agreement_read: Rule(_R),
    Action.agreement_manage: Rule(_W, Role.admin, writes=True),
    Action.oversight_list: Rule(_R),  # asking for the list; its rows need oversight_read
    Action.metrics_read: Rule(Scope.audit_read, Role.admin, operator_only=True),
    # fine-tuning is a use of a model through the API channel: the inference scope (issue 12)
    Action.finetune_read: Rule(Scope.inference),
    Action.finetune_write: Rule(Scope.inference, Role.member, writes=True),
    Action.credit_grant: Rule(Scope.org_manage, Role.admin, writes=True, operator_only=True),
    Action.evidence_write: Rule(_W, Role.admin, writes=True),  # a sign-off: an admin answers for it
    Action.incident_read: Rule(_R),
    Action.incident_write: Rule(_W, Role.member, writes=True),
    Action.complaint_read: Rule(_R),
    Action.complaint_answer: Rule(_W, Role.member, writes=True),
    Action.inspector_grant: Rule(Scope.org_manage, Role.admin, writes=True, operator_only=True),
    Action.inspect: Rule(_R),  # and an active grant covering what is read (compliance.records)
    # an evaluation run calls the model like any use of it: the inference scope; the provider of the model
    # or an inspector with an active grant (compliance.service.run_evaluation)
    Action.evaluation_run: Rule(Scope.inference, Role.member, writes=True),
}


@dataclass(frozen=True, slots=True)
class Resource:
    """The record acted on, as far as the permission check needs it.

    ``owner_org_id`` None means the resource belongs to no organisation (a platform-wide list);
    ``is_visible`` says whether organisations other than the owner may see it (a public model).
    ``label`` is how the caller named it, used in the not-found message so that a hidden record and
    a missing one answer with the same words.
    """

    kind: str
    label: str
    owner_org_id: str | None
    is_visible: bool = False


def authorize(principal: Principal, action: Action, resource: Resource | None = None) -> None:
    """Raise ``NotFoundError`` or ``ForbiddenError`` unless ``principal`` may do ``action`` to it."""
    rule = RULES[action]
    is_owner = (
        resource is None
        or resource.owner_org_id is None
        or principal.is_operator
        or resource.owner_org_id == principal.org_id
    )
    if resource is not None and not is_owner and not resource.is_visible:
        raise not_found(resource.kind, resource.label)
    if rule.operator_only and not principal.is_operator:
        raise ForbiddenError("only a platform operator may do this")
    if principal.offer_ids is not None and action is not Action.inference:
        only = ", ".join(sorted(principal.offer_ids))
        raise ForbiddenError(
            f"this key was issued for offer {only} only: it may call it on /v1 and nothing else"
        )
    if rule.scope not in principal.scopes or rule.scope not in ROLE_SCOPES[principal.role]:
        raise ForbiddenError(f"this key lacks the scope `{rule.scope.value}`")
    if ROLE_RANK[principal.role] < ROLE_RANK[rule.role]:
        raise ForbiddenError(
            f"requires role {rule.role.value} or higher; this key has {principal.role.value}"
        )
    if rule.writes and not is_owner:
        assert resource is not None
        raise ForbiddenError(f"{resource.kind} `{resource.label}` belongs to another organisation")


def key_reaches_offer(principal: Principal, offer_id: str) -> bool:
    """Whether the key may call ``offer_id`` at all: a key restricted to some offers (a white-label
    reseller's customer key) reaches only those; any other is as invisible to it as a missing one. Whether
    the organisation is entitled is the market's question (``market.service.denial``)."""
    return principal.offer_ids is None or offer_id in principal.offer_ids


def not_found(kind: str, label: str) -> NotFoundError:
    """The one answer for a missing record and for one the caller may not see."""
    return NotFoundError(f"{kind} `{label}` not found")


def is_allowed(principal: Principal, action: Action, resource: Resource | None = None) -> bool:
    """The same decision as :func:`authorize`, as a predicate (for filtering lists)."""
    try:
        authorize(principal, action, resource)
    except (ForbiddenError, NotFoundError):
        return False
    return True
