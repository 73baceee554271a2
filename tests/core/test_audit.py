"""The audit log is append-only and hash-chained: edits, deletions and insertions are detected."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.conftest import make_key, make_org
from valuechain.core.audit import AuditEvent, verify_chain
from valuechain.core.db import Database


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
            "UPDATE audit_head SET hash = 'f' || substr(hash, 2)",
            "chain ends at event 4 but the head records 4",
        ),
        ("DELETE FROM audit_head", "audit head is missing"),
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
