"""Accountability records (issue 13): evidence that meets obligations, serious incidents, complaints.

The owner of ``compliance_evidence``, ``compliance_incidents`` and ``compliance_complaints``. An obligation
stays open until evidence meets it: a document whose fields are all filled, signed off by an admin of the
obligated organisation (who, when, sha256 of the exact document); an evaluation result; a published
summary; a notification sent. Evidence covers a fingerprint of the facts; when they change (a new version,
changed compute) it is stale and the obligation is open again.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import MISSING, asdict, dataclass, fields, replace
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from valuechain.accounts.authz import Action, Resource, authorize, not_found
from valuechain.accounts.principal import Principal
from valuechain.compliance import events, incidents
from valuechain.compliance.documentation import Document
from valuechain.compliance.evaluation import RunResult
from valuechain.compliance.facts import ChainFacts
from valuechain.compliance.models import (
    Complaint,
    DocumentationField,
    EvaluationRun,
    Evidence,
    Incident,
    InspectorGrant,
)
from valuechain.compliance.rendering import Approval, document_hash
from valuechain.compliance.results import EvidenceKey
from valuechain.core.audit import record_event
from valuechain.core.clock import utcnow
from valuechain.core.errors import QuotaExceededError, ValidationError
from valuechain.core.ids import new_id

EVIDENCE_KINDS = ("document", "evaluation", "summary", "notification")
COMPLAINTS_PER_HOUR = 5  # per client; a person needs one, a flood needs many


def _canonical(record: Any) -> dict[str, Any]:
    """A fact's recorded values, defaults left out: a field added to the facts later changes no
    fingerprint (only a changed fact does)."""
    out: dict[str, Any] = {}
    for f in fields(record):
        value = getattr(record, f.name)
        default = f.default_factory() if f.default_factory is not MISSING else f.default
        if value == default:
            continue
        out[f.name] = sorted(value) if isinstance(value, frozenset) else value
    return out


def fingerprint(facts: ChainFacts, subject: str, *, documentation: bool = True) -> str:
    """What evidence about ``subject`` covers: its facts and its lineage edges (changed → stale).

    Without ``documentation``, the recorded Annex XI/XII texts are left out: an evaluation is about the
    model (its version, compute and lineage), not about how it is documented."""
    parts: list[object] = []
    if subject in facts.models:
        model = facts.models[subject]
        parts.append(_canonical(model if documentation else replace(model, documentation=())))
        parts += sorted(
            (_canonical(d) for d in facts.derivations if d.child == subject),
            key=lambda d: json.dumps(d, default=str),
        )
    if subject in facts.systems:
        parts.append(_canonical(facts.systems[subject]))
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:32]


def document_sha256(doc: Document) -> str:
    """The hash of the exact document signed (its Markdown rendering)."""
    return document_hash(doc)


@dataclass(frozen=True, slots=True)
class SignOff:
    """The latest sign-off of a document kind: who, when, the sha256 signed and the document's date."""

    signed_by: str
    signed_at: str
    sha256: str
    as_of: date


