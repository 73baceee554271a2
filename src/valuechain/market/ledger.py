"""Double-entry ledger in integer micro-units: every transaction's entries sum to zero, at most one
transaction per idempotency key, and each account's ``balance`` equals the sum of its entries.

Accounts: ``wallet:<org>`` (what an org may spend), ``revenue:<org>`` (what a provider earned),
``promotions:<org>`` (a provider's free credits given away), ``cash:platform`` (money paid in).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, func, select, update
from sqlalchemy.orm import Session

from valuechain.core.bulk import BulkSql, Statements
from valuechain.core.clock import utcnow
from valuechain.core.errors import AppError, ValidationError
from valuechain.core.ids import new_id
from valuechain.market.models import LedgerAccount, LedgerEntry, LedgerTransaction


def wallet_code(org_id: str) -> str:
    return f"wallet:{org_id}"


def revenue_code(org_id: str) -> str:
    return f"revenue:{org_id}"


def promotions_code(org_id: str) -> str:
    return f"promotions:{org_id}"


CASH_CODE = "cash:platform"
FEES_CODE = "fees:platform"  # the platform's fee income: its cut of sales and of resold (white-label) usage


def ensure_account(
    session: Session, code: str, *, org_id: str | None, currency: str = "EUR"
) -> LedgerAccount:
    """The account with ``code``, created empty on first use."""
    account = session.execute(select(LedgerAccount).where(LedgerAccount.code == code)).scalar_one_or_none()
    if account is None:
        account = LedgerAccount(
            id=new_id("acc"), code=code, org_id=org_id, kind=code.partition(":")[0], currency=currency
        )
        session.add(account)
        session.flush()
    return account


def post(
    session: Session,
    *,
    idempotency_key: str,
    kind: str,
    postings: list[tuple[LedgerAccount, int]],
    org_id: str | None = None,
    memo: str = "",
    now: datetime | None = None,
    skip_balance: set[str] | frozenset[str] = frozenset(),
) -> LedgerTransaction | None:
    """Post a balanced transaction; None when ``idempotency_key`` was already posted (nothing changes).

    ``skip_balance``: accounts whose materialised balance the caller already moved (a guarded debit).
    """
    if sum(amount for _, amount in postings) != 0:
        raise ValidationError("ledger postings must sum to zero")
    if session.scalar(select(exists().where(LedgerTransaction.idempotency_key == idempotency_key))):
        return None
    tx = LedgerTransaction(
        id=new_id("ltx"),
        idempotency_key=idempotency_key,
        kind=kind,
        org_id=org_id,
        memo=memo,
        created_at=now or utcnow(),
    )
    session.add(tx)
    session.flush()
    for account, amount in postings:
        session.add(LedgerEntry(transaction_id=tx.id, account_id=account.id, amount=amount))
        if account.id in skip_balance:
            continue
        session.execute(
            update(LedgerAccount)
            .where(LedgerAccount.id == account.id)
            .values(balance=LedgerAccount.balance + amount)
        )
    session.flush()
    return tx


def wallet_balance(session: Session, org_id: str) -> int:
    """Posted balance of an org's wallet (0 when it has none)."""
    value = session.execute(
        select(LedgerAccount.balance).where(LedgerAccount.code == wallet_code(org_id))
    ).scalar_one_or_none()
    return int(value or 0)


def account_balance(session: Session, account_id: str) -> int:
    """Posted balance of one account (0 when it does not exist)."""
    value = session.execute(select(LedgerAccount.balance).where(LedgerAccount.id == account_id)).scalar()
    return int(value or 0)


def account_ids(session: Session, codes: list[str]) -> dict[str, str]:
    """The ids of the existing accounts among ``codes``, by code."""
    rows = session.execute(select(LedgerAccount.code, LedgerAccount.id).where(LedgerAccount.code.in_(codes)))
    return {code: account_id for code, account_id in rows}


@dataclass(frozen=True, slots=True)
class UsageCharge:
    """A metered request's charge: ``amount`` moves from the payer's account to the payee's."""

    transaction_id: str
    org_id: str
    payer_account_id: str
    payee_account_id: str
    amount: int
    memo: str
    created_at: datetime
    # further legs of the same transaction (payer account, payee account, amount): a white-label request
    # pays the reseller the customer price, then the reseller pays wholesale upstream and the platform fee
    splits: tuple[tuple[str, str, int], ...] = ()


