"""Misuse response: rules, events, and suspension or reinstatement of keys and orgs (always audited).

Every entry point asks :func:`valuechain.accounts.authz.authorize` first. This module is the only writer
of the oversight tables; the gateway's metering batch writes its events with the statements of
:func:`event_statements`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from valuechain.accounts.authz import Action, authorize, is_allowed
from valuechain.accounts.directory import key_id_for_ref, org_id_for_ref
from valuechain.accounts.principal import Principal
from valuechain.accounts.roles import Role
from valuechain.core.audit import record_event
from valuechain.core.bulk import BulkSql, Statements
from valuechain.core.clock import utcnow
from valuechain.core.db import Database
from valuechain.core.errors import ConflictError, NotFoundError, ValidationError
from valuechain.core.ids import new_id
from valuechain.oversight.models import MisuseEvent, MisuseRule, Suspension
from valuechain.oversight.records import MisuseEventRecord

ACTIONS = ("flag", "throttle", "suspend")


def create_rule(
    session: Session,
    *,
    principal: Principal,
    name: str,
    kind: str,
    action: str,
    scope: str = "key",
    target: str = "prompt",
    pattern: str | None = None,
    threshold_rpm: int | None = None,
    throttle_rpm: int | None = None,
) -> MisuseRule:
    """A misuse rule over the traffic of the caller's own offers."""
    authorize(principal, Action.oversight_manage)
    import re

    if kind not in ("pattern", "rate") or action not in ACTIONS or scope not in ("key", "org"):
        raise ValidationError("kind must be pattern|rate, action flag|throttle|suspend, scope key|org")
    if kind == "pattern":
        if not pattern:
            raise ValidationError("a pattern rule needs a pattern")
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValidationError(f"invalid pattern: {exc}") from exc
    if kind == "rate" and not threshold_rpm:
        raise ValidationError("a rate rule needs threshold_rpm")
    if action == "throttle" and not throttle_rpm:
        raise ValidationError("a throttle rule needs throttle_rpm")
    rule = MisuseRule(
        id=new_id("rul"),
        provider_org_id=principal.org_id,
        name=name,
        kind=kind,
        target=target,
        pattern=pattern,
        threshold_rpm=threshold_rpm,
        action=action,
        scope=scope,
        throttle_rpm=throttle_rpm,
        enabled=True,
        created_at=utcnow(),
    )
    session.add(rule)
    session.flush()
    record_event(
        session,
        actor=principal.actor,
        org_id=principal.org_id,
        action="misuse_rule.create",
        subject_type="misuse_rule",
        subject_id=rule.id,
        after={"name": name, "kind": kind, "action": action},
    )
    return rule


def list_events(session: Session, *, principal: Principal, limit: int = 100) -> list[MisuseEvent]:
    """Events on the caller's offers (providers' admins see only their own; others see none)."""
    authorize(principal, Action.oversight_list)  # a key without `registry:read` is refused, not shown []
    if not is_allowed(principal, Action.oversight_read):
        return []
    query = select(MisuseEvent).order_by(MisuseEvent.created_at.desc()).limit(limit)
    if not principal.is_operator:
        query = query.where(MisuseEvent.provider_org_id == principal.org_id)
    return list(session.execute(query).scalars())


def _subject_org(session: Session, subject_type: str, subject_id: str) -> str:
    if subject_type == "org":
        org_id = org_id_for_ref(session, subject_id)
        if org_id is None:
            raise NotFoundError(f"organisation {subject_id} not found")
        return org_id
    key_id = key_id_for_ref(session, subject_id)
    if key_id is None:
        raise NotFoundError(f"API key {subject_id} not found")
    return key_id


def suspend(
    session: Session,
    *,
    principal: Principal,
    subject_type: str,
    subject_id: str,
    reason: str,
    kind: str = "suspend",
    throttle_rpm: int | None = None,
    now: datetime | None = None,
) -> Suspension:
    """Cut a key or org off from the caller's offers (or throttle it); audited with the reason."""
    authorize(principal, Action.oversight_manage)
    return _impose(
        session,
        principal=principal,
        subject_type=subject_type,
        subject_id=subject_id,
        reason=reason,
        kind=kind,
        throttle_rpm=throttle_rpm,
        now=now,
    )


