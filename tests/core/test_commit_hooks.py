"""Database.on_commit: hooks learn which tables a unit of work changed, only once it committed."""

from __future__ import annotations

from sqlalchemy import select, update

from tests.conftest import make_key, make_org
from valuechain.accounts.models import ApiKey, Organization
from valuechain.accounts.service import touch_key
from valuechain.core.clock import utcnow
from valuechain.core.db import Database


def test_hooks_see_committed_tables_only(db: Database) -> None:
    make_org(db, "acme")
    make_key(db, "acme")
    seen: list[frozenset[str]] = []
    remove = db.on_commit(seen.append)
    with db.unit_of_work() as session:
        org = session.execute(select(Organization)).scalar_one()
        org.name = "Acme Renamed"
    assert seen == [frozenset({"organizations"})]
    try:
        with db.unit_of_work() as session:
            session.execute(update(ApiKey).values(name="renamed"))  # a bulk statement, then a failure
            raise RuntimeError("rolled back")
    except RuntimeError:
        pass
    assert len(seen) == 1  # nothing committed, nothing announced
    with db.unit_of_work() as session:
        session.execute(update(ApiKey).values(name="renamed"))
    assert seen[-1] == frozenset({"api_keys"})
    with db.unit_of_work() as session:  # a key's last use is bookkeeping, not an access change
        key_id = session.execute(select(ApiKey.id)).scalar_one()
        touch_key(session, key_id, now=utcnow())
    assert len(seen) == 2
    remove()
    with db.unit_of_work() as session:
        session.execute(update(ApiKey).values(name="again"))
    assert len(seen) == 2


_LEFT_BEHIND: list[frozenset[str]] = []


def test_a_hook_left_registered_by_one_test(db: Database) -> None:
    """The first half of a pair: an app of this test leaves its hook on the database (as apps do)."""
    db.on_commit(_LEFT_BEHIND.append)
    make_org(db, "acme")
    assert _LEFT_BEHIND


def test_does_not_fire_on_the_next_tests_commits(db: Database) -> None:
    """Each test's database is its own (PostgreSQL included, whose schema the session shares): a hook an
    earlier test left (a webhook dispatcher, an access cache) never sees this test's commits."""
    _LEFT_BEHIND.clear()
    make_org(db, "acme")
    assert _LEFT_BEHIND == []
