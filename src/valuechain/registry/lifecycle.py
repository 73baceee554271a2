"""Version lifecycle (issue 11): preview → active → legacy → deprecated → retired, each move dated.

The registry owns ``model_versions``, so the stage and its dates live here; the channels domain decides
who is told (notifications, webhooks) and the gateway reads the stage through ``api_offer_routes``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from valuechain.accounts.principal import Principal
from valuechain.core.audit import record_event
from valuechain.core.clock import utcnow
from valuechain.core.errors import ValidationError
from valuechain.registry import events
from valuechain.registry.models import Model, ModelVersion
from valuechain.registry.service import own_model, resolve_ref

STAGES = ("preview", "active", "legacy", "deprecated", "retired")


@dataclass(frozen=True, slots=True)
class VersionLifecycle:
    """Where a version stands: its stage, when it got there, and the deprecation and sunset dates."""

    model_id: str
    model: str
    label: str
    version_id: str
    stage: str
    stage_at: datetime | None
    deprecated_at: datetime | None
    sunset_at: datetime | None
    successor: str | None

    @property
    def ref(self) -> str:
        return f"{self.model}@{self.label}"


def _record(model: Model, version: ModelVersion) -> VersionLifecycle:
    return VersionLifecycle(
        model_id=model.id,
        model=model.slug,
        label=version.label,
        version_id=version.id,
        stage=version.stage or "active",
        stage_at=version.stage_at,
        deprecated_at=version.deprecated_at,
        sunset_at=version.sunset_at,
        successor=version.successor,
    )


def set_stage(
    session: Session,
    ref: str,
    stage: str,
    *,
    principal: Principal,
    sunset_at: datetime | None = None,
    successor: str | None = None,
    now: datetime | None = None,
) -> tuple[VersionLifecycle, VersionLifecycle]:
    """Move the version ``ref`` forward to ``stage`` (owner only); returns (before, after).

    Stages only move forward. ``deprecated`` needs a sunset date after now; ``retired`` keeps the sunset
    (or sets it to now). ``successor`` must name a version of a model the caller can see.
    """
    if stage not in STAGES:
        raise ValidationError(f"stage must be one of {', '.join(STAGES)}")
    model, version = resolve_ref(session, ref, principal=principal)
    own_model(session, model.slug, principal=principal)  # authorize: the owner moves its versions
    before = _record(model, version)
    if STAGES.index(stage) <= STAGES.index(before.stage):
        raise ValidationError(f"`{before.ref}` is {before.stage}; a version can only move forward")
    now = now or utcnow()
    if successor is not None:
        succ_model, succ_version = resolve_ref(session, successor, principal=principal)
        if succ_version.id == version.id:
            raise ValidationError("a version cannot succeed itself")
        successor = f"{succ_model.slug}@{succ_version.label}"
    if stage == "deprecated":
        if sunset_at is None or sunset_at <= now:
            raise ValidationError("deprecating needs a sunset date in the future (--sunset)")
        version.deprecated_at = now
        version.sunset_at = sunset_at
    elif stage == "retired":
        version.deprecated_at = version.deprecated_at or now
        version.sunset_at = sunset_at or version.sunset_at or now
    version.stage = stage
    version.stage_at = now
    if successor is not None:
        version.successor = successor
    after = _record(model, version)
    record_event(
        session,
        actor=principal.actor,
        org_id=model.owner_org_id,
        action=events.version_lifecycle,
        subject_type="version",
        subject_id=after.ref,
        before={"stage": before.stage},
        after={
            "stage": stage,
            "sunset_at": after.sunset_at.isoformat() if after.sunset_at else None,
            "successor": after.successor,
        },
    )
    return before, after


def lifecycles(session: Session, model_ids: Iterable[str]) -> list[VersionLifecycle]:
    """The lifecycle of every version of the given models, oldest first."""
    ids = list(set(model_ids))
    if not ids:
        return []
    rows = session.execute(
        select(Model, ModelVersion)
        .join(ModelVersion, ModelVersion.model_id == Model.id)
        .where(Model.id.in_(ids))
        .order_by(ModelVersion.created_at, ModelVersion.id)
    )
    return [_record(m, v) for m, v in rows]


def lifecycle_of(session: Session, ref: str, *, principal: Principal) -> VersionLifecycle:
    """One version's lifecycle (visible models only)."""
    model, version = resolve_ref(session, ref, principal=principal)
    return _record(model, version)


def version_lifecycle(session: Session, version_id: str) -> VersionLifecycle | None:
    """The version ``version_id`` with its model and lifecycle (no permission check: callers decide)."""
    row = session.execute(
        select(Model, ModelVersion)
        .join(ModelVersion, ModelVersion.model_id == Model.id)
        .where(ModelVersion.id == version_id)
    ).one_or_none()
    return _record(*row) if row is not None else None
