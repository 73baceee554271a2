"""Signed checkpoints anchor the audit chain outside the database (issue 17, part 7): a rewound tail and a
chain rewritten with every later hash recomputed are detected; neither is by the chain alone."""

from __future__ import annotations

import asyncio
import stat
from pathlib import Path

import orjson
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from tests.conftest import make_key, make_org
from valuechain.app import create_app
from valuechain.core.anchor import Anchor, Checkpointer
from valuechain.core.audit import AuditEvent, AuditHead, Change, event_hash, verify_chain
from valuechain.core.db import Database
from valuechain.core.settings import Settings


def _seed(db: Database) -> None:
    make_org(db, "alpha")
    make_org(db, "beta")
    make_key(db, "alpha")
    make_key(db, "beta")


def _anchored(db: Database, tmp_path: Path) -> Anchor:
    """Four events, anchored at event 4."""
    anchor = Anchor(tmp_path / "audit")
    checkpointer = Checkpointer(db, anchor)
    _seed(db)
    checkpointer.close()
    last = anchor.last()
    assert last is not None and last.seq == 4
    return anchor


def _rewind_to(db: Database, seq: int) -> None:
    """What an attacker with database access does: delete the tail and make the head agree."""
    with db.unit_of_work() as session:
        session.execute(AuditEvent.__table__.delete().where(AuditEvent.seq > seq))
        head = session.get(AuditHead, 1)
        assert head is not None
        head.seq = seq
        head.hash = session.scalar(select(AuditEvent.hash).where(AuditEvent.seq == seq))


def _rewrite_from(db: Database, seq: int) -> None:
    """Edit one event and recompute its hash, every later link and hash, and the head."""
    with db.unit_of_work() as session:
        events = session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()
        prev = events[0].prev_hash
        for event in events:
            if event.seq == seq:
                event.actor = "forged"
            if event.seq >= seq:
                change = Change(event.actor, event.org_id, event.action, event.subject_type,
                                event.subject_id, event.before, event.after, event.reason)  # fmt: skip
                event.prev_hash = prev
                event.hash = event_hash(seq=event.seq, at=event.at, prev_hash=prev, change=change)
            prev = event.hash
        head = session.get(AuditHead, 1)
        assert head is not None
        head.hash = prev


def test_anchored_chain_verifies(db: Database, tmp_path: Path) -> None:
    anchor = _anchored(db, tmp_path)
    with db.session() as session:
        result = verify_chain(session, anchor=anchor)
    assert result.ok and result.events == 4 and result.checkpoints == 1, result.problems


def test_rewound_tail_is_detected(db: Database, tmp_path: Path) -> None:
    anchor = _anchored(db, tmp_path)
    _rewind_to(db, 2)
    with db.session() as session:
        assert verify_chain(session).ok  # the chain alone cannot tell
        result = verify_chain(session, anchor=anchor)
    assert not result.ok
    assert any("anchors event 4 but the chain ends at event 2 (tail rewound)" in p for p in result.problems)


def test_recomputed_chain_is_detected(db: Database, tmp_path: Path) -> None:
    anchor = _anchored(db, tmp_path)
    _rewrite_from(db, 2)
    with db.session() as session:
        assert verify_chain(session).ok  # the chain alone cannot tell
        result = verify_chain(session, anchor=anchor)
    assert not result.ok
    assert any("event 4 no longer has the anchored hash (chain rewritten)" in p for p in result.problems)


def test_a_rewritten_chain_is_not_signed_again(db: Database, tmp_path: Path) -> None:
    anchor = _anchored(db, tmp_path)
    _rewrite_from(db, 3)
    make_org(db, "gamma")  # event 5 on top of the rewritten chain
    with db.session() as session:
        assert anchor.checkpoint(session) is None
    assert len(anchor.log_path.read_bytes().splitlines()) == 1


def test_forged_or_damaged_checkpoints_are_reported(db: Database, tmp_path: Path) -> None:
    anchor = _anchored(db, tmp_path)
    line = orjson.loads(anchor.log_path.read_bytes())
    forged = {**line, "seq": 3}  # moving a checkpoint back, without the key, breaks its signature
    with anchor.log_path.open("ab") as f:
        f.write(orjson.dumps(forged) + b"\n{not json\n")
    with db.session() as session:
        result = verify_chain(session, anchor=anchor)
    assert result.checkpoints == 1
    assert result.problems == [
        "checkpoint line 2: signature does not verify (forged or altered)",
        "checkpoint line 3: unreadable",
    ]
    anchor.key_path.unlink()
    with db.session() as session:
        assert "anchor key" in verify_chain(session, anchor=anchor).problems[0]


def test_key_is_private_and_made_once(db: Database, tmp_path: Path) -> None:
    anchor = _anchored(db, tmp_path)
    key = anchor.key_path.read_bytes()
    assert stat.S_IMODE(anchor.key_path.stat().st_mode) == 0o600 and len(key) == 32
    make_org(db, "gamma")
    with db.session() as session:
        point = anchor.checkpoint(session)
        assert point is not None and point.seq == 5
        assert anchor.checkpoint(session) is None  # nothing new: nothing signed
    assert anchor.key_path.read_bytes() == key
    with db.session() as session:
        assert verify_chain(session, anchor=anchor).checkpoints == 2


def test_only_audited_commits_move_the_checkpointer(db: Database, tmp_path: Path) -> None:
    anchor = Anchor(tmp_path / "audit")
    checkpointer = Checkpointer(db, anchor)
    with db.unit_of_work() as session:
        session.execute(text("UPDATE audit_head SET seq = seq WHERE id = 1"))
    assert checkpointer.flush() is None and not anchor.directory.exists()
    make_org(db, "alpha")
    point = checkpointer.flush()
    assert point is not None and point.seq == 1
    assert checkpointer.flush() is None
    checkpointer.close()


def test_the_served_app_anchors_on_shutdown(settings: Settings, db: Database) -> None:
    with TestClient(create_app(settings, database=db)):
        make_org(db, "alpha")
    last = Anchor.of_home(settings.home).last()
    assert last is not None and last.seq == 1


async def test_the_timer_anchors_while_events_arrive(db: Database, tmp_path: Path) -> None:
    anchor = Anchor(tmp_path / "audit")
    checkpointer = Checkpointer(db, anchor)
    timer = asyncio.get_running_loop().create_task(checkpointer.run(every_s=0.01))
    try:
        make_org(db, "alpha")
        for _ in range(200):
            await asyncio.sleep(0.01)
            if anchor.last() is not None:
                break
        last = anchor.last()
        assert last is not None and last.seq == 1
    finally:
        timer.cancel()
        checkpointer.close()
