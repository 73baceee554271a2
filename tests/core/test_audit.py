"""The audit log is append-only and hash-chained: edits, deletions and insertions are detected."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from enum import Enum

import pytest
from sqlalchemy import select, text

from tests.conftest import make_key, make_org
from valuechain.accounts.roles import Role
from valuechain.core.audit import (
    GENESIS_HASH,
    AuditEvent,
    AuditHead,
    Change,
    event_hash,
    jsonable,
    list_events,
    record_changes,
    record_event,
    verify_chain,
)
from valuechain.core.db import Database
from valuechain.core.events import EventError
from valuechain.hub.events import gated


def _seed(db: Database) -> None:
    make_org(db, "alpha")
    make_org(db, "beta")
    make_key(db, "alpha")
    make_key(db, "beta")


def test_intact_chain_verifies(db: Database) -> None:
    _seed(db)
    with db.session() as session:
        result = verify_chain(session)
    assert result.ok and result.events == 4 and result.problems == []


@pytest.mark.parametrize(
    ("tamper", "expected"),
    [
        ("UPDATE audit_events SET actor = 'someone-else' WHERE seq = 2", "event 2: content does not match"),
        ("UPDATE audit_events SET after = NULL WHERE seq = 1", "event 1: content does not match"),
        (  # the state before a change is covered by the hash too (issue 17)
            """UPDATE audit_events SET before = '{"role": "owner"}' WHERE seq = 2""",
            "event 2: content does not match",
        ),
        ("DELETE FROM audit_events WHERE seq = 2", "events 2..2 are missing"),
        (
            "DELETE FROM audit_events WHERE seq = 4",
            "chain ends at event 3 but the head records 4 (tail deleted)",
        ),
        (
            # not a hex digit: the head's hash always changes ('f' left it alone for 1 head in 16)
            "UPDATE audit_head SET hash = 'g' || substr(hash, 2)",
            "chain ends at event 4 but the head records 4",
        ),
        ("DELETE FROM audit_head", "audit head is missing"),
        ("UPDATE audit_events SET reason = 'forged' WHERE seq = 3", "event 3: content does not match"),
        ("UPDATE audit_events SET seq = seq + 100 WHERE seq = 3", "missing"),
    ],
)
def test_tampering_is_detected(db: Database, tamper: str, expected: str) -> None:
    _seed(db)
    with db.engine.begin() as conn:
        conn.execute(text(tamper))
    with db.session() as session:
        result = verify_chain(session)
    assert not result.ok
    assert any(expected in p for p in result.problems), result.problems


def test_a_missing_head_is_reported_as_such(db: Database) -> None:
    _seed(db)
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_head"))
    with db.session() as session:
        assert verify_chain(session).problems == ["audit head is missing"]


def test_rehashing_one_event_still_breaks_the_link(db: Database) -> None:
    """An attacker who edits an event and recomputes its hash breaks the next event's link."""
    _seed(db)
    from valuechain.core.audit import Change, event_hash

    with db.unit_of_work() as session:
        event = session.get(AuditEvent, 2)
        assert event is not None
        event.actor = "forged"
        change = Change(event.actor, event.org_id, event.action, event.subject_type, event.subject_id,
                        event.before, event.after, event.reason)  # fmt: skip
        event.hash = event_hash(seq=2, at=event.at, prev_hash=event.prev_hash, change=change)
    with db.session() as session:
        result = verify_chain(session)
    assert any("event 3: previous-hash link broken" in p for p in result.problems)


def test_secrets_never_enter_the_audit_log(db: Database) -> None:
    make_org(db, "alpha")
    secret = make_key(db, "alpha")
    with db.session() as session:
        rows = session.execute(text("SELECT before, after FROM audit_events")).all()
    assert secret not in repr(rows)
    assert secret.split("_", 2)[2] not in repr(rows)  # the whole random part (it may itself hold "_")


# --- hashing, appending and listing, unit by unit ---------------------------------------------------------

AT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
CHANGE = Change("key:key_1", "org_1", "org.update", "org", "org_1", {"name": "A"}, {"name": "B"}, "renamed")


