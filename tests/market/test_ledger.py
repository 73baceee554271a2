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


def _execute(db: Database, statements: list[tuple[str, object]]) -> None:
    """Run pre-written statements as the gateway's metering writer does, on a raw DBAPI connection."""
    conn = db.engine.raw_connection()
    try:
        cur = conn.cursor()
        for statement, params in statements:
            if isinstance(params, tuple):
                cur.execute(statement, params)
            elif params:
                cur.executemany(statement, params)
        conn.commit()
    finally:
        conn.close()


def test_usage_charges_post_balanced_transactions_and_move_balances(db: Database) -> None:
    """The metering batch's ledger statements: one ``usage`` transaction per charge (its request id is
    its idempotency key), two entries, each account moved by the batch's net; nothing for zero."""
    from datetime import UTC, datetime

    from valuechain.core.bulk import BulkSql
    from valuechain.market.models import LedgerEntry, LedgerTransaction

    org_id = _buyer(db)
    with db.unit_of_work() as session:
        wallet = ledger.ensure_account(session, ledger.wallet_code(org_id), org_id=org_id)
        revenue = ledger.ensure_account(session, ledger.revenue_code(org_id), org_id=org_id)
        other = ledger.ensure_account(session, ledger.promotions_code(org_id), org_id=org_id)
    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    charges = [
        ledger.UsageCharge("usage:req_1", org_id, wallet.id, revenue.id, 30, "chat/completions m", at),
        ledger.UsageCharge("usage:req_2", org_id, wallet.id, revenue.id, 12, "x" * 600, at),
        ledger.UsageCharge("usage:req_3", org_id, wallet.id, revenue.id, 0, "free", at),
        ledger.UsageCharge("usage:req_4", org_id, wallet.id, other.id, 1, "one", at),
    ]
    assert ledger.usage_charge_statements(BulkSql(sqlite=db.is_sqlite), charges[2:3]) == []
    _execute(db, ledger.usage_charge_statements(BulkSql(sqlite=db.is_sqlite), charges))
    with db.session() as session:
        txs = session.query(LedgerTransaction).order_by(LedgerTransaction.id).all()
        assert [(t.id, t.idempotency_key, t.kind, t.org_id, t.created_at) for t in txs] == [
            ("usage:req_1", "usage:req_1", "usage", org_id, at),
            ("usage:req_2", "usage:req_2", "usage", org_id, at),
            ("usage:req_4", "usage:req_4", "usage", org_id, at),
        ]
        assert (txs[0].memo, txs[1].memo) == ("chat/completions m", "x" * 500)
        entries = session.query(LedgerEntry).order_by(LedgerEntry.id).all()
        assert [(e.transaction_id, e.account_id, e.amount) for e in entries] == [
            ("usage:req_1", wallet.id, -30),
            ("usage:req_1", revenue.id, 30),
            ("usage:req_2", wallet.id, -12),
            ("usage:req_2", revenue.id, 12),
            ("usage:req_4", wallet.id, -1),
            ("usage:req_4", other.id, 1),
        ]
        balances = {a.id: a.balance for a in session.query(LedgerAccount)}
        assert (balances[wallet.id], balances[revenue.id], balances[other.id]) == (-43, 42, 1)
        assert ledger.verify(session).problems == []


