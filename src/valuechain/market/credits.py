"""Credits (issue 11): the operator grants them, payment providers (later adapters) pay them in; every
organisation reads its own balance and ledger. All of it through the double-entry ledger."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.orm import Session

from valuechain.accounts.authz import Action, authorize
from valuechain.accounts.directory import org_id_for_slug
from valuechain.accounts.principal import Principal
from valuechain.core.audit import record_event
from valuechain.core.errors import NotFoundError, ValidationError
from valuechain.market import ledger
from valuechain.market.statements import WalletStatement, wallet_statement

GRANTS_CODE = "grants:platform"  # where operator-granted credits come from (the platform's expense)


@dataclass(frozen=True, slots=True)
class Payment:
    """Money a payment provider confirmed: who paid, how much (micro-units), its own reference."""

    org_id: str
    amount: int
    currency: str
    reference: str


class PaymentProvider(Protocol):
    """A payment adapter (card, SEPA, invoice…): it confirms a payment; ``pay_in`` books it once."""

    name: str

    def confirm(self, reference: str) -> Payment:
        """The settled payment behind ``reference`` (raises an ``AppError`` if it did not settle)."""
        ...


def pay_in(session: Session, provider: PaymentProvider, reference: str) -> ledger.LedgerTransaction | None:
    """Book a settled payment into the payer's wallet, once per provider reference."""
    payment = provider.confirm(reference)
    return ledger.top_up(
        session,
        org_id=payment.org_id,
        amount=payment.amount,
        idempotency_key=f"payment:{provider.name}:{payment.reference}",
        currency=payment.currency,
    )


@dataclass(frozen=True, slots=True)
class Grant:
    org: str
    amount: int
    balance: int
    transaction: str | None


def grant(
    session: Session,
    org_slug: str,
    amount: int,
    *,
    principal: Principal,
    idempotency_key: str,
    memo: str = "",
    currency: str = "EUR",
) -> Grant:
    """The operator adds credits to an organisation's wallet (idempotent per key)."""
    authorize(principal, Action.credit_grant)
    if amount <= 0:
        raise ValidationError("a grant must be positive")
    org_id = org_id_for_slug(session, org_slug)
    if org_id is None:
        raise NotFoundError(f"organisation `{org_slug}` not found")
    wallet = ledger.ensure_account(session, ledger.wallet_code(org_id), org_id=org_id, currency=currency)
    source = ledger.ensure_account(session, GRANTS_CODE, org_id=None, currency=currency)
    tx = ledger.post(
        session,
        idempotency_key=f"grant:{idempotency_key}",
        kind="credit",
        org_id=org_id,
        memo=memo or "credits granted by the operator",
        postings=[(wallet, amount), (source, -amount)],
    )
    if tx is not None:
        record_event(
            session,
            actor=principal.actor,
            org_id=org_id,
            action="credits.grant",
            subject_type="organization",
            subject_id=org_id,
            after={"amount": amount, "currency": currency, "transaction": tx.id},
        )
    return Grant(org_slug, amount, ledger.wallet_balance(session, org_id), tx.id if tx else None)


def balance(
    session: Session, *, principal: Principal, before: int | None = None, limit: int = 50
) -> WalletStatement:
    """The caller's organisation's balance and ledger lines (its wallet statement)."""
    return wallet_statement(session, principal=principal, before=before, limit=limit)