def usage_charge_statements(sql: BulkSql, charges: list[UsageCharge]) -> Statements:
    """The statements that post usage charges, for a group commit the caller executes in its transaction.

    The ledger's own writer for the gateway's metering batch: one balanced transaction per charge (its
    request id is its idempotency key), two entries, and each account's balance moved by the batch's net.
    """
    charges = [c for c in charges if c.amount > 0]
    if not charges:
        return []
    tx_table, entry_table = LedgerTransaction.__table__, LedgerEntry.__table__
    deltas: dict[str, int] = {}
    txs, entries = [], []
    for c in charges:
        txs.append(
            sql.row(
                tx_table,
                {
                    "id": c.transaction_id,
                    "idempotency_key": c.transaction_id,
                    "kind": "usage",
                    "org_id": c.org_id,
                    "memo": c.memo[:500],
                    "created_at": c.created_at,
                },
            )
        )
        entries.append(
            {"transaction_id": c.transaction_id, "account_id": c.payer_account_id, "amount": -c.amount}
        )
        entries.append(
            {"transaction_id": c.transaction_id, "account_id": c.payee_account_id, "amount": c.amount}
        )
        deltas[c.payer_account_id] = deltas.get(c.payer_account_id, 0) - c.amount
        deltas[c.payee_account_id] = deltas.get(c.payee_account_id, 0) + c.amount
        for payer, payee, amount in c.splits:
            if amount <= 0:
                continue
            entries.append({"transaction_id": c.transaction_id, "account_id": payer, "amount": -amount})
            entries.append({"transaction_id": c.transaction_id, "account_id": payee, "amount": amount})
            deltas[payer] = deltas.get(payer, 0) - amount
            deltas[payee] = deltas.get(payee, 0) + amount
    balance = (
        f"UPDATE {LedgerAccount.__tablename__} SET balance = balance + {sql.param('delta')} "
        f"WHERE id = {sql.param('id')}"
    )
    return [
        *sql.insert_values(tx_table, txs),  # type: ignore[arg-type]
        *sql.insert_values(entry_table, entries, _ENTRY_COLUMNS),  # type: ignore[arg-type]
        (balance, [{"id": k, "delta": v} for k, v in deltas.items()]),
    ]


_ENTRY_COLUMNS = ("transaction_id", "account_id", "amount")


def grant_credits(
    session: Session,
    *,
    org_id: str,
    provider_org_id: str,
    amount: int,
    idempotency_key: str,
    memo: str,
    currency: str = "EUR",
) -> LedgerTransaction | None:
    """Free credits from a provider's promotions into an org's wallet."""
    wallet = ensure_account(session, wallet_code(org_id), org_id=org_id, currency=currency)
    promo = ensure_account(
        session, promotions_code(provider_org_id), org_id=provider_org_id, currency=currency
    )
    return post(
        session,
        idempotency_key=idempotency_key,
        kind="credit",
        org_id=org_id,
        memo=memo,
        postings=[(wallet, amount), (promo, -amount)],
    )


def top_up(
    session: Session, *, org_id: str, amount: int, idempotency_key: str, currency: str = "EUR"
) -> LedgerTransaction | None:
    """Money paid in by an org."""
    if amount <= 0:
        raise ValidationError("a top-up must be positive")
    wallet = ensure_account(session, wallet_code(org_id), org_id=org_id, currency=currency)
    cash = ensure_account(session, CASH_CODE, org_id=None, currency=currency)
    return post(
        session,
        idempotency_key=idempotency_key,
        kind="topup",
        org_id=org_id,
        memo="top-up",
        postings=[(wallet, amount), (cash, -amount)],
    )


@dataclass(frozen=True)
class LedgerCheck:
    """Result of ``verify``: empty ``problems`` means the ledger balances."""

    transactions: int
    problems: list[str]


def verify(session: Session) -> LedgerCheck:
    """Every transaction sums to zero and every account's balance equals the sum of its entries."""
    unbalanced = session.execute(
        select(LedgerEntry.transaction_id, func.sum(LedgerEntry.amount))
        .group_by(LedgerEntry.transaction_id)
        .having(func.sum(LedgerEntry.amount) != 0)
    ).all()
    problems = [f"transaction {tx} sums to {total}" for tx, total in unbalanced]
    sums = dict(
        session.execute(
            select(LedgerEntry.account_id, func.sum(LedgerEntry.amount)).group_by(LedgerEntry.account_id)
        ).all()
    )
    for account in session.execute(select(LedgerAccount)).scalars():
        if int(sums.get(account.id) or 0) != account.balance:
            problems.append(
                f"account {account.code} balance {account.balance} != entries {sums.get(account.id) or 0}"
            )
    count = session.execute(select(func.count()).select_from(LedgerTransaction)).scalar_one()
    return LedgerCheck(transactions=int(count), problems=problems)