def test_credits_move_from_the_providers_promotions_to_the_wallet(db: Database) -> None:
    from datetime import UTC, datetime

    from valuechain.market.models import LedgerTransaction

    org_id = _buyer(db)
    make_org(db, "seller")
    with db.session() as session:
        from valuechain.accounts.models import Organization

        seller = session.query(Organization.id).filter_by(slug="seller").scalar()
    with db.unit_of_work() as session:
        tx = ledger.grant_credits(session, org_id=org_id, provider_org_id=seller, amount=70,
                                  idempotency_key="g1", memo="welcome", currency="USD")  # fmt: skip
        assert tx is not None
        again = ledger.grant_credits(session, org_id=org_id, provider_org_id=seller, amount=70,
                                     idempotency_key="g1", memo="welcome")  # fmt: skip
        assert again is None
        at = datetime(2026, 5, 6, tzinfo=UTC)
        wallet = ledger.ensure_account(session, ledger.wallet_code(org_id), org_id=org_id)
        cash = ledger.ensure_account(session, ledger.CASH_CODE, org_id=None)
        posted = ledger.post(session, idempotency_key="adj", kind="adjustment", org_id=org_id, memo="fix",
                             now=at, postings=[(wallet, -5), (cash, 5)])  # fmt: skip
        assert posted is not None
    with db.session() as session:
        stored = session.query(LedgerTransaction).filter_by(idempotency_key="g1").one()
        assert (stored.kind, stored.org_id, stored.memo) == ("credit", org_id, "welcome")
        adj = session.query(LedgerTransaction).filter_by(idempotency_key="adj").one()
        assert (adj.kind, adj.org_id, adj.memo, adj.created_at) == ("adjustment", org_id, "fix", at)
        promo = ledger.ensure_account(session, ledger.promotions_code(seller), org_id=seller)
        assert (promo.balance, promo.currency, promo.org_id, promo.kind) == (-70, "USD", seller, "promotions")
        assert ledger.wallet_balance(session, org_id) == 65
        wallet = ledger.ensure_account(session, ledger.wallet_code(org_id), org_id=None)
        assert (wallet.currency, wallet.org_id, wallet.kind) == ("USD", org_id, "wallet")
        wallet_id = wallet.id
        assert ledger.account_balance(session, wallet_id) == 65
        codes = [ledger.wallet_code(org_id), ledger.promotions_code(seller), "wallet:nobody"]
        assert ledger.account_ids(session, codes) == {codes[0]: wallet_id, codes[1]: promo.id}
        assert ledger.verify(session).problems == []


def test_accounts_are_made_once_with_their_kind_and_currency(db: Database) -> None:
    from valuechain.market.models import LedgerTransaction

    org_id = _buyer(db)
    with db.unit_of_work() as session:
        tokens = ledger.ensure_account(session, ledger.allowance_code(org_id, "off_1"), org_id=org_id)
        assert tokens.id.startswith("acc_")
        assert (tokens.kind, tokens.currency, tokens.balance, tokens.org_id) == (
            "allowance",
            "EUR",
            0,
            org_id,
        )
        again = ledger.ensure_account(
            session, ledger.allowance_code(org_id, "off_1"), org_id=None, currency="TOK"
        )
        assert again.id == tokens.id and again.currency == "EUR"
        source = ledger.ensure_account(session, ledger.allowance_source_code(org_id), org_id=org_id)
        assert source.kind == "allowance-source"
        tx = ledger.post(session, idempotency_key="p1", kind="grant", postings=[(tokens, 5), (source, -5)])
        assert tx is not None and tx.id.startswith("ltx_")
        with pytest.raises(ValidationError) as raised:
            ledger.post(session, idempotency_key="p2", kind="grant", postings=[(tokens, 5)])
        assert raised.value.message == "ledger postings must sum to zero"
    with db.session() as session:
        stored = session.query(LedgerTransaction).filter_by(idempotency_key="p1").one()
        assert (stored.memo, stored.org_id) == ("", None)


def test_credits_are_in_euro_unless_said_otherwise(db: Database) -> None:
    org_id = _buyer(db)
    make_org(db, "seller")
    with db.session() as session:
        from valuechain.accounts.models import Organization

        seller = session.query(Organization.id).filter_by(slug="seller").scalar()
    with db.unit_of_work() as session:
        ledger.grant_credits(session, org_id=org_id, provider_org_id=seller, amount=3, idempotency_key="g",
                             memo="hi")  # fmt: skip
    with db.session() as session:
        wallet = ledger.ensure_account(session, ledger.wallet_code(org_id), org_id=None, currency="TOK")
        promo = ledger.ensure_account(session, ledger.promotions_code(seller), org_id=None, currency="TOK")
        assert (wallet.currency, promo.currency) == ("EUR", "EUR")
