"""Subscription plans: the fee is charged monthly, included tokens are used before prices apply."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from tests.gateway.conftest import MODEL, World, _org_id, default_terms, setup_world
from tests.gateway.helpers import set_wallet
from tests.ledger import assert_ledger_balances
from valuechain.core.db import Database
from valuechain.core.settings import Settings
from valuechain.gateway.models import UsageRecord
from valuechain.market import ledger
from valuechain.market.models import LedgerAccount
from valuechain.market.subscriptions import renew_all
from valuechain.market.terms import PricePlan


def _balance(db: Database, code: str) -> int:
    with db.session() as session:
        return int(
            session.execute(select(LedgerAccount.balance).where(LedgerAccount.code == code)).scalar_one()
        )


async def _chat(world: World) -> None:
    await world.client().chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "hi"}], max_tokens=4
    )


async def test_included_tokens_then_prices(db: Database, settings: Settings) -> None:
    plan = PricePlan(
        free_credits=0,
        subscription_monthly=3_000_000,
        included_tokens_monthly=60,
        input_per_mtok=1_000_000,
        output_per_mtok=1_000_000,
    )
    world = setup_world(db, settings, default_terms(plan=plan))
    dev, acme = _org_id(db, "devco"), _org_id(db, "acme")
    allowance = ledger.allowance_code(dev, world.offer_id)
    assert _balance(db, ledger.wallet_code(dev)) == -3_000_000  # the first month's fee
    assert _balance(db, ledger.revenue_code(acme)) == 3_000_000
    assert _balance(db, allowance) == 60
    set_wallet(world, 1_000)
    await world.gateway.admission.reservations.invalidate(dev)
    for _ in range(5):
        await _chat(world)  # each holds 32 tokens (prompt estimate 28 + 4) and uses 10 (fake backend)
    assert _balance(db, allowance) == 30  # 60 → 50 → 40 → 30; then 30 < 32: priced instead
    with db.session() as session:
        costs = [c for (c,) in session.execute(select(UsageRecord.cost).order_by(UsageRecord.created_at))]
        assert ledger.verify(session).problems == []
    assert costs[:3] == [0, 0, 0] and all(c > 0 for c in costs[3:])
    assert _balance(db, ledger.wallet_code(dev)) == 1_000 - sum(costs)
    assert_ledger_balances(db)
    await world.gateway.close()


async def test_renewal_is_monthly_and_idempotent(db: Database, settings: Settings) -> None:
    plan = PricePlan(subscription_monthly=2_000_000, included_tokens_monthly=100)
    world = setup_world(db, settings, default_terms(plan=plan))
    dev = _org_id(db, "devco")
    next_month = datetime(2099, 1, 15, tzinfo=UTC)
    with db.unit_of_work() as session:
        assert renew_all(session, now=next_month) == 1
    with db.unit_of_work() as session:
        assert renew_all(session, now=next_month) == 0
    assert _balance(db, ledger.wallet_code(dev)) == -4_000_000
    assert _balance(db, ledger.allowance_code(dev, world.offer_id)) == 100
    assert_ledger_balances(db)
    await world.gateway.close()