def _impose(
    session: Session,
    *,
    principal: Principal,
    subject_type: str,
    subject_id: str,
    reason: str,
    kind: str,
    throttle_rpm: int | None,
    now: datetime | None,
) -> Suspension:
    if subject_type not in ("key", "org") or kind not in ("suspend", "throttle"):
        raise ValidationError("subject_type must be key|org and kind suspend|throttle")
    if not reason.strip():
        raise ValidationError("a suspension needs a reason")
    if kind == "throttle" and not throttle_rpm:
        raise ValidationError("a throttle needs throttle_rpm")
    resolved = _subject_org(session, subject_type, subject_id)
    row = Suspension(
        id=new_id("sus"),
        provider_org_id=principal.org_id,
        subject_type=subject_type,
        subject_id=resolved,
        kind=kind,
        throttle_rpm=throttle_rpm,
        reason=reason,
        created_at=now or utcnow(),
        created_by=principal.actor,
    )
    session.add(row)
    session.flush()
    record_event(
        session,
        actor=principal.actor,
        org_id=principal.org_id,
        action=f"{subject_type}.{kind}",
        subject_type=subject_type,
        subject_id=resolved,
        after={"suspension": row.id, "kind": kind},
        reason=reason,
    )
    return row


def reinstate(
    session: Session,
    *,
    principal: Principal,
    subject_type: str,
    subject_id: str,
    reason: str,
    now: datetime | None = None,
) -> list[Suspension]:
    """Lift the caller's active suspensions and throttles of a key or org; audited with the reason."""
    authorize(principal, Action.oversight_manage)
    if not reason.strip():
        raise ValidationError("reinstatement needs a reason")
    resolved = _subject_org(session, subject_type, subject_id)
    rows = list(
        session.execute(
            select(Suspension).where(
                Suspension.provider_org_id == principal.org_id,
                Suspension.subject_id == resolved,
                Suspension.lifted_at.is_(None),
            )
        ).scalars()
    )
    if not rows:
        raise ConflictError(f"{subject_type} {subject_id} is not suspended")
    for row in rows:
        row.lifted_at, row.lifted_by, row.lift_reason = now or utcnow(), principal.actor, reason
    record_event(
        session,
        actor=principal.actor,
        org_id=principal.org_id,
        action=f"{subject_type}.reinstate",
        subject_type=subject_type,
        subject_id=resolved,
        before={"suspensions": [r.id for r in rows]},
        reason=reason,
    )
    return rows


def apply_rule_actions(db: Database, events: list[MisuseEventRecord], *, recorded: bool) -> None:
    """Record prompt-time events (unless ``recorded``) and throttle/suspend per rule, as the provider.

    The rule was authorised when its provider created it; its actions are the provider's, audited with
    the rule as actor and reason.
    """
    with db.unit_of_work() as session:
        if not recorded:
            session.execute(insert(MisuseEvent), [e.row() for e in events])
        for e in events:
            if e.action == "flag":
                continue
            subject = e.key_id if e.scope == "key" and e.key_id else e.org_id
            active = session.execute(
                select(Suspension.id).where(
                    Suspension.provider_org_id == e.provider_org_id,
                    Suspension.subject_id == subject,
                    Suspension.kind == e.action,
                    Suspension.lifted_at.is_(None),
                )
            ).first()
            if active is not None:
                continue
            actor = Principal(
                org_id=e.provider_org_id,
                org_slug="",
                key_id=None,
                user_id=f"rule:{e.rule_id}",
                role=Role.owner,
                scopes=frozenset(),
            )
            _impose(
                session,
                principal=actor,
                subject_type="key" if subject == e.key_id else "org",
                subject_id=subject,
                kind=e.action,
                throttle_rpm=e.throttle_rpm,
                reason=f"misuse rule `{e.rule_name}` matched ({e.match})",
                now=None,
            )


def event_statements(sql: BulkSql, events: list[MisuseEventRecord]) -> Statements:
    """The statements that write ``events``, for a group commit the caller executes in its transaction."""
    if not events:
        return []
    table = MisuseEvent.__table__
    return sql.insert_values(table, [sql.row(table, e.row()) for e in events])  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class ActiveSuspension:
    """A provider's suspension (or throttle) in force on a key or org."""

    provider_org_id: str
    subject_type: str
    kind: str
    throttle_rpm: int | None
    reason: str

    @property
    def denial(self) -> str | None:
        """Why requests are refused, or None for a throttle."""
        if self.kind != "suspend":
            return None
        subject = "this API key" if self.subject_type == "key" else "your organisation"
        return f"{subject} is suspended by the provider: {self.reason}"


def active_suspensions(session: Session, *, org_id: str, key_id: str | None) -> dict[str, ActiveSuspension]:
    """Suspensions or throttles in force on this key or org, by provider; a suspension beats a throttle."""
    subjects = [org_id] + ([key_id] if key_id else [])
    rows = session.execute(
        select(Suspension).where(Suspension.subject_id.in_(subjects), Suspension.lifted_at.is_(None))
    ).scalars()
    out: dict[str, ActiveSuspension] = {}
    for s in rows:
        current = out.get(s.provider_org_id)
        if current is None or (current.kind == "throttle" and s.kind == "suspend"):
            out[s.provider_org_id] = ActiveSuspension(
                s.provider_org_id, s.subject_type, s.kind, s.throttle_rpm, s.reason
            )
    return out
