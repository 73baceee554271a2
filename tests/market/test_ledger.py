"""The double-entry ledger: balanced, idempotent, tamper-evident; plan pricing rounds up."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from tests.conftest import make_org
from valuechain.core.db import Database
from valuechain.core.errors import ValidationError
from valuechain.market import ledger
from valuechain.market.models import LedgerAccount
from valuechain.market.terms import PricePlan


def test_cost_rounds_up_in_micro_units() -> None:
    plan = PricePlan(input_per_mtok=150_000, output_per_mtok=600_000)
    assert plan.cost(10, 0) == 2  # 1.5 micro-units → 2
    assert plan.cost(1_000_000, 1_000_000) == 750_000
    assert PricePlan().cost(10**6, 10**6) == 0


def test_postings_balance_and_are_idempotent(db: Database) -> None:
    make_org(db, "buyer")
    with db.unit_of_work() as session:
        from valuechain.accounts.models import Organization

        org_id = session.query(Organization.id).filter_by(slug="buyer").scalar()
        assert ledger.top_up(session, org_id=org_id, amount=500, idempotency_key="t1") is not None
        assert ledger.top_up(session, org_id=org_id, amount=500, idempotency_key="t1") is None
        wallet = ledger.ensure_account(session, ledger.wallet_code(org_id), org_id=org_id)
        cash = ledger.ensure_account(session, ledger.CASH_CODE, org_id=None)
        with pytest.raises(ValidationError):
            ledger.post(session, idempotency_key="bad", kind="adjustment", postings=[(wallet, 1), (cash, 0)])
    with db.session() as session:
        assert ledger.wallet_balance(session, org_id) == 500
        assert ledger.verify(session).problems == []


def test_verify_detects_a_tampered_balance(db: Database) -> None:
    make_org(db, "buyer")
    with db.unit_of_work() as session:
        from valuechain.accounts.models import Organization

        org_id = session.query(Organization.id).filter_by(slug="buyer").scalar()
        ledger.top_up(session, org_id=org_id, amount=100, idempotency_key="t")
        session.execute(update(LedgerAccount).values(balance=LedgerAccount.balance + 1))
    with db.session() as session:
        assert ledger.verify(session).problems


@pytest.mark.parametrize("amount", [0, -1])
def test_a_top_up_must_be_positive(db: Database, amount: int) -> None:
    make_org(db, "buyer")
    with db.unit_of_work() as session:
        from valuechain.accounts.models import Organization

        org_id = session.query(Organization.id).filter_by(slug="buyer").scalar()
        with pytest.raises(ValidationError, match="positive"):
            ledger.top_up(session, org_id=org_id, amount=amount, idempotency_key="t")
    with db.session() as session:
        assert ledger.wallet_balance(session, org_id) == 0


def test_a_top_up_credits_the_org_wallet_from_cash(db: Database) -> None:
    """The smallest top-up (one micro-unit) is accepted, booked as the org's ``topup`` from cash."""
    from valuechain.market.models import LedgerTransaction

    make_org(db, "buyer")
    with db.unit_of_work() as session:
        from valuechain.accounts.models import Organization

        org_id = session.query(Organization.id).filter_by(slug="buyer").scalar()
        tx = ledger.top_up(session, org_id=org_id, amount=1, idempotency_key="t")
        assert tx is not None
    with db.session() as session:
        assert ledger.wallet_balance(session, org_id) == 1
        wallet = ledger.ensure_account(session, ledger.wallet_code(org_id), org_id=org_id)
        assert (wallet.org_id, wallet.currency) == (org_id, "EUR")
        stored = session.query(LedgerTransaction).filter_by(idempotency_key="t").one()
        assert (stored.org_id, stored.kind, stored.memo) == (org_id, "topup", "top-up")
        assert ledger.verify(session).problems == []


def _buyer(db: Database) -> str:
    from valuechain.accounts.models import Organization

    make_org(db, "buyer")
    with db.session() as session:
        return session.query(Organization.id).filter_by(slug="buyer").scalar()


def test_balances_of_missing_accounts_are_zero(db: Database) -> None:
    with db.session() as session:
        assert ledger.account_balance(session, "acc_missing") == 0
        assert ledger.wallet_balance(session, "org_missing") == 0


def test_a_top_up_is_booked_in_its_currency(db: Database) -> None:
    org_id = _buyer(db)
    with db.unit_of_work() as session:
        ledger.top_up(session, org_id=org_id, amount=5, idempotency_key="usd", currency="USD")
        with pytest.raises(ValidationError) as raised:
            ledger.top_up(session, org_id=org_id, amount=0, idempotency_key="zero")
        assert raised.value.message == "a top-up must be positive"
    with db.session() as session:
        wallet = ledger.ensure_account(session, ledger.wallet_code(org_id), org_id=org_id)
        cash = ledger.ensure_account(session, ledger.CASH_CODE, org_id=None)
        assert (wallet.currency, cash.currency, cash.org_id, cash.kind) == ("USD", "USD", None, "cash")
        assert (wallet.balance, cash.balance) == (5, -5)


def test_verify_names_each_problem_and_counts_transactions(db: Database) -> None:
    from valuechain.market.models import LedgerEntry, LedgerTransaction

    org_id = _buyer(db)
    with db.unit_of_work() as session:
        ledger.top_up(session, org_id=org_id, amount=100, idempotency_key="t1")
        ledger.top_up(session, org_id=org_id, amount=20, idempotency_key="t2")
        ledger.ensure_account(session, ledger.revenue_code(org_id), org_id=org_id)  # no entries, balance 0
    with db.session() as session:
        check = ledger.verify(session)
        assert (check.transactions, check.problems) == (2, [])
    with db.unit_of_work() as session:
        tx = session.query(LedgerTransaction).filter_by(idempotency_key="t2").one()
        wallet = ledger.ensure_account(session, ledger.wallet_code(org_id), org_id=org_id)
        session.add(LedgerEntry(transaction_id=tx.id, account_id=wallet.id, amount=1))  # unbalanced, unbooked
        promo = ledger.ensure_account(session, ledger.promotions_code(org_id), org_id=org_id)
        session.execute(update(LedgerAccount).where(LedgerAccount.id == promo.id).values(balance=5))
        tx_id = tx.id
    with db.session() as session:
        check = ledger.verify(session)
    assert check.transactions == 2
    assert sorted(check.problems) == sorted(
        [
            f"transaction {tx_id} sums to 1",
            f"account wallet:{org_id} balance 120 != entries 121",
            f"account promotions:{org_id} balance 5 != entries 0",
        ]
    )
