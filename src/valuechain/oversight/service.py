"""Misuse response: rules, events, and suspension or reinstatement of keys and orgs (always audited)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from valuechain.accounts.models import ApiKey, Organization
from valuechain.accounts.principal import Principal
from valuechain.accounts.roles import Role
from valuechain.core.audit import record_event
from valuechain.core.clock import utcnow
from valuechain.core.db import Database
from valuechain.core.errors import ConflictError, NotFoundError, ValidationError
from valuechain.core.ids import new_id
from valuechain.oversight.models import MisuseEvent, MisuseRule, Suspension

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
    principal.require_role(Role.admin)
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
    """Events on the caller's offers (providers see only their own)."""
    query = select(MisuseEvent).order_by(MisuseEvent.created_at.desc()).limit(limit)
    if not principal.is_operator:
        query = query.where(MisuseEvent.provider_org_id == principal.org_id)
    return list(session.execute(query).scalars())


def _subject_org(session: Session, subject_type: str, subject_id: str) -> str:
    if subject_type == "org":
        org = session.execute(
            select(Organization).where((Organization.id == subject_id) | (Organization.slug == subject_id))
        ).scalar_one_or_none()
        if org is None:
            raise NotFoundError(f"organisation {subject_id} not found")
        return org.id
    key = session.execute(
        select(ApiKey).where((ApiKey.id == subject_id) | (ApiKey.prefix == subject_id))
    ).scalar_one_or_none()
    if key is None:
        raise NotFoundError(f"API key {subject_id} not found")
    return key.id


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
    principal.require_role(Role.admin)
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
    principal.require_role(Role.admin)
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


def apply_rule_actions(db: Database, events: list[dict[str, Any]]) -> None:
    """Record prompt-time events and throttle/suspend per rule (as the provider, with the rule as reason)."""
    with db.unit_of_work() as session:
        fresh = [{k: v for k, v in e.items() if k != "recorded"} for e in events if not e.get("recorded")]
        if fresh:
            session.execute(insert(MisuseEvent), fresh)
        for e in events:
            if e["action"] == "flag":
                continue
            scope = e["detail"].get("scope", "key")
            subject = e["key_id"] if scope == "key" and e["key_id"] else e["org_id"]
            active = session.execute(
                select(Suspension.id).where(
                    Suspension.provider_org_id == e["provider_org_id"],
                    Suspension.subject_id == subject,
                    Suspension.kind == e["action"],
                    Suspension.lifted_at.is_(None),
                )
            ).first()
            if active is not None:
                continue
            actor = Principal(
                org_id=e["provider_org_id"],
                org_slug="",
                key_id=None,
                user_id=f"rule:{e['rule_id']}",
                role=Role.owner,
                scopes=frozenset(),
            )
            suspend(
                session,
                principal=actor,
                subject_type="key" if subject == e["key_id"] else "org",
                subject_id=subject,
                kind=e["action"],
                throttle_rpm=e["detail"].get("throttle_rpm"),
                reason=f"misuse rule `{e['detail'].get('rule')}` matched ({e['detail'].get('match')})",
            )
