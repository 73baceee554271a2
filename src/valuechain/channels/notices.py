"""Notifications an organisation received and the webhooks it registered for them (issue 11)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from valuechain.accounts.authz import Action, Resource, authorize
from valuechain.accounts.principal import Principal
from valuechain.channels import events
from valuechain.channels.models import Delivery, Notification, Webhook
from valuechain.channels.webhooks import check_destination, signing_secret
from valuechain.core.audit import record_event
from valuechain.core.clock import utcnow
from valuechain.core.errors import ValidationError
from valuechain.core.ids import new_id


@dataclass(frozen=True, slots=True)
class NotificationRecord:
    """A message to the caller's organisation about a model it uses."""

    id: str
    kind: str
    subject: str
    message: str
    payload: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class WebhookRecord:
    """A webhook; ``secret`` is set only in the answer that creates it."""

    id: str
    url: str
    created_at: datetime
    delivered: int
    failed: int
    secret: str | None = None


def _own_org(principal: Principal, action: Action) -> None:
    authorize(principal, action, Resource("organization", principal.org_slug, principal.org_id))


def list_notifications(
    session: Session, *, principal: Principal, limit: int = 200
) -> list[NotificationRecord]:
    """The caller's organisation's notifications, newest first."""
    _own_org(principal, Action.org_read)
    rows = session.scalars(
        select(Notification)
        .where(Notification.org_id == principal.org_id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(limit)
    )
    return [
        NotificationRecord(n.id, n.kind, n.subject, n.message, dict(n.payload or {}), n.created_at)
        for n in rows
    ]


def create_webhook(
    session: Session, url: str, *, principal: Principal, key: bytes, allow_private: bool = False
) -> WebhookRecord:
    """Register a webhook (organisation admins); the answer carries its signing secret, shown once."""
    _own_org(principal, Action.org_update)
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise ValidationError(f"not a valid URL: {exc}") from exc
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValidationError("a webhook URL is an absolute http(s) URL")
    if len(url) > 2000:
        raise ValidationError("a webhook URL has at most 2000 characters")
    check_destination(url, allow_private=allow_private)
    hook = Webhook(id=new_id("whk"), org_id=principal.org_id, url=url, created_at=utcnow())
    session.add(hook)
    session.flush()
    record_event(
        session,
        actor=principal.actor,
        org_id=principal.org_id,
        action=events.webhook_create,
        subject_type="webhook",
        subject_id=hook.id,
        after={"url": url},
    )
    return WebhookRecord(hook.id, url, hook.created_at, 0, 0, secret=signing_secret(key, hook.id))


def list_webhooks(session: Session, *, principal: Principal) -> list[WebhookRecord]:
    """The caller's organisation's webhooks with their delivery counts (no secrets)."""
    _own_org(principal, Action.org_read)
    hooks = list(
        session.scalars(
            select(Webhook)
            .where(Webhook.org_id == principal.org_id, Webhook.revoked_at.is_(None))
            .order_by(Webhook.created_at)
        )
    )
    counts: dict[tuple[str, str], int] = {}
    if hooks:
        for webhook_id, status in session.execute(
            select(Delivery.webhook_id, Delivery.status).where(Delivery.webhook_id.in_([h.id for h in hooks]))
        ):
            counts[(webhook_id, status)] = counts.get((webhook_id, status), 0) + 1
    return [
        WebhookRecord(
            h.id, h.url, h.created_at, counts.get((h.id, "delivered"), 0), counts.get((h.id, "failed"), 0)
        )
        for h in hooks
    ]
