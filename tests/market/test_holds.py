"""Holds for work in progress (fine-tuning jobs, issue 12): taken from the wallet only when covered, settled
once to the provider's revenue for what was done, the rest returned; fine-tuning prices round up."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.conftest import make_org
from valuechain.accounts.models import Organization
from valuechain.core.db import Database
from valuechain.market import ledger
from valuechain.market.terms import FineTuningTerms


def _ids(db: Database) -> tuple[str, str]:
    make_org(db, "buyer")
    make_org(db, "seller")
    with db.session() as session:
        rows = dict(session.execute(select(Organization.slug, Organization.id)).all())
    return rows["buyer"], rows["seller"]


def _balance(db: Database, code: str) -> int:
    with db.session() as session:
        ids = ledger.account_ids(session, [code])
        return ledger.account_balance(session, ids[code]) if code in ids else 0


@pytest.mark.parametrize(("tokens", "cost"), [(0, 0), (1, 3), (1_000_000, 2_500_000), (333_333, 833_333)])
def test_trained_tokens_are_priced_per_million_rounded_up(tokens: int, cost: int) -> None:
    assert FineTuningTerms(trained_per_mtok=2_500_000).cost(tokens) == cost


def test_a_hold_is_refused_beyond_the_wallet_and_moves_nothing(db: Database) -> None:
    buyer, _ = _ids(db)
    with db.unit_of_work() as session:
        ledger.top_up(session, org_id=buyer, amount=100, idempotency_key="t")
        assert not ledger.place_hold(session, org_id=buyer, amount=101, idempotency_key="h", memo="job")
    assert _balance(db, ledger.wallet_code(buyer)) == 100 and _balance(db, ledger.hold_code(buyer)) == 0


def test_settlement_charges_what_was_done_once_and_returns_the_rest(db: Database) -> None:
    buyer, seller = _ids(db)
    with db.unit_of_work() as session:
        ledger.top_up(session, org_id=buyer, amount=1_000, idempotency_key="t")
        assert ledger.place_hold(session, org_id=buyer, amount=600, idempotency_key="h", memo="job")
    assert (_balance(db, ledger.wallet_code(buyer)), _balance(db, ledger.hold_code(buyer))) == (400, 600)
    with db.unit_of_work() as session:
        charged = ledger.settle_hold(
            session,
            org_id=buyer,
            provider_org_id=seller,
            held=600,
            charge=250,
            idempotency_key="s",
            memo="job",
        )
        again = ledger.settle_hold(
            session,
            org_id=buyer,
            provider_org_id=seller,
            held=600,
            charge=250,
            idempotency_key="s",
            memo="job",
        )
    assert charged == 250 and again == 250  # the second posting is a no-op (same idempotency key)
    assert _balance(db, ledger.wallet_code(buyer)) == 750
    assert _balance(db, ledger.hold_code(buyer)) == 0
    assert _balance(db, ledger.revenue_code(seller)) == 250
    with db.session() as session:
        assert ledger.verify(session).problems == []


def test_a_charge_above_the_hold_is_capped_at_the_hold(db: Database) -> None:
    buyer, seller = _ids(db)
    with db.unit_of_work() as session:
        ledger.top_up(session, org_id=buyer, amount=100, idempotency_key="t")
        ledger.place_hold(session, org_id=buyer, amount=80, idempotency_key="h", memo="job")
        assert (
            ledger.settle_hold(
                session,
                org_id=buyer,
                provider_org_id=seller,
                held=80,
                charge=500,
                idempotency_key="s",
                memo="job",
            )
            == 80
        )
    assert _balance(db, ledger.wallet_code(buyer)) == 20 and _balance(db, ledger.revenue_code(seller)) == 80