def test_the_hash_of_an_event_is_pinned() -> None:
    """The hash is stored: its canonical form (every field, sorted keys) must never drift."""
    digest = event_hash(seq=7, at=AT, prev_hash="a" * 64, change=CHANGE)
    assert digest == "9cef1feacf3df954b9c07df78567579d3a5c380bb81949800cf0a6b2a2849b21"


class Colour(Enum):
    red = 3


def test_snapshots_are_stored_as_json_values() -> None:
    thing = object()
    value = {
        1: ("a", 2, 2.5, True, None),
        "when": AT,
        "day": date(2026, 1, 2),
        "set": frozenset({Colour.red}),
        "enum": Colour.red,
        "nested": [{"k": {4}}],
        "other": thing,
    }
    assert jsonable(value) == {
        "1": ["a", 2, 2.5, True, None],
        "when": "2026-01-02T03:04:05+00:00",
        "day": "2026-01-02",
        "set": [3],
        "enum": 3,
        "nested": [{"k": [4]}],
        "other": thing,
    }
    assert jsonable(True) is True and jsonable(Role.admin) == "admin"


def _events(db: Database) -> list[AuditEvent]:
    with db.session() as session:
        events = list(session.scalars(select(AuditEvent).order_by(AuditEvent.seq)))
        session.expunge_all()  # keep the loaded rows readable after the session ends
        return events


def test_appended_events_chain_from_the_head(db: Database) -> None:
    changes = [
        Change(
            "user:cli",
            "org_1",
            "hub.repo.gated",
            "hub_repo",
            f"rep_{n}",
            {"visibility": "public", "gated": None},
            {"visibility": "public", "gated": "auto"},
        )  # fmt: skip
        for n in range(3)
    ]
    with db.unit_of_work() as session:
        assert record_changes(session, iter(changes[:2]), at=AT) == 2
        assert record_changes(session, [], at=AT) == 0
    with db.unit_of_work() as session:
        record_changes(session, changes[2:])
    events = _events(db)
    assert [e.seq for e in events] == [1, 2, 3]
    assert [e.subject_id for e in events] == ["rep_0", "rep_1", "rep_2"]
    assert [e.at for e in events[:2]] == [AT, AT] and events[2].at > AT
    prev = GENESIS_HASH
    for event, change in zip(events, changes, strict=True):
        assert event.prev_hash == prev
        assert event.hash == event_hash(seq=event.seq, at=event.at, prev_hash=prev, change=change)
        assert (event.actor, event.org_id, event.action, event.before, event.after, event.reason) == (
            change.actor, change.org_id, change.action, change.before, change.after, None
        )  # fmt: skip
        prev = event.hash
    with db.session() as session:
        head = session.get(AuditHead, 1)
        assert head is not None and (head.seq, head.hash) == (3, prev)
        assert verify_chain(session).ok


def test_record_event_validates_the_payload_types_and_names_the_event(db: Database) -> None:
    with db.unit_of_work() as session:
        record_event(
            session,
            actor="user:cli",
            org_id="org_1",
            action=gated,
            subject_type="hub_repo",
            subject_id="rep_1",
            before={"visibility": "private", "gated": None},
            after={"visibility": Colour.red, "gated": "manual"} | {"visibility": "public"},
            reason="release",
        )
    [event] = _events(db)
    assert (event.action, event.before, event.after, event.reason) == (
        "hub.repo.gated",
        {"visibility": "private", "gated": None},
        {"visibility": "public", "gated": "manual"},
        "release",
    )
    with db.unit_of_work() as session, pytest.raises(EventError, match="payload visibility"):
        record_event(session, actor="user:cli", org_id=None, action="hub.repo.gated", subject_type="hub_repo",
                     subject_id="rep_1", after={"visibility": 1, "gated": None})  # fmt: skip
    with db.unit_of_work() as session, pytest.raises(EventError, match="payload gated: Field required"):
        record_event(session, actor="user:cli", org_id=None, action="hub.repo.gated", subject_type="hub_repo",
                     subject_id="rep_1", before={"visibility": "public"})  # fmt: skip


