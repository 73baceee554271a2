"""What the web console shows of the market: an organisation's wallet statement and entitlement lists.

Typed records, paged on indexed columns; every read is authorized through ``accounts.authz``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from valuechain.accounts.authz import Action, authorize
from valuechain.accounts.directory import slugs_for_ids
from valuechain.accounts.principal import Principal
from valuechain.market import ledger
from valuechain.market.models import Entitlement, LedgerAccount, LedgerEntry, LedgerTransaction
from valuechain.registry.catalogue import version_refs
from valuechain.registry.service import offer_ids_by, offer_records

PAGE_MAX = 200


@dataclass(frozen=True, slots=True)
class LedgerLine:
    """One posting on the wallet: positive adds credit, negative spends it (micro-units)."""

    id: int
    at: datetime
    kind: str
    memo: str
    amount: int


@dataclass(frozen=True, slots=True)
class WalletStatement:
    balance: int
    currency: str
    lines: list[LedgerLine]
    next_before: int | None


def wallet_statement(
    session: Session, *, principal: Principal, before: int | None = None, limit: int = 50
) -> WalletStatement:
    """The caller's organisation's wallet: balance and postings, newest first, paged by entry id."""
    authorize(principal, Action.usage_read)
    limit = max(1, min(limit, PAGE_MAX))
    account = session.execute(
        select(LedgerAccount.id, LedgerAccount.currency, LedgerAccount.balance).where(
            LedgerAccount.code == ledger.wallet_code(principal.org_id)
        )
    ).first()
    if account is None:
        return WalletStatement(0, "EUR", [], None)
    query = (
        select(
            LedgerEntry.id,
            LedgerTransaction.created_at,
            LedgerTransaction.kind,
            LedgerTransaction.memo,
            LedgerEntry.amount,
        )
        .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
        .where(LedgerEntry.account_id == account.id)
        .order_by(LedgerEntry.id.desc())
        .limit(limit + 1)
    )
    if before is not None:
        query = query.where(LedgerEntry.id < before)
    rows = [LedgerLine(*row) for row in session.execute(query)]
    more = len(rows) > limit
    rows = rows[:limit]
    return WalletStatement(int(account.balance), account.currency, rows, rows[-1].id if more else None)


@dataclass(frozen=True, slots=True)
class EntitlementRow:
    """An entitlement with the names a person reads: which model, whose offer, which organisation."""

    id: str
    offer_id: str
    model: str
    provider: str
    org: str
    status: str
    requested_at: datetime
    decided_at: datetime | None
    note: str | None


def entitlement_rows(
    session: Session,
    *,
    principal: Principal,
    side: str = "consumer",
    status: str | None = None,
    limit: int = 100,
) -> list[EntitlementRow]:
    """The caller's own entitlements (``consumer``) or the requests on its offers (``provider``)."""
    authorize(principal, Action.entitlement_read)
    query = select(Entitlement).order_by(Entitlement.requested_at.desc()).limit(max(1, min(limit, PAGE_MAX)))
    if side == "provider":
        if not principal.is_operator:
            query = query.where(Entitlement.offer_id.in_(offer_ids_by(principal.org_id)))
    elif not principal.is_operator:
        query = query.where(Entitlement.org_id == principal.org_id)
    if status:
        query = query.where(Entitlement.status == status)
    ents = list(session.scalars(query))
    offers = offer_records(session, (e.offer_id for e in ents))
    refs = version_refs(session, (o.version_id for o in offers.values()))
    slugs = slugs_for_ids(session, {*(e.org_id for e in ents), *(o.by_org_id for o in offers.values())})
    rows = []
    for e in ents:
        offer = offers.get(e.offer_id)
        rows.append(
            EntitlementRow(
                id=e.id,
                offer_id=e.offer_id,
                model=refs.get(offer.version_id, "") if offer else "",
                provider=slugs.get(offer.by_org_id, "") if offer else "",
                org=slugs.get(e.org_id, ""),
                status=e.status,
                requested_at=e.requested_at,
                decided_at=e.decided_at,
                note=e.note,
            )
        )
    return rows


def my_statuses(session: Session, *, principal: Principal, offer_ids: list[str]) -> dict[str, str]:
    """The caller's organisation's entitlement status for each of the given offers (absent: none)."""
    if not offer_ids or not principal.org_id:
        return {}
    rows = session.execute(
        select(Entitlement.offer_id, Entitlement.status).where(
            Entitlement.org_id == principal.org_id, Entitlement.offer_id.in_(offer_ids)
        )
    )
    return dict(rows.all())