def latest_sign_off(session: Session, *, actor: str, model: str, rule: str) -> SignOff | None:
    """The provider's latest sign-off of the document that meets ``rule`` for ``model``."""
    row = session.scalars(
        select(Evidence)
        .where(Evidence.actor == actor, Evidence.subject == model, Evidence.rule == rule)
        .where(Evidence.kind.in_(("document", "summary")))
        .order_by(Evidence.signed_at.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    signed_on = (row.details or {}).get("as_of") or row.signed_at.date().isoformat()
    return SignOff(row.signed_by, row.signed_at.isoformat(), row.sha256, date.fromisoformat(signed_on))


def document_approval(session: Session, doc: Document, rule: str) -> Approval | None:
    """The latest sign-off of ``doc``'s kind by its provider, marked current when it covers this document."""
    if doc.provider is None:
        return None
    signed = latest_sign_off(session, actor=doc.provider, model=doc.model, rule=rule)
    if signed is None:
        return None
    return Approval(signed.signed_by, signed.signed_at, signed.sha256, signed.sha256 == document_hash(doc))


@dataclass(frozen=True, slots=True)
class EvidenceRecord:
    """One piece of evidence as shown to its organisation."""

    id: str
    actor: str
    subject: str
    rule: str
    kind: str
    sha256: str
    signed_by: str
    signed_at: str
    stale: bool
    note: str


def covers(facts: ChainFacts, subject: str, kind: str) -> str:
    """The fingerprint evidence of ``kind`` about ``subject`` is checked against."""
    return fingerprint(facts, subject, documentation=kind != "evaluation")


def evidence_statuses(session: Session, facts: ChainFacts) -> dict[EvidenceKey, str]:
    """Obligation statuses from evidence: met while the facts it covers are unchanged, else stale."""
    found: dict[EvidenceKey, str] = {}
    for row in session.scalars(select(Evidence).order_by(Evidence.signed_at.desc())):
        key = (row.actor, row.subject, row.rule)
        if key in found:
            continue
        when = f"{row.signed_at:%Y-%m-%d}"
        if covers(facts, row.subject, row.kind) != row.covers:
            found[key] = f"open: evidence of {when} is stale (the facts it covers changed)"
        elif "run" in (row.details or {}):
            found[key] = f"met: {run_text(row.details)}; by {row.signed_by} on {when}"
        else:
            found[key] = f"met: {row.kind} signed off by {row.signed_by} on {when} (sha256 {row.sha256[:12]})"
            if row.details and row.details.get("evaluations"):
                found[key] += f"; Annex XI §2 from run {', '.join(row.details['evaluations'])}"
    return found


def run_text(details: dict[str, Any]) -> str:
    """An evaluation run as evidence names it: run, suite, result sha256, score and the score per channel."""
    channels = ", ".join(f"{c} {v:.2f}" for c, v in sorted(details["channels"].items()))
    return (
        f"evaluation run {details['run']} of {details['suite']} (result sha256 {details['sha256'][:12]}), "
        f"score {details['score']:.2f} ({details['correct']}/{details['total']}); channels {channels}"
    )


def record_evidence(
    session: Session,
    *,
    principal: Principal,
    facts: ChainFacts,
    obligation: EvidenceKey,
    kind: str,
    sha256: str,
    note: str = "",
    details: dict[str, Any] | None = None,
    signer: str = "",
) -> EvidenceRecord:
    """Sign off evidence for one of the caller's organisation's obligations (an admin answers for it)."""
    actor, subject, rule = obligation
    authorize(principal, Action.evidence_write)
    if actor != principal.org_slug:  # only the obligated organisation answers for it, not the operator
        raise not_found("obligation", f"{actor} {subject} {rule}")
    if kind not in EVIDENCE_KINDS:
        raise ValidationError(f"unknown evidence kind `{kind}` (known: {', '.join(EVIDENCE_KINDS)})")
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValidationError("sha256 must be 64 lower-case hex digits of the exact document")
    row = Evidence(
        id=new_id("evd"),
        org_id=principal.org_id or "",
        actor=actor,
        subject=subject,
        rule=rule,
        kind=kind,
        sha256=sha256,
        signed_by=f"{signer.strip()[:120]} ({principal.actor})" if signer.strip() else principal.actor,
        signed_at=utcnow(),
        covers=covers(facts, subject, kind),
        note=note,
        details=details or {},
    )
    session.add(row)
    record_event(
        session,
        actor=principal.actor,
        org_id=principal.org_id,
        action=events.evidence_recorded,
        subject_type="obligation",
        subject_id=f"{actor}:{subject}:{rule}",
        after={"rule": rule, "kind": kind, "sha256": sha256, "signed_by": row.signed_by},
    )
    return _evidence_record(row, facts)


def list_evidence(session: Session, *, principal: Principal, facts: ChainFacts) -> list[EvidenceRecord]:
    """The caller's organisation's evidence, newest first, each marked stale or current."""
    authorize(principal, Action.compliance_read)
    query = select(Evidence).order_by(Evidence.signed_at.desc())
    if not principal.is_operator:
        query = query.where(Evidence.org_id == principal.org_id)
    return [_evidence_record(r, facts) for r in session.scalars(query)]


def evidence_of_org(session: Session, *, org_id: str, facts: ChainFacts) -> list[EvidenceRecord]:
    """An organisation's evidence for an inspector (the caller checked the grant and audits the read)."""
    query = select(Evidence).where(Evidence.org_id == org_id).order_by(Evidence.signed_at.desc())
    return [_evidence_record(r, facts) for r in session.scalars(query)]


def _evidence_record(row: Evidence, facts: ChainFacts) -> EvidenceRecord:
    return EvidenceRecord(
        id=row.id,
        actor=row.actor,
        subject=row.subject,
        rule=row.rule,
        kind=row.kind,
        sha256=row.sha256,
        signed_by=row.signed_by,
        signed_at=row.signed_at.isoformat(),
        stale=covers(facts, row.subject, row.kind) != row.covers,
        note=row.note,
    )


# -- documentation fields -------------------------------------------------------------------------------


def documentation_fields(session: Session) -> dict[str, dict[str, str]]:
    """Recorded Annex XI/XII and training-content fields, by model."""
    out: dict[str, dict[str, str]] = {}
    for row in session.scalars(select(DocumentationField)):
        out.setdefault(row.model, {})[row.field] = row.value
    return out


def record_documentation(
    session: Session, *, principal: Principal, model: str, owner_org_id: str, values: dict[str, str | None]
) -> dict[str, str]:
    """Set (or with None clear) documentation fields of a model its provider may write."""
    authorize(principal, Action.model_write, Resource("model", model, owner_org_id))
    for name, value in values.items():
        row = session.get(DocumentationField, (model, name))
        if value is None:
            if row is not None:
                session.delete(row)
            continue
        if row is None:
            row = DocumentationField(model=model, field=name, org_id=owner_org_id)
            session.add(row)
        row.value, row.updated_by, row.updated_at = value, principal.actor, utcnow()
    session.flush()
    return documentation_fields(session).get(model, {})


# -- serious incidents ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IncidentRecord:
    """A serious incident with the next report owed."""

    id: str
    subject: str
    category: str
    systemic_model: bool
    aware_on: str
    resolved_on: str | None
    description: str
    reports: list[dict[str, Any]]
    next_report: str
    due: str | None
    overdue: bool
    source: str


def responsible_for(facts: ChainFacts, subject: str) -> set[str]:
    """Who answers for a model or system: its owner and releaser, or the system's provider and deployers."""
    if subject in facts.models:
        m = facts.models[subject]
        return {m.owner, m.releaser}
    if subject in facts.systems:
        s = facts.systems[subject]
        return {s.provider, *s.deployers}
    return set()


def open_incident(
    session: Session,
    *,
    principal: Principal,
    facts: ChainFacts,
    subject: str,
    category: str,
    aware_on: date,
    description: str,
    systemic_model: bool,
) -> IncidentRecord:
    """Register a serious incident of one of the caller's models or systems."""
    authorize(principal, Action.incident_write)
    if principal.org_slug not in responsible_for(facts, subject) and not principal.is_operator:
        raise not_found("model or system", subject)
    if category not in incidents.CATEGORIES:
        raise ValidationError(f"unknown category `{category}` (known: {', '.join(incidents.CATEGORIES)})")
    if aware_on > utcnow().date():  # deadlines run from awareness (Art. 73(2)): it cannot lie ahead
        raise ValidationError(f"aware_on {aware_on.isoformat()} is in the future")
    row = Incident(
        id=new_id("inc"),
        org_id=principal.org_id or "",
        subject=subject,
        category=category,
        systemic_model=systemic_model,
        aware_on=aware_on,
        description=description,
        reports=[],
        created_at=utcnow(),
    )
    session.add(row)
    record_event(
        session,
        actor=principal.actor,
        org_id=principal.org_id,
        action=events.incident_opened,
        subject_type="incident",
        subject_id=row.id,
        after={"category": category},
    )
    return incident_record(row)


def _own_incident(
    session: Session, principal: Principal, incident_id: str, *, subjects: frozenset[str] = frozenset()
) -> Incident:
    """The incident, for the organisation that registered it or one answering for its subject (``subjects``:
    the provider a deployer informed reports it, Art. 26(5), 73(1))."""
    row = session.get(Incident, incident_id)
    if row is None:
        raise not_found("incident", incident_id)
    authorize(principal, Action.incident_read, _incident_resource(row, principal, subjects))
    return row


def _incident_resource(row: Incident, principal: Principal, subjects: frozenset[str]) -> Resource:
    owner = principal.org_id if row.subject in subjects else row.org_id
    return Resource("incident", row.id, owner)


def report_incident(
    session: Session,
    *,
    principal: Principal,
    incident_id: str,
    kind: str,
    text: str,
    resolved_on: date | None = None,
    subjects: frozenset[str] = frozenset(),
) -> IncidentRecord:
    """File a report (initial, intermediate, complete, final); ``resolved_on`` closes the incident."""
    row = _own_incident(session, principal, incident_id, subjects=subjects)
    authorize(principal, Action.incident_write, _incident_resource(row, principal, subjects))
    if kind not in ("initial", "intermediate", "complete", "final"):
        raise ValidationError("report kind is initial, intermediate, complete or final")
    if resolved_on is not None and not row.aware_on <= resolved_on <= utcnow().date():
        raise ValidationError("resolved_on lies between the day you became aware and today")
    row.reports = [*row.reports, {"kind": kind, "on": utcnow().date().isoformat(), "text": text}]
    if resolved_on is not None:
        row.resolved_on = resolved_on
    record_event(
        session,
        actor=principal.actor,
        org_id=principal.org_id,
        action=events.incident_reported,
        subject_type="incident",
        subject_id=row.id,
        after={"category": row.category, "report": kind},
    )
    return incident_record(row)


def list_incidents(
    session: Session,
    *,
    principal: Principal,
    due_within: int | None = None,
    subjects: frozenset[str] = frozenset(),
) -> list[IncidentRecord]:
    """The caller's incidents and those of the models and systems it answers for (``subjects``: a
    deployer's registration reaches the provider, Art. 26(5)); with ``due_within`` days, only those with a
    report due by then (reminders)."""
    authorize(principal, Action.incident_read)
    query = select(Incident).order_by(Incident.aware_on)
    if not principal.is_operator:
        query = query.where((Incident.org_id == principal.org_id) | Incident.subject.in_(sorted(subjects)))
    rows = [incident_record(r) for r in session.scalars(query)]
    if due_within is None:
        return rows
    horizon = (utcnow().date() + timedelta(days=due_within)).isoformat()
    return [r for r in rows if r.due is not None and r.due <= horizon]


def incident_record(row: Incident, *, today: date | None = None) -> IncidentRecord:
    today = today or utcnow().date()
    reports = [(r["kind"], date.fromisoformat(r["on"])) for r in row.reports]
    nxt = incidents.next_deadline(
        row.category,
        row.aware_on,
        systemic_model=row.systemic_model,
        reports=reports,
        resolved=row.resolved_on,
    )
    return IncidentRecord(
        id=row.id,
        subject=row.subject,
        category=row.category,
        systemic_model=row.systemic_model,
        aware_on=row.aware_on.isoformat(),
        resolved_on=row.resolved_on.isoformat() if row.resolved_on else None,
        description=row.description,
        reports=list(row.reports),
        next_report=nxt.report,
        due=nxt.due.isoformat() if nxt.due else None,
        overdue=nxt.due is not None and nxt.due < today,
        source=nxt.source,
    )


def export_incident(
    session: Session, *, principal: Principal, incident_id: str, subjects: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """The incident as a report for the market surveillance authority or the AI Office (CoP Measure 9.2)."""
    rec = incident_record(_own_incident(session, principal, incident_id, subjects=subjects))
    return {
        "incident": rec.id,
        "model_or_system": rec.subject,
        "category": rec.category,
        "legal_basis": incidents.CATEGORIES[rec.category][2],
        "became_aware": rec.aware_on,
        "resolved": rec.resolved_on,
        "description_of_harm_and_events": rec.description,
        "reports": rec.reports,
        "next_report": {"kind": rec.next_report, "due": rec.due, "source": rec.source},
    }


# -- complaints of affected persons ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ComplaintRecord:
    """A complaint as its author sees it (tracking id, status, answers) or its addressees see it."""

    id: str
    subject: str
    status: str
    created_at: str
    answers: list[dict[str, Any]]
    text: str | None = None  # shown to the organisations it is routed to
    routed_to: list[str] | None = None


def submit_complaint(
    session: Session,
    *,
    facts: ChainFacts,
    subject: str,
    text: str,
    client: str,
    providers: dict[str, set[str]] | None = None,
) -> ComplaintRecord:
    """A complaint without an account: routed to whoever answers for the model or system (rate limited);
    ``providers`` are the models' providers as the engine decides them."""
    routed = _route(facts, subject, providers or {})
    if not routed:
        raise not_found("model or system", subject)
    client_hash = hashlib.sha256(f"complaint:{client}".encode()).hexdigest()
    since = utcnow() - timedelta(hours=1)
    count = session.scalar(
        select(func.count()).where(Complaint.client_hash == client_hash, Complaint.created_at >= since)
    )
    if (count or 0) >= COMPLAINTS_PER_HOUR:
        raise QuotaExceededError(f"at most {COMPLAINTS_PER_HOUR} complaints an hour; please try again later")
    row = Complaint(
        id=new_id("cmp"),
        subject=subject,
        text=text,
        status="received",
        routed_to=sorted(routed),
        answers=[],
        client_hash=client_hash,
        created_at=utcnow(),
    )
    session.add(row)
    return _complaint(row, full=False)


def _route(facts: ChainFacts, subject: str, providers: dict[str, set[str]]) -> set[str]:
    """System provider and deployers and the providers of its models; a model's owner, releaser and
    providers."""
    if subject in facts.systems:
        s = facts.systems[subject]
        out = {s.provider, *s.deployers}
        for m in s.models:
            out |= responsible_for(facts, m) | providers.get(m, set())
        return out
    return responsible_for(facts, subject) | providers.get(subject, set())


def complaint_status(session: Session, complaint_id: str) -> ComplaintRecord:
    """What the person who complained may see with the tracking id."""
    row = session.get(Complaint, complaint_id)
    if row is None:
        raise not_found("complaint", complaint_id)
    return _complaint(row, full=False)


def list_complaints(session: Session, *, principal: Principal) -> list[ComplaintRecord]:
    """Complaints routed to the caller's organisation."""
    authorize(principal, Action.complaint_read)
    rows = session.scalars(select(Complaint).order_by(Complaint.created_at.desc()))
    return [
        _complaint(r, full=True) for r in rows if principal.is_operator or principal.org_slug in r.routed_to
    ]


def answer_complaint(
    session: Session, *, principal: Principal, complaint_id: str, text: str, close: bool = False
) -> ComplaintRecord:
    """An organisation the complaint is routed to answers it (and may close it)."""
    row = session.get(Complaint, complaint_id)
    if row is None or principal.org_slug not in row.routed_to:
        raise not_found("complaint", complaint_id)
    authorize(principal, Action.complaint_answer)
    row.answers = [*row.answers, {"by": principal.org_slug, "on": utcnow().date().isoformat(), "text": text}]
    row.status = "closed" if close else "answered"
    record_event(
        session,
        actor=principal.actor,
        org_id=principal.org_id,
        action=events.complaint_answered,
        subject_type="complaint",
        subject_id=row.id,
        after={"status": row.status},
    )
    return _complaint(row, full=True)


def _complaint(row: Complaint, *, full: bool) -> ComplaintRecord:
    return ComplaintRecord(
        id=row.id,
        subject=row.subject,
        status=row.status,
        created_at=row.created_at.isoformat(),
        answers=list(row.answers),
        text=row.text if full else None,
        routed_to=list(row.routed_to) if full else None,
    )


# -- inspection -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GrantRecord:
    """An inspector grant."""

    id: str
    inspector: str
    orgs: list[str]
    models: list[str]
    valid_from: str
    valid_until: str


def grant_inspector(
    session: Session,
    *,
    principal: Principal,
    inspector_org_id: str,
    inspector: str,
    orgs: list[str],
    models: list[str],
    valid_from: date,
    valid_until: date,
) -> GrantRecord:
    """The operator lets an organisation inspect the named organisations or models for a period."""
    authorize(principal, Action.inspector_grant)
    if valid_until < valid_from or not (orgs or models):
        raise ValidationError(
            "a grant names organisations or models and a period that does not end before it starts"
        )
    row = InspectorGrant(
        id=new_id("isp"),
        inspector_org_id=inspector_org_id,
        orgs=sorted(orgs),
        models=sorted(models),
        valid_from=valid_from,
        valid_until=valid_until,
        granted_by=principal.actor,
        created_at=utcnow(),
    )
    session.add(row)
    record_event(
        session,
        actor=principal.actor,
        org_id=inspector_org_id,
        action=events.inspector_granted,
        subject_type="organization",
        subject_id=inspector_org_id,
        after={"inspector": inspector, "what": ", ".join(row.orgs + row.models)},
    )
    return GrantRecord(
        row.id, inspector, row.orgs, row.models, valid_from.isoformat(), valid_until.isoformat()
    )


def inspection_scope(
    session: Session, principal: Principal, *, today: date | None = None
) -> tuple[set[str], set[str]]:
    """The organisations and models the caller may inspect today (empty sets: none)."""
    authorize(principal, Action.inspect)
    today = today or utcnow().date()
    orgs: set[str] = set()
    models: set[str] = set()
    query = select(InspectorGrant).where(
        InspectorGrant.inspector_org_id == (principal.org_id or ""),
        InspectorGrant.valid_from <= today,
        InspectorGrant.valid_until >= today,
    )
    for grant in session.scalars(query):
        orgs |= set(grant.orgs)
        models |= set(grant.models)
    return orgs, models


def audit_inspection(session: Session, *, principal: Principal, org_id: str, org: str, what: str) -> None:
    """Record an inspector's read under the inspected organisation, which sees it in its audit log."""
    record_event(
        session,
        actor=principal.actor,
        org_id=org_id,
        action=events.inspector_read,
        subject_type="organization",
        subject_id=org_id,
        after={"inspector": principal.org_slug, "what": what},
    )


# -- evaluation runs (issue 13 point 6) ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EvaluationRecord:
    """One stored evaluation run, as shown to the organisation that ran it and to the model's provider."""

    id: str
    model: str
    channel: str
    role: str
    suite: str
    suite_sha256: str
    score: float
    correct: int
    total: int
    sha256: str
    run_by: str
    created_at: str
    items: list[dict[str, Any]]


def result_sha256(result: RunResult) -> str:
    """The hash of the canonical result (suite hash, channel, per-item picks): what evidence refers to."""
    canonical = json.dumps(
        {
            "suite": result.suite,
            "suite_sha256": result.suite_sha256,
            "channel": result.channel,
            "items": [asdict(i) for i in result.items],
        },
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def record_evaluation(
    session: Session,
    *,
    principal: Principal,
    model: str,
    model_org_id: str,
    role: str,
    result: RunResult,
) -> EvaluationRecord:
    """Store a run (the caller checked who may run it) and audit it under the model's organisation."""
    row = EvaluationRun(
        id=new_id("evl"),
        org_id=principal.org_id or "",
        model_org_id=model_org_id,
        model=model,
        channel=result.channel,
        role=role,
        suite=result.suite,
        suite_sha256=result.suite_sha256,
        score=result.score,
        correct=result.correct,
        total=result.total,
        sha256=result_sha256(result),
        items=[asdict(i) for i in result.items],
        run_by=principal.actor,
        created_at=utcnow(),
    )
    session.add(row)
    record_event(
        session,
        actor=principal.actor,
        org_id=model_org_id,
        action=events.evaluation_run,
        subject_type="model",
        subject_id=model,
        after={"model": model, "channel": result.channel, "suite": result.suite, "score": result.score,
               "role": role},
    )  # fmt: skip
    return _evaluation_record(row)


def record_run_evidence(
    session: Session, *, facts: ChainFacts, obligation: EvidenceKey, run: EvaluationRecord, org_id: str
) -> EvidenceRecord:
    """A provider's completed run as evidence for one of its obligations (the caller checked both): no
    sign-off, the stored result is the evidence. It names the latest score over each channel of the same
    suite while the facts are unchanged (the channel-neutrality evidence)."""
    actor, subject, rule = obligation
    fingerprint_now = covers(facts, subject, "evaluation")
    channels: dict[str, float] = {}
    for row in session.scalars(
        select(Evidence)
        .where(Evidence.actor == actor, Evidence.subject == subject, Evidence.rule == rule)
        .where(Evidence.kind == "evaluation", Evidence.covers == fingerprint_now)
        .order_by(Evidence.signed_at)
    ):
        if (row.details or {}).get("suite_sha256") == run.suite_sha256:
            channels[row.details["channel"]] = row.details["score"]
    channels[run.channel] = run.score
    details = {
        "run": run.id,
        "suite": run.suite,
        "suite_sha256": run.suite_sha256,
        "sha256": run.sha256,
        "channel": run.channel,
        "score": run.score,
        "correct": run.correct,
        "total": run.total,
        "channels": channels,
    }
    row = Evidence(
        id=new_id("evd"),
        org_id=org_id,
        actor=actor,
        subject=subject,
        rule=rule,
        kind="evaluation",
        sha256=run.sha256,
        signed_by=run.run_by,
        signed_at=utcnow(),
        covers=fingerprint_now,
        note=f"evaluation run {run.id}",
        details=details,
    )
    session.add(row)
    record_event(
        session,
        actor=run.run_by,
        org_id=org_id or None,
        action=events.evidence_recorded,
        subject_type="obligation",
        subject_id=f"{actor}:{subject}:{rule}",
        after={"rule": rule, "kind": "evaluation", "sha256": run.sha256, "signed_by": run.run_by,
               "run": run.id},
    )  # fmt: skip
    return _evidence_record(row, facts)


def current_runs(session: Session, facts: ChainFacts, model: str, rule: str) -> list[dict[str, Any]]:
    """The run evidence of ``model``'s ``rule`` still current (facts unchanged), latest per suite and channel:
    what fills Annex XI §2 point 1 (evaluation results) of its technical documentation."""
    now = covers(facts, model, "evaluation")
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for row in session.scalars(
        select(Evidence)
        .where(Evidence.subject == model, Evidence.rule == rule, Evidence.kind == "evaluation")
        .where(Evidence.covers == now)
        .order_by(Evidence.signed_at.desc())
    ):
        details = row.details or {}
        if "run" in details:
            on = f"{row.signed_at:%Y-%m-%d}"
            latest.setdefault((details["suite"], details["channel"]), details | {"on": on})
    return [latest[k] for k in sorted(latest)]


def list_evaluations(
    session: Session, *, principal: Principal, model: str | None = None
) -> list[EvaluationRecord]:
    """Runs the caller's organisation made, and runs of its own models (an inspector's too), newest first."""
    authorize(principal, Action.compliance_read)
    query = select(EvaluationRun).order_by(EvaluationRun.created_at.desc(), EvaluationRun.id.desc())
    if not principal.is_operator:
        mine = (EvaluationRun.org_id == principal.org_id) | (EvaluationRun.model_org_id == principal.org_id)
        query = query.where(mine)
    if model is not None:
        query = query.where(EvaluationRun.model == model)
    return [_evaluation_record(r) for r in session.scalars(query)]


def evaluations_of_org(session: Session, *, org_id: str) -> list[EvaluationRecord]:
    """Runs of an organisation's models for an inspector (the caller checked the grant and audits it)."""
    query = (
        select(EvaluationRun)
        .where(EvaluationRun.model_org_id == org_id)
        .order_by(EvaluationRun.created_at.desc(), EvaluationRun.id.desc())
    )
    return [_evaluation_record(r) for r in session.scalars(query)]


def _evaluation_record(row: EvaluationRun) -> EvaluationRecord:
    return EvaluationRecord(
        id=row.id,
        model=row.model,
        channel=row.channel,
        role=row.role,
        suite=row.suite,
        suite_sha256=row.suite_sha256,
        score=row.score,
        correct=row.correct,
        total=row.total,
        sha256=row.sha256,
        run_by=row.run_by,
        created_at=row.created_at.isoformat(),
        items=list(row.items),
    )
