"""Helpers for gateway tests."""

from __future__ import annotations

from tests.gateway.conftest import World, _org_id
from valuechain.market import ledger


def drain_wallet(world: World, *, keep: int = 0) -> None:
    """Move everything but ``keep`` out of devco's wallet."""
    org_id = _org_id(world.db, "devco")
    with world.db.unit_of_work() as session:
        wallet = ledger.ensure_account(session, ledger.wallet_code(org_id), org_id=org_id)
        cash = ledger.ensure_account(session, ledger.CASH_CODE, org_id=None)
        amount = wallet.balance - keep
        ledger.post(
            session,
            idempotency_key=f"drain:{org_id}:{amount}",
            kind="adjustment",
            org_id=org_id,
            postings=[(wallet, -amount), (cash, amount)],
        )


def set_wallet(world: World, amount: int) -> None:
    drain_wallet(world)
    org_id = _org_id(world.db, "devco")
    with world.db.unit_of_work() as session:
        ledger.top_up(session, org_id=org_id, amount=amount, idempotency_key=f"topup:{org_id}:{amount}")


def fresh_minute(margin_s: float = 8.0) -> None:
    """Wait for the next minute when fewer than ``margin_s`` seconds remain in this one: per-minute limits
    use fixed windows, and a test that straddles two would see its counter reset."""
    import time

    left = 60 - time.time() % 60
    if left < margin_s:
        time.sleep(left + 0.05)
