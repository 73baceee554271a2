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
