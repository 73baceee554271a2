"""Append-only, hash-chained audit log: every change to registry, accounts and keys is an event."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import orjson
from sqlalchemy import JSON, BigInteger, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from valuechain.core.anchor import Anchor, check_against
from valuechain.core.clock import utcnow
from valuechain.core.db import Base, IdColumn, UTCDateTime
from valuechain.core.events import EVENTS, EventType

GENESIS_HASH = "0" * 64


class AuditEvent(Base):
    """One change: who did what to which record, when, with the state before and after."""

    __tablename__ = "audit_events"

    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(200))
    org_id: Mapped[str | None] = mapped_column(IdColumn, nullable=True, index=True)
    action: Mapped[str] = mapped_column(String(100))
    subject_type: Mapped[str] = mapped_column(String(50))
    subject_id: Mapped[str] = mapped_column(String(300))
    before: Mapped[Any] = mapped_column(JSON, nullable=True)
    after: Mapped[Any] = mapped_column(JSON, nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The chain's last sequence number and hash: serialises appends and detects tail truncation."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))


@dataclass(frozen=True, slots=True)
class Change:
    """A change to record; ``before``/``after`` are JSON-able snapshots (None for create/delete)."""

    actor: str
    org_id: str | None
    action: str
    subject_type: str
    subject_id: str
    before: Any = None
    after: Any = None
    reason: str | None = None


_PLAIN = (str, int, float, bool, type(None))


def jsonable(value: Any) -> Any:
    """Snapshot values as JSON types, so the hash is the same before and after storage."""
    if isinstance(value, _PLAIN):
        return value
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if hasattr(value, "value"):  # an enum (plain values returned above)
        return value.value
    return value


def event_hash(*, seq: int, at: datetime, prev_hash: str, change: Change) -> str:
    """SHA-256 over the canonical JSON of the event and the previous hash."""
    payload = {
        "seq": seq,
        "at": at.isoformat(),
        "actor": change.actor,
        "org_id": change.org_id,
        "action": change.action,
        "subject_type": change.subject_type,
        "subject_id": change.subject_id,
        "before": change.before,
        "after": change.after,
        "reason": change.reason,
        "prev_hash": prev_hash,
    }
    return hashlib.sha256(orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)).hexdigest()


def record_event(
    session: Session,
    *,
    actor: str,
    org_id: str | None,
    action: str | EventType,
    subject_type: str,
    subject_id: str,
    before: Any = None,
    after: Any = None,
    reason: str | None = None,
) -> None:
    """Append one event inside the caller's transaction; ``action`` must be a declared event type."""
    name = action.name if isinstance(action, EventType) else action
    change = Change(actor, org_id, name, subject_type, subject_id, jsonable(before), jsonable(after), reason)
    check_change(change, types=True)
    _append(session, [change])


def check_change(change: Change, *, types: bool = False) -> None:
    """Raise ``EventError`` unless the change is a declared event type, about its kind of subject.

    The payload (``after``, or ``before`` for a removal) must carry the type's fields; with ``types``
    their values are validated too (single events; bulk appends check presence only, for speed).
    """
    payload = change.after if change.after is not None else change.before
    EVENTS.check(change.action, change.subject_type, payload, types=types)


def record_changes(session: Session, changes: Iterable[Change], *, at: datetime | None = None) -> int:
    """Append events in order inside the caller's transaction; returns how many were written.

    Every change is checked against the declared event types first, so nothing is written if one is not.
    """
    changes = list(changes)
    for change in changes:
        check_change(change)
    return _append(session, changes, at=at)


def _append(session: Session, changes: list[Change], *, at: datetime | None = None) -> int:
    head = session.execute(select(AuditHead).where(AuditHead.id == 1).with_for_update()).scalar_one()
    at = at or utcnow()
    seq, prev = head.seq, head.hash
    rows = []
    for change in changes:
        seq += 1
        digest = event_hash(seq=seq, at=at, prev_hash=prev, change=change)
        rows.append(
            {
                "seq": seq,
                "at": at,
                "actor": change.actor,
                "org_id": change.org_id,
                "action": change.action,
                "subject_type": change.subject_type,
                "subject_id": change.subject_id,
                "before": change.before,
                "after": change.after,
                "reason": change.reason,
                "prev_hash": prev,
                "hash": digest,
            }
        )
        prev = digest
    if rows:
        session.execute(AuditEvent.__table__.insert(), rows)  # executemany: SQLAlchemy pages the rows
        head.seq, head.hash = seq, prev
        session.flush()
    return len(rows)


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """Outcome of walking the chain."""

    ok: bool
    events: int
    problems: list[str]
    checkpoints: int = 0