def test_a_bulk_append_writes_nothing_unless_every_change_is_declared(db: Database) -> None:
    good = Change(
        "user:cli", None, "hub.repo.gated", "hub_repo", "rep_1", None, {"visibility": "x", "gated": None}
    )
    bad = Change("user:cli", None, "hub.repo.gated", "hub_repo", "rep_1", None, {"visibility": "x"})
    with db.unit_of_work() as session, pytest.raises(EventError):
        record_changes(session, [good, bad])
    assert _events(db) == []


def test_verify_reads_the_chain_in_batches(db: Database) -> None:
    _seed(db)
    with db.session() as session:
        result = verify_chain(session, batch=3)
    assert (result.ok, result.events, result.problems, result.checkpoints) == (True, 4, [], 0)


def test_a_gap_is_reported_with_its_range(db: Database) -> None:
    _seed(db)
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_events WHERE seq IN (2, 3)"))
    with db.session() as session:
        problems = verify_chain(session).problems
    assert "events 2..3 are missing (deleted)" in problems
    assert "event 4: previous-hash link broken" in problems


def _listed(db: Database, **filters: object) -> list[tuple[int, str]]:
    with db.session() as session:
        return [(e.seq, e.action) for e in list_events(session, **filters)]  # type: ignore[arg-type]


def test_list_events_filters_by_org_action_and_time(db: Database) -> None:
    payload = {"visibility": "public", "gated": None}
    changes = [
        Change("user:cli", "org_a", "hub.repo.gated", "hub_repo", "r1", None, payload),
        Change("user:cli", "org_b", "hub.repo.gated", "hub_repo", "r2", None, payload),
        Change("user:cli", "org_a", "hub.repo.visibility", "hub_repo", "r3", None, payload),
    ]
    with db.unit_of_work() as session:
        for n, change in enumerate(changes):
            record_changes(session, [change], at=AT + timedelta(hours=n))
    assert _listed(db) == [(1, "hub.repo.gated"), (2, "hub.repo.gated"), (3, "hub.repo.visibility")]
    assert [seq for seq, _ in _listed(db, org_id="org_a")] == [1, 3]
    assert [seq for seq, _ in _listed(db, action="hub.repo.gated")] == [1, 2]
    assert [seq for seq, _ in _listed(db, action="hub.repo.*")] == [1, 2, 3]
    assert [seq for seq, _ in _listed(db, action="hub.repo.v*")] == [3]
    assert _listed(db, action="hub_repo.*") == []  # `_` is a character, not a LIKE wildcard
    assert _listed(db, action="hub.repo") == []
    assert [seq for seq, _ in _listed(db, since=AT + timedelta(hours=1))] == [2, 3]
    assert [seq for seq, _ in _listed(db, until=AT + timedelta(hours=1))] == [1]
    assert [seq for seq, _ in _listed(db, org_id="org_a", batch=1)] == [1, 3]
    assert [seq for seq, _ in _listed(db, batch=3)] == [1, 2, 3]
    assert [seq for seq, _ in _listed(db, batch=2)] == [1, 2, 3]


def test_bulk_appends_check_presence_only_single_events_the_types(db: Database) -> None:
    """A chain import appends many events: their payloads are checked for the fields only (issue 13)."""
    typed_wrong = {"visibility": 1, "gated": None}
    with db.unit_of_work() as session:
        record_changes(
            session, [Change("user:cli", None, "hub.repo.gated", "hub_repo", "r1", None, typed_wrong)]
        )
        with pytest.raises(EventError):
            record_event(session, actor="user:cli", org_id=None, action="hub.repo.gated",
                         subject_type="hub_repo", subject_id="r1", after=typed_wrong)  # fmt: skip
    assert len(_events(db)) == 1


def test_appends_continue_from_the_head(db: Database) -> None:
    """The head, not the table, numbers the next event (a head ahead of the rows is reported, not hidden)."""
    _seed(db)
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_head SET seq = 10"))
    make_org(db, "gamma")
    assert [e.seq for e in _events(db)][-1] == 11