def hold_code(org_id: str) -> str:
    """Money set aside for work in progress (a fine-tuning job), until it is settled."""
    return f"hold:{org_id}"


def place_hold(
    session: Session, *, org_id: str, amount: int, idempotency_key: str, memo: str, currency: str = "EUR"
) -> bool:
    """Move ``amount`` from the org's wallet to its hold account; False (nothing moves) when the wallet's
    posted balance does not cover it."""
    if amount <= 0:
        return True
    wallet = ensure_account(session, wallet_code(org_id), org_id=org_id, currency=currency)
    session.refresh(wallet, with_for_update=True)  # no two holds spend the same balance
    if wallet.balance < amount:
        return False
    held = ensure_account(session, hold_code(org_id), org_id=org_id, currency=currency)
    post(
        session,
        idempotency_key=idempotency_key,
        kind="hold",
        org_id=org_id,
        memo=memo,
        postings=[(wallet, -amount), (held, amount)],
    )
    return True


def settle_hold(
    session: Session,
    *,
    org_id: str,
    provider_org_id: str,
    held: int,
    charge: int,
    idempotency_key: str,
    memo: str,
    currency: str = "EUR",
) -> int:
    """Pay ``charge`` (at most ``held``) from the hold to the provider's revenue and return the rest to the
    wallet, once per ``idempotency_key``; the amount charged."""
    if held <= 0:
        return 0
    charge = max(0, min(charge, held))
    wallet = ensure_account(session, wallet_code(org_id), org_id=org_id, currency=currency)
    hold = ensure_account(session, hold_code(org_id), org_id=org_id, currency=currency)
    revenue = ensure_account(
        session, revenue_code(provider_org_id), org_id=provider_org_id, currency=currency
    )
    postings = [(hold, -held), (revenue, charge), (wallet, held - charge)]
    post(
        session,
        idempotency_key=idempotency_key,
        kind="settle",
        org_id=org_id,
        memo=memo,
        postings=[(a, v) for a, v in postings if v != 0],
    )
    return charge


def allowance_code(org_id: str, offer_id: str) -> str:
    """Tokens of a subscription still included this month (currency ``TOK``)."""
    return f"allowance:{org_id}:{offer_id}"


def allowance_source_code(provider_org_id: str) -> str:
    """Where a provider's included tokens come from and go back to (currency ``TOK``)."""
    return f"allowance-source:{provider_org_id}"


class InsufficientCreditError(AppError):
    """The wallet holds less than the price: nothing is charged (add credits first)."""

    status_code = 402
    code = "insufficient_credit"


def spend(
    session: Session,
    *,
    idempotency_key: str,
    kind: str,
    payer_org_id: str,
    payees: list[tuple[LedgerAccount, int]],
    memo: str,
    currency: str = "EUR",
    now: datetime | None = None,
) -> LedgerTransaction | None:
    """Move the payees' total out of the payer's wallet, only if the wallet covers it (else nothing moves).

    The wallet is debited by one conditional UPDATE first, so concurrent spends cannot overdraw it.
    """
    total = sum(amount for _, amount in payees)
    wallet = ensure_account(session, wallet_code(payer_org_id), org_id=payer_org_id, currency=currency)
    if session.scalar(
        select(LedgerTransaction.id).where(LedgerTransaction.idempotency_key == idempotency_key)
    ):
        return None
    debited = session.execute(
        update(LedgerAccount)
        .where(LedgerAccount.id == wallet.id, LedgerAccount.balance >= total)
        .values(balance=LedgerAccount.balance - total)
    )
    if debited.rowcount != 1:  # type: ignore[attr-defined]
        raise InsufficientCreditError(
            f"the wallet holds {format_amount(account_balance(session, wallet.id), currency)}, "
            f"{format_amount(total, currency)} is needed; ask the operator for credits "
            "(`valuechain credits grant`)"
        )
    # the debit already moved the balance: post its entry without moving it again
    tx = post(
        session,
        idempotency_key=idempotency_key,
        kind=kind,
        org_id=payer_org_id,
        memo=memo,
        postings=[(wallet, -total), *payees],
        now=now,
        skip_balance={wallet.id},
    )
    return tx


def format_amount(micros: int, currency: str = "EUR") -> str:
    """Micro-units as a decimal amount with its currency (``12.50 EUR``)."""
    sign = "-" if micros < 0 else ""
    whole, frac = divmod(abs(micros), MICROS)
    cents = frac // 10_000
    return f"{sign}{whole}.{cents:02d} {currency}"


MICROS = 1_000_000