def verify_chain(session: Session, *, anchor: Anchor | None = None, batch: int = 10_000) -> VerifyResult:
    """Recompute every hash; report edits, deletions, insertions and a truncated tail.

    With ``anchor``, the chain is also checked against its signed checkpoints, which catches what the
    chain alone cannot: a tail deleted with the head rewound, a row edited with every later hash redone.
    """
    problems: list[str] = []
    points, bad_points = anchor.read() if anchor is not None else ([], [])
    anchored = {p.seq for p in points}
    hashes: dict[int, str] = {}
    expected_seq, prev, count = 1, GENESIS_HASH, 0
    for event in _iter_events(session, batch):
        count += 1
        if event.seq in anchored:
            hashes[event.seq] = event.hash
        if event.seq != expected_seq:
            problems.append(f"events {expected_seq}..{event.seq - 1} are missing (deleted)")
        if event.prev_hash != prev:
            problems.append(f"event {event.seq}: previous-hash link broken")
        change = Change(
            event.actor,
            event.org_id,
            event.action,
            event.subject_type,
            event.subject_id,
            event.before,
            event.after,
            event.reason,
        )
        if event_hash(seq=event.seq, at=event.at, prev_hash=event.prev_hash, change=change) != event.hash:
            problems.append(f"event {event.seq}: content does not match its hash (edited)")
        expected_seq, prev = event.seq + 1, event.hash
    head = session.get(AuditHead, 1)
    if head is None:
        problems.append("audit head is missing")
    elif head.seq != expected_seq - 1 or head.hash != prev:
        problems.append(
            f"chain ends at event {expected_seq - 1} but the head records {head.seq} (tail deleted)"
        )
    problems += bad_points + check_against(points, hashes, chain_end=expected_seq - 1)
    return VerifyResult(ok=not problems, events=count, problems=problems, checkpoints=len(points))


def _iter_events(session: Session, batch: int) -> Iterator[AuditEvent]:
    last = 0
    while True:
        rows = session.scalars(
            select(AuditEvent).where(AuditEvent.seq > last).order_by(AuditEvent.seq).limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].seq
        session.expunge_all()


def list_events(
    session: Session,
    *,
    org_id: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    batch: int = 1000,
) -> Iterator[AuditEvent]:
    """Events oldest first, filtered by organisation, action (``key.create``, or ``key.*`` for a
    prefix) and time (``since`` inclusive, ``until`` exclusive); read in batches."""
    query = select(AuditEvent).order_by(AuditEvent.seq).limit(batch)
    if org_id is not None:
        query = query.where(AuditEvent.org_id == org_id)
    if action is not None and action.endswith("*"):
        query = query.where(AuditEvent.action.startswith(action.removesuffix("*"), autoescape=True))
    elif action is not None:
        query = query.where(AuditEvent.action == action)
    if since is not None:
        query = query.where(AuditEvent.at >= since)
    if until is not None:
        query = query.where(AuditEvent.at < until)
    last = 0
    while True:
        rows = session.scalars(query.where(AuditEvent.seq > last)).all()
        yield from rows
        if len(rows) < batch:
            return
        last = rows[-1].seq


def event_page(
    session: Session,
    *,
    org_id: str | None,
    action: str | None = None,
    since: datetime | None = None,
    before_seq: int | None = None,
    limit: int = 50,
) -> list[AuditEvent]:
    """Newest events first, ``limit`` at a time below ``before_seq`` (keyset on the primary key); ``org_id``
    None reads every organisation's (callers authorize that), ``action`` ending in ``*`` is a prefix."""
    query = select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(limit)
    if org_id is not None:
        query = query.where(AuditEvent.org_id == org_id)
    if action is not None and action.endswith("*"):
        query = query.where(AuditEvent.action.startswith(action.rstrip("*"), autoescape=True))
    elif action:
        query = query.where(AuditEvent.action == action)
    if since is not None:
        query = query.where(AuditEvent.at >= since)
    if before_seq is not None:
        query = query.where(AuditEvent.seq < before_seq)
    return list(session.scalars(query))
