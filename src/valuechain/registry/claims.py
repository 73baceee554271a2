"""Consent along the chain: claims that name another organisation, and owners' agreements to offer models.

Naming another organisation — releaser of a model, deployer of a system, supplier of a derivation's parent,
the organisation a derivation was made for, upstream of an offer of a model one does not own — records a
claim. Only the named organisation confirms or rejects it; until it confirms, the naming attaches nothing to
it (:func:`consent` tells the accountability engine what to leave out). Platform operators confirm on
everyone's behalf, audited. Offering a model one does not own needs the owner's agreement.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, or_, select, true, update
from sqlalchemy.orm import Session

from valuechain.accounts import directory
from valuechain.accounts.authz import Action, Resource, authorize, not_found
from valuechain.accounts.principal import Principal
from valuechain.core.audit import Change, record_changes, record_event
from valuechain.core.clock import utcnow
from valuechain.core.errors import ConflictError, ForbiddenError, ValidationError
from valuechain.core.ids import new_id
from valuechain.registry import events
from valuechain.registry.models import (
    Agreement,
    Claim,
    Derivation,
    Model,
    ModelVersion,
    Offer,
    System,
    SystemDeployer,
)
from valuechain.registry.schemas import (
    AgreementCreate,
    AgreementPublic,
    ClaimField,
    ClaimPublic,
    ClaimStatus,
)
from valuechain.registry.views import Names

ROLE_WORDS = {
    ClaimField.released_by: "releaser",
    ClaimField.deployer: "deployer",
    ClaimField.parent_supplier: "supplier of the parent model",
    ClaimField.on_behalf_of: "organisation it was made for",
    ClaimField.offer_upstream: "upstream supplier",
}
CONFIRMED_BY_OPERATOR = "confirmed by operator"
CONFIRMED_BY_OPERATOR_IMPORT = "confirmed by operator import"
_CHUNK = 5000


@dataclass(frozen=True, slots=True)
class Naming:
    """A record naming another organisation: the claim it needs."""

    field: ClaimField
    subject_kind: str
    subject_id: str
    subject_label: str
    claimant_org_id: str
    named_org_id: str

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.subject_kind, self.subject_id, self.field.value, self.named_org_id)


def note_text(*, field: ClaimField, subject: str, claimant: str, named: str, status: ClaimStatus) -> str:
    """What the obligations output says about a claim the named organisation has not confirmed."""
    said = f"{named} as {ROLE_WORDS[field]} of {subject}: claimed by {claimant}"
    if status is ClaimStatus.rejected:
        return f"{said}, rejected by {named}"
    if status is ClaimStatus.confirmed:
        return f"{said}, confirmed"
    return f"{said}, not confirmed"


# -- recording claims ---------------------------------------------------------------------------------------


def record_claims(
    session: Session,
    namings: Iterable[Naming],
    *,
    actor: str,
    confirm_reason: str | None = None,
    decided_by: str | None = None,
) -> int:
    """Create the claims these namings need (naming oneself needs none), one audit event each.

    With ``confirm_reason`` (an operator, or the owner's agreement) the claims are confirmed as well;
    a rejected claim is confirmed again only that way. Returns how many events were written.
    """
    wanted = {n.key: n for n in namings if n.named_org_id != n.claimant_org_id}
    written = 0
    items = list(wanted.values())
    for start in range(0, len(items), _CHUNK):
        written += _record_chunk(
            session, items[start : start + _CHUNK], actor, confirm_reason, decided_by or actor
        )
    return written


def _record_chunk(
    session: Session, namings: list[Naming], actor: str, confirm_reason: str | None, decided_by: str
) -> int:
    subject_ids = {n.subject_id for n in namings}
    existing = {
        (kind, subject, field, named): (claim_id, status)
        for claim_id, kind, subject, field, named, status in session.execute(
            select(
                Claim.id, Claim.subject_kind, Claim.subject_id, Claim.field, Claim.named_org_id, Claim.status
            ).where(Claim.subject_id.in_(subject_ids))
        )
    }
    now = utcnow()
    new_rows: list[dict[str, Any]] = []
    confirmations: list[dict[str, Any]] = []
    changes: list[Change] = []
    for naming in namings:
        found = existing.get(naming.key)
        if found is None:
            row = _new_row(naming, now, confirm_reason, decided_by)
            new_rows.append(row)
            # One event per claim: created confirmed for the named organisation, or pending by the claimant.
            if confirm_reason:
                changes.append(
                    Change(
                        actor, naming.named_org_id, "claim.confirm", "claim", row["id"],
                        None, _snapshot(row), confirm_reason,
                    )
                )  # fmt: skip
            else:
                changes.append(
                    Change(
                        actor,
                        naming.claimant_org_id,
                        "claim.create",
                        "claim",
                        row["id"],
                        None,
                        _snapshot(row),
                    )
                )
        elif confirm_reason and found[1] != ClaimStatus.confirmed:
            confirmations.append(
                {
                    "id": found[0],
                    "status": ClaimStatus.confirmed.value,
                    "decided_at": now,
                    "decided_by": decided_by,
                }
            )
            changes.append(
                Change(
                    actor, naming.named_org_id, "claim.confirm", "claim", found[0],
                    {"status": found[1]}, {"status": ClaimStatus.confirmed.value}, confirm_reason,
                )
            )  # fmt: skip
    if new_rows:
        session.execute(insert(Claim), new_rows)
    if confirmations:
        session.execute(update(Claim), confirmations)
    return record_changes(session, changes)


def _new_row(naming: Naming, now: Any, confirm_reason: str | None, decided_by: str) -> dict[str, Any]:
    return {
        "id": new_id("clm"),
        "subject_kind": naming.subject_kind,
        "subject_id": naming.subject_id,
        "subject_label": naming.subject_label[:600],
        "field": naming.field.value,
        "claimant_org_id": naming.claimant_org_id,
        "named_org_id": naming.named_org_id,
        "status": (ClaimStatus.confirmed if confirm_reason else ClaimStatus.pending).value,
        "created_at": now,
        "decided_at": now if confirm_reason else None,
        "decided_by": decided_by if confirm_reason else None,
    }


def _snapshot(row: dict[str, Any]) -> dict[str, Any]:
    keep = (
        "subject_kind",
        "subject_id",
        "subject_label",
        "field",
        "claimant_org_id",
        "named_org_id",
        "status",
    )
    return {k: row[k] for k in keep}


def name_party(
    session: Session, naming: Naming, *, principal: Principal, agreement: Agreement | None = None
) -> None:
    """Record the claim a write naming another organisation needs; operators and agreements confirm it."""
    if principal.is_operator:
        record_claims(session, [naming], actor=principal.actor, confirm_reason=CONFIRMED_BY_OPERATOR)
    elif agreement is not None:
        record_claims(
            session,
            [naming],
            actor=principal.actor,
            confirm_reason=f"covered by agreement {agreement.id}",
            decided_by=f"agreement:{agreement.id}",
        )
    else:
        record_claims(session, [naming], actor=principal.actor)


# -- reading and answering claims ---------------------------------------------------------------------------


def _claim_visible(principal: Principal) -> Any:
    """Both sides of a claim see it; nobody else does (operators see all)."""
    if principal.is_operator:
        return true()
    return or_(Claim.claimant_org_id == principal.org_id, Claim.named_org_id == principal.org_id)


def list_claims(
    session: Session,
    *,
    principal: Principal,
    direction: str | None = None,
    status: ClaimStatus | None = None,
) -> list[Claim]:
    """Claims naming the caller's organisation (``incoming``) or made by it (``outgoing``), or both."""
    authorize(principal, Action.claim_read)
    query = select(Claim).where(_claim_visible(principal)).order_by(Claim.created_at, Claim.id)
    if direction == "incoming":
        query = query.where(Claim.named_org_id == principal.org_id)
    elif direction == "outgoing":
        query = query.where(Claim.claimant_org_id == principal.org_id)
    elif direction is not None:
        raise ValidationError("direction must be incoming or outgoing")
    if status is not None:
        query = query.where(Claim.status == status.value)
    return list(session.scalars(query))


def get_claim(session: Session, claim_id: str, *, principal: Principal) -> Claim:
    authorize(principal, Action.claim_read)
    claim = session.scalar(select(Claim).where(Claim.id == claim_id, _claim_visible(principal)))
    if claim is None:
        raise not_found("claim", claim_id)
    return claim


def answer_claim(
    session: Session, claim_id: str, status: ClaimStatus, *, principal: Principal, reason: str | None = None
) -> Claim:
    """The named organisation (an admin) confirms or rejects a claim; an answer may be changed later."""
    if status is ClaimStatus.pending:
        raise ValidationError("a claim is answered with confirmed or rejected")
    claim = session.get(Claim, claim_id)
    if claim is None:
        raise not_found("claim", claim_id)
    is_claimant = claim.claimant_org_id == principal.org_id
    if is_claimant and not principal.is_operator and claim.named_org_id != principal.org_id:
        raise ForbiddenError("only the organisation named by a claim may confirm or reject it")
    label = claim_id
    authorize(
        principal, Action.claim_answer, Resource("claim", label, claim.named_org_id, is_visible=is_claimant)
    )
    if claim.status == status.value:
        return claim
    before = claim.status
    claim.status, claim.decided_at, claim.decided_by = status.value, utcnow(), principal.actor
    if reason is None and principal.is_operator and principal.org_id != claim.named_org_id:
        reason = CONFIRMED_BY_OPERATOR if status is ClaimStatus.confirmed else "rejected by operator"
    change: dict[str, Any] = {
        "actor": principal.actor,
        "org_id": claim.named_org_id,
        "subject_type": "claim",
        "subject_id": claim.id,
        "before": {"status": before},
        "after": {"status": claim.status},
        "reason": reason,
    }
    if status is ClaimStatus.confirmed:
        record_event(session, action=events.claim_confirm, **change)
    else:
        record_event(session, action=events.claim_reject, **change)
    return claim


def claim_public(claim: Claim, names: Names) -> ClaimPublic:
    claimant, named = names.org(claim.claimant_org_id) or "", names.org(claim.named_org_id) or ""
    field, status = ClaimField(claim.field), ClaimStatus(claim.status)
    return ClaimPublic(
        id=claim.id,
        subject_kind=claim.subject_kind,
        subject_id=claim.subject_id,
        subject=claim.subject_label,
        field=field,
        claimant=claimant,
        named=named,
        status=status,
        note=note_text(
            field=field, subject=claim.subject_label, claimant=claimant, named=named, status=status
        ),
        created_at=claim.created_at,
        decided_at=claim.decided_at,
        decided_by=claim.decided_by,
    )


# -- what counts: namings without the named organisation's confirmation --------------------------------------


@dataclass(frozen=True, slots=True)
class UnconfirmedNaming:
    """A naming in the registry that the named organisation has not confirmed (pending or rejected)."""

    field: ClaimField
    subject_id: str
    subject: str
    claimant: str
    named: str
    named_org_id: str
    status: ClaimStatus

    @property
    def note(self) -> str:
        return note_text(
            field=self.field,
            subject=self.subject,
            claimant=self.claimant,
            named=self.named,
            status=self.status,
        )


@dataclass(frozen=True, slots=True)
class Consent:
    """The namings that do not count (yet); ``export_manifest`` leaves them out for the engine."""

    unconfirmed: tuple[UnconfirmedNaming, ...] = ()
    _keys: frozenset[tuple[str, str, str | None]] = frozenset()

    @classmethod
    def of(cls, unconfirmed: list[UnconfirmedNaming]) -> Consent:
        keys = {(n.field.value, n.subject_id, n.named_org_id) for n in unconfirmed}
        keys |= {(n.field.value, n.subject_id, None) for n in unconfirmed}
        return cls(tuple(unconfirmed), frozenset(keys))

    def counts(self, field: ClaimField, subject_id: str, named_org_id: str | None = None) -> bool:
        """Whether ``subject_id`` naming ``named_org_id`` (None: anyone) as ``field`` stands."""
        return (field.value, subject_id, named_org_id) not in self._keys


def consent(session: Session) -> Consent:
    """Every naming of another organisation in the registry that the named one has not confirmed."""
    claims = {
        (field, subject, named): (status, label)
        for field, subject, named, status, label in session.execute(
            select(Claim.field, Claim.subject_id, Claim.named_org_id, Claim.status, Claim.subject_label)
        )
    }
    namings = list(_namings(session))
    orgs = directory.slugs_for_ids(session, {org for n in namings for org in n[2:]})
    out = []
    for field, subject_id, claimant, named in namings:
        status, label = claims.get((field.value, subject_id, named), (ClaimStatus.pending.value, subject_id))
        if status != ClaimStatus.confirmed:
            out.append(
                UnconfirmedNaming(
                    field,
                    subject_id,
                    label,
                    orgs.get(claimant, ""),
                    orgs.get(named, ""),
                    named,
                    ClaimStatus(status),
                )
            )
    return Consent.of(out)


def _namings(session: Session) -> Iterator[tuple[ClaimField, str, str, str]]:
    """(field, subject id, claimant, named) for every record that names another organisation."""
    parent_model = (
        select(Derivation.id, Derivation.by_org_id, Model.owner_org_id)
        .join(ModelVersion, ModelVersion.id == Derivation.parent_version_id)
        .join(Model, Model.id == ModelVersion.model_id)
        .where(Model.owner_org_id != Derivation.by_org_id)
    )
    offered = (
        select(Offer.id, Offer.by_org_id, Model.owner_org_id)
        .join(ModelVersion, ModelVersion.id == Offer.version_id)
        .join(Model, Model.id == ModelVersion.model_id)
        .where(Model.owner_org_id != Offer.by_org_id)
    )
    queries = (
        (
            ClaimField.released_by,
            select(Model.id, Model.owner_org_id, Model.released_by_org_id).where(
                Model.released_by_org_id.is_not(None), Model.released_by_org_id != Model.owner_org_id
            ),
        ),
        (
            ClaimField.deployer,
            select(SystemDeployer.system_id, System.provider_org_id, SystemDeployer.org_id)
            .join(System, System.id == SystemDeployer.system_id)
            .where(SystemDeployer.org_id != System.provider_org_id),
        ),
        (ClaimField.parent_supplier, parent_model),
        (
            ClaimField.on_behalf_of,
            select(Derivation.id, Derivation.by_org_id, Derivation.on_behalf_of_org_id).where(
                Derivation.on_behalf_of_org_id.is_not(None),
                Derivation.on_behalf_of_org_id != Derivation.by_org_id,
            ),
        ),
        (ClaimField.offer_upstream, offered),
    )
    for field, query in queries:
        for subject_id, claimant, named in session.execute(query):
            yield field, subject_id, claimant, named


# -- agreements: an owner lets another organisation offer its model(s) ---------------------------------------


def _agreement_visible(principal: Principal) -> Any:
    if principal.is_operator:
        return true()
    return or_(Agreement.owner_org_id == principal.org_id, Agreement.agent_org_id == principal.org_id)


def create_agreement(session: Session, data: AgreementCreate, *, principal: Principal) -> Agreement:
    """A model's owner lets an agent organisation offer it (or all its models) through some channels."""
    from valuechain.registry.service import get_model, named_org

    authorize(principal, Action.agreement_manage)
    owner_id, model_id = principal.org_id, None
    if data.model is not None:
        model = get_model(session, data.model, principal=principal)  # hidden answers as missing
        authorize(
            principal,
            Action.agreement_manage,
            Resource("model", data.model, model.owner_org_id, is_visible=True),
        )
        owner_id, model_id = model.owner_org_id, model.id
    if not owner_id:
        raise ValidationError("the platform operator gives agreements only for a named model (--model)")
    agent = named_org(session, data.agent, principal=principal)
    if agent.id == owner_id:
        raise ValidationError("an agreement is made with another organisation")
    agreement = Agreement(
        id=new_id("agr"),
        owner_org_id=owner_id,
        agent_org_id=agent.id,
        model_id=model_id,
        channels=sorted({c.value for c in data.channels}),
        created_at=utcnow(),
        created_by=principal.actor,
    )
    session.add(agreement)
    session.flush()
    record_event(
        session,
        actor=principal.actor,
        org_id=owner_id,
        action=events.agreement_create,
        subject_type="agreement",
        subject_id=agreement.id,
        after={"agent": data.agent, "model": data.model, "channels": agreement.channels},
    )
    return agreement


def list_agreements(session: Session, *, principal: Principal) -> list[Agreement]:
    """Agreements the caller's organisation gave (as owner) or holds (as agent)."""
    authorize(principal, Action.agreement_read)
    query = select(Agreement).where(_agreement_visible(principal))
    return list(session.scalars(query.order_by(Agreement.created_at, Agreement.id)))


def revoke_agreement(session: Session, agreement_id: str, *, principal: Principal) -> Agreement:
    """The owner ends an agreement: no new offers under it (existing offers keep their confirmed claims);
    the white-label offers made under a reseller agreement stop answering on /v1 (issue 11)."""
    agreement = session.get(Agreement, agreement_id)
    if agreement is None:
        raise not_found("agreement", agreement_id)
    resource = Resource(
        "agreement",
        agreement_id,
        agreement.owner_org_id,
        is_visible=agreement.agent_org_id == principal.org_id,
    )
    authorize(principal, Action.agreement_manage, resource)
    if agreement.revoked_at is not None:
        raise ConflictError(f"agreement `{agreement_id}` is already revoked")
    agreement.revoked_at, agreement.revoked_by = utcnow(), principal.actor
    record_event(
        session,
        actor=principal.actor,
        org_id=agreement.owner_org_id,
        action=events.agreement_revoke,
        subject_type="agreement",
        subject_id=agreement.id,
        before={"revoked": False},
        after={"revoked": True},
    )
    return agreement


def is_revoked(session: Session, agreement_id: str) -> bool:
    """Whether the owner has revoked this agreement (what was offered under it may not be sold anew)."""
    agreement = session.get(Agreement, agreement_id)
    return agreement is None or agreement.revoked_at is not None


def revocations(session: Session, agreement_ids: Iterable[str]) -> dict[str, datetime]:
    """When each of the revoked ones among ``agreement_ids`` was revoked (no authorisation: callers
    decide; the gateway stops the white-label offers made under them)."""
    ids = list(set(agreement_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(Agreement.id, Agreement.revoked_at).where(
            Agreement.id.in_(ids), Agreement.revoked_at.is_not(None)
        )
    )
    return {agreement_id: at for agreement_id, at in rows}


def offer_agreement(
    session: Session, model: Model, channel: str, *, principal: Principal
) -> Agreement | None:
    """The owner's agreement an offer of its model by another organisation needs (ForbiddenError if none).

    Owners need none; operators confirm on everyone's behalf (the offer's claim records that).
    """
    if model.owner_org_id == principal.org_id or principal.is_operator:
        return None
    candidates = session.scalars(
        select(Agreement)
        .where(
            Agreement.owner_org_id == model.owner_org_id,
            Agreement.agent_org_id == principal.org_id,
            Agreement.revoked_at.is_(None),
            or_(Agreement.model_id == model.id, Agreement.model_id.is_(None)),
        )
        .order_by(Agreement.created_at, Agreement.id)
    )
    agreement = next((a for a in candidates if channel in a.channels), None)
    if agreement is None:
        owner = directory.slugs_for_ids(session, [model.owner_org_id]).get(model.owner_org_id)
        raise ForbiddenError(
            f"offering `{model.slug}` needs an agreement from its owner {owner} allowing {channel} offers; "
            f"the owner creates one with `valuechain agreement create` or POST /api/v1/agreements"
        )
    return agreement


def agreement_public(agreement: Agreement, names: Names) -> AgreementPublic:
    model = None
    if agreement.model_id is not None:
        model = names.session.scalar(select(Model.slug).where(Model.id == agreement.model_id))
    return AgreementPublic(
        id=agreement.id,
        owner=names.org(agreement.owner_org_id) or "",
        agent=names.org(agreement.agent_org_id) or "",
        model=model,
        channels=agreement.channels,  # type: ignore[arg-type]
        created_at=agreement.created_at,
        created_by=agreement.created_by,
        revoked_at=agreement.revoked_at,
        revoked_by=agreement.revoked_by,
    )
