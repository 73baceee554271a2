"""Ledger assertions shared by the flow tests (issue 11): the check `valuechain usage ledger-check` runs,
and a snapshot of everything a charge would change, to prove that a refused request charged nothing."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from valuechain.core.db import Database
from valuechain.gateway.models import UsageRecord
from valuechain.market import ledger
from valuechain.market.models import Charge, LedgerAccount, LedgerEntry, LedgerTransaction, Licence, Listing


def assert_ledger_balances(db: Database) -> ledger.LedgerCheck:
    """Every transaction sums to zero and every account's balance equals its entries (as `ledger-check`)."""
    with db.session() as session:
        check = ledger.verify(session)
    assert check.problems == [], check.problems
    return check


@dataclass(frozen=True)
class MoneySnapshot:
    """Every balance, and how many transactions, entries, charges, licences, sales and metered requests."""

    balances: dict[str, int]
    counts: dict[str, int]
    sold: dict[str, int]


def money_snapshot(db: Database) -> MoneySnapshot:
    """What a charge would change (compare two snapshots around a refused request)."""
    with db.session() as session:
        balances = {
            code: int(b) for code, b in session.execute(select(LedgerAccount.code, LedgerAccount.balance))
        }
        counts = {
            table.__tablename__: int(session.scalar(select(func.count()).select_from(table)) or 0)
            for table in (LedgerTransaction, LedgerEntry, Charge, Licence, UsageRecord)
        }
        sold = {lid: int(n) for lid, n in session.execute(select(Listing.id, Listing.sold))}
    return MoneySnapshot(balances, counts, sold)
