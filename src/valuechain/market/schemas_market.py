"""Request and response bodies of the marketplace's REST routes (issue 11)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from valuechain.core.schema import InputModel
from valuechain.market.listings import ListingRecord
from valuechain.market.purchases import LicenceRecord
from valuechain.market.sales import Trace
from valuechain.market.statements import WalletStatement


class GrantBody(InputModel):
    """Credits the operator grants."""

    org: str = Field(description="The organisation's slug.")
    amount: int = Field(gt=0, le=10**15, description="Micro-units (1 EUR = 1_000_000).")
    idempotency_key: str = Field(
        min_length=1, max_length=100, description="A retry with the same key grants once."
    )
    memo: str = Field(default="", max_length=400)


class BuyBody(InputModel):
    """What the buyer saw: the purchase is refused (409) if the price changed since."""

    price: int = Field(ge=0, le=10**15, description="The listing's price the buyer agreed to (micro-units).")
    auto_renew: bool = Field(default=False, description="Subscriptions: renew at each period's end.")


class StatementLine(BaseModel):
    id: int
    at: datetime
    kind: str
    memo: str
    amount: int


class StatementPublic(BaseModel):
    """A wallet: balance and ledger lines (micro-units), ``next_before`` pages on."""

    balance: int
    currency: str
    lines: list[StatementLine]
    next_before: int | None

    @classmethod
    def of(cls, s: WalletStatement) -> StatementPublic:
        return cls(
            balance=s.balance,
            currency=s.currency,
            lines=[StatementLine.model_validate(asdict(x)) for x in s.lines],
            next_before=s.next_before,
        )


class ListingPublic(BaseModel):
    """A marketplace listing."""

    id: str
    offer: str
    model: str
    seller: str
    kind: str
    title: str
    description: str
    currency: str
    price: int = Field(description="Micro-units per purchase or per period.")
    price_text: str
    period_seconds: int | None
    stock: int | None
    sold: int
    licence: str
    terms: str
    shares: list[dict[str, Any]]
    fee_bps: int = Field(description="The platform's fee in basis points.")
    status: str
    created_at: datetime

    @classmethod
    def of(cls, r: ListingRecord) -> ListingPublic:
        return cls.model_validate(asdict(r))


class LicencePublic(BaseModel):
    """A licence bought in the marketplace."""

    id: str
    listing: str
    offer: str
    kind: str
    buyer: str
    seller: str
    status: str
    starts_at: datetime
    expires_at: datetime | None
    auto_renew: bool
    is_active: bool
    charge: str | None = Field(default=None, description="The charge of this purchase or renewal.")
    amount: int | None = None

    @classmethod
    def of(cls, r: LicenceRecord) -> LicencePublic:
        return cls.model_validate(asdict(r))


class TracePublic(BaseModel):
    """Whose copy a file is."""

    licence_id: str
    buyer: str
    offer: str
    seller: str
    sold_at: datetime
    matched_by: str

    @classmethod
    def of(cls, t: Trace) -> TracePublic:
        return cls.model_validate(asdict(t))
