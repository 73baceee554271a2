"""White label (issue 11): a provider's reseller agreement, the reseller's branded offer, its customers.

The consent is a registry agreement for the ``white_label`` channel; its commercial terms (wholesale
price, allowed markup, brand rules, cap on customers, expiry) are ``channel_reseller_terms``. The
reseller's offer is a registry ``white_label`` offer of the upstream version: the gateway routes it by
the reseller's model name to the upstream backend, and each request's ledger transaction carries the
customer price (customer → reseller), the wholesale price (reseller → provider) and the platform fee
(reseller → ``fees:platform``) as separate lines.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from valuechain.accounts.authz import Action, Resource, authorize
from valuechain.accounts.directory import org_id_for_slug, orgs_by_ids, slugs_for_ids
from valuechain.accounts.principal import Principal
from valuechain.accounts.roles import Role, Scope
from valuechain.accounts.schemas import KeyCreate
from valuechain.accounts.service import create_key
from valuechain.channels import events
from valuechain.channels.models import ResellerTerms
from valuechain.core.audit import record_event
from valuechain.core.clock import utcnow
from valuechain.core.errors import ConflictError, ForbiddenError, NotFoundError, ValidationError
from valuechain.core.schema import InputModel
from valuechain.market import ledger
from valuechain.market import service as market
from valuechain.market.terms import ApiTerms, PricePlan
from valuechain.registry import claims
from valuechain.registry.lifecycle import lifecycles
from valuechain.registry.manifest import Channel
from valuechain.registry.schemas import AgreementCreate, OfferCreate
from valuechain.registry.service import (
    create_offer,
    get_offer,
    list_offers,
    set_offer_terms,
    white_label_offer_ids,
)

SLUG = r"^[a-z0-9][a-z0-9-]{0,62}$"
# A million currency units per million tokens: marked up by the largest markup it still fits the ledger's
# 64-bit amounts with room for any request (a larger number was a 500 on PostgreSQL, "bigint out of range")
MAX_PRICE = 10**12
NAME = r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,119}$"


class BrandRules(InputModel):
    """What a reseller's brand and model name must respect."""

    forbidden_terms: list[str] = Field(
        default_factory=list, description="Words the brand and model name may not contain (any case)."
    )
    may_use_upstream_name: bool = Field(
        default=False, description="Whether the reseller's model name may contain the upstream model's name."
    )
    upstream_name_required: bool = Field(
        default=False,
        description="The reseller sells under the provider's name (as the brand) and the upstream model's "
        "name (in its model name): it then puts no name of its own on the model, so it is not its provider "
        "under Art. 3(3). Otherwise it resells under its own brand.",
    )

    @property
    def resale_brand(self) -> str:
        """What the compliance engine reads (``ResaleFact.brand``): ``upstream`` or ``own``."""
        return "upstream" if self.upstream_name_required else "own"


class ResellerGrant(InputModel):
    """A provider's white-label agreement with a reseller for one model."""

    reseller: str = Field(pattern=SLUG, description="The reseller organisation (slug).")
    model: str = Field(description="The provider's model, <org>/<name>.")
    wholesale_input_per_mtok: int = Field(
        ge=0, le=MAX_PRICE, description="Wholesale price per million input tokens (micro)."
    )
    wholesale_output_per_mtok: int = Field(
        ge=0, le=MAX_PRICE, description="Wholesale price per million output tokens (micro)."
    )
    max_markup_pct: int = Field(ge=0, le=10_000, description="Largest markup over wholesale, in percent.")
    max_customers: int = Field(ge=1, le=1_000_000, description="Cap on the reseller's customers.")
    brand_rules: BrandRules = Field(default_factory=BrandRules)
    expires_at: AwareDatetime | None = Field(default=None, description="End of the agreement.")


class WhiteLabelCreate(InputModel):
    """A reseller's listing of the upstream model under its own brand and name."""

    agreement: str = Field(description="The reseller agreement (agr_…).")
    model_name: str = Field(pattern=NAME, description="The name the reseller's customers call on /v1.")
    brand: str = Field(min_length=1, max_length=200, description="The brand it is marketed under.")
    markup_pct: int = Field(ge=0, description="Markup over the wholesale prices, in percent.")
    version: str | None = Field(default=None, description="Upstream version label; default the latest.")
    max_output_tokens: int = Field(default=1024, ge=1)


@dataclass(frozen=True, slots=True)
class ResellerRecord:
    """A reseller agreement with its commercial terms."""

    agreement_id: str
    provider: str
    reseller: str
    model: str
    wholesale_input_per_mtok: int
    wholesale_output_per_mtok: int
    max_markup_pct: int
    max_customers: int
    brand_rules: dict[str, Any]
    expires_at: datetime | None
    revoked: bool


@dataclass(frozen=True, slots=True)
class WhiteLabelRecord:
    """A reseller's white-label offer and its customer prices."""

    offer_id: str
    model_name: str
    brand: str
    upstream: str
    input_per_mtok: int
    output_per_mtok: int
    markup_pct: int
    customers: tuple[str, ...] = ()  # slugs, filled by ``list_white_labels``


@dataclass(frozen=True, slots=True)
class CustomerRecord:
    """A reseller's customer; ``secret`` only when a key was issued, in that answer only."""

    offer_id: str
    customer: str
    key_id: str | None = None
    secret: str | None = None


def grant_reseller(session: Session, data: ResellerGrant, *, principal: Principal) -> ResellerRecord:
    """The model's owner grants a reseller agreement (a registry agreement for ``white_label`` + terms)."""
    if data.expires_at is not None and data.expires_at <= utcnow():
        raise ValidationError("expires_at is in the past")
    agreement = claims.create_agreement(
        session,
        AgreementCreate(agent=data.reseller, model=data.model, channels=[Channel.white_label]),
        principal=principal,
    )
    assert agreement.model_id is not None  # a named model
    terms = ResellerTerms(
        agreement_id=agreement.id,
        provider_org_id=agreement.owner_org_id,
        reseller_org_id=agreement.agent_org_id,
        model_id=agreement.model_id,
        wholesale_input_per_mtok=data.wholesale_input_per_mtok,
        wholesale_output_per_mtok=data.wholesale_output_per_mtok,
        max_markup_pct=data.max_markup_pct,
        max_customers=data.max_customers,
        brand_rules=data.brand_rules.model_dump(mode="json"),
        expires_at=data.expires_at,
        created_at=utcnow(),
    )
    session.add(terms)
    session.flush()
    record_event(
        session,
        actor=principal.actor,
        org_id=agreement.owner_org_id,
        action=events.reseller_grant,
        subject_type="agreement",
        subject_id=agreement.id,
        after=data.model_dump(mode="json"),
    )
    return _reseller_record(session, terms, revoked=False)


def list_resellers(session: Session, *, principal: Principal) -> list[ResellerRecord]:
    """Reseller agreements the caller's organisation gave or holds."""
    agreements = {a.id: a for a in claims.list_agreements(session, principal=principal)}
    rows = session.scalars(
        select(ResellerTerms)
        .where(ResellerTerms.agreement_id.in_(list(agreements)))
        .order_by(ResellerTerms.created_at)
    )
    return [
        _reseller_record(session, t, revoked=agreements[t.agreement_id].revoked_at is not None) for t in rows
    ]


def _reseller_record(session: Session, t: ResellerTerms, *, revoked: bool) -> ResellerRecord:
    slugs = slugs_for_ids(session, [t.provider_org_id, t.reseller_org_id])
    model = next((v.model for v in lifecycles(session, [t.model_id])), t.model_id)
    return ResellerRecord(
        agreement_id=t.agreement_id,
        provider=slugs.get(t.provider_org_id, ""),
        reseller=slugs.get(t.reseller_org_id, ""),
        model=model,
        wholesale_input_per_mtok=t.wholesale_input_per_mtok,
        wholesale_output_per_mtok=t.wholesale_output_per_mtok,
        max_markup_pct=t.max_markup_pct,
        max_customers=t.max_customers,
        brand_rules=dict(t.brand_rules or {}),
        expires_at=t.expires_at,
        revoked=revoked,
    )


def _usable_terms(
    session: Session, agreement_id: str, *, principal: Principal, lock: bool = False
) -> ResellerTerms:
    """The reseller's own live agreement: another's answers as missing; revoked or expired is a 403.

    ``lock`` holds the row until the commit (PostgreSQL), so concurrent customer additions count in turn.
    """
    terms = session.get(ResellerTerms, agreement_id, with_for_update=lock or None)
    if terms is None or (terms.reseller_org_id != principal.org_id and not principal.is_operator):
        raise NotFoundError(f"reseller agreement {agreement_id} not found")
    agreement = next(
        (a for a in claims.list_agreements(session, principal=principal) if a.id == agreement_id), None
    )
    if agreement is None or agreement.revoked_at is not None:
        raise ForbiddenError(f"reseller agreement {agreement_id} was revoked by the provider")
    if terms.expires_at is not None and terms.expires_at <= utcnow():
        raise ForbiddenError(f"reseller agreement {agreement_id} expired at {terms.expires_at.isoformat()}")
    return terms


def _check_brand(session: Session, terms: ResellerTerms, data: WhiteLabelCreate, upstream: str) -> BrandRules:
    rules = BrandRules.model_validate(terms.brand_rules or {})
    text = f"{data.brand} {data.model_name}".lower()
    for word in rules.forbidden_terms:
        if word.strip() and word.lower() in text:
            raise ValidationError(f"the agreement's brand rules forbid `{word}` in the brand or model name")
    upstream_name = upstream.split("/")[-1].lower()
    if rules.upstream_name_required:
        provider = orgs_by_ids(session, [terms.provider_org_id]).get(terms.provider_org_id)
        names = {provider.slug.lower(), provider.name.strip().lower()} if provider else set()
        if data.brand.strip().lower() not in names or upstream_name not in data.model_name.lower():
            raise ValidationError(
                "the agreement's brand rules ask for the provider's name as the brand "
                f"({' or '.join(sorted(names))}) and the upstream model's name in yours"
            )
    elif not rules.may_use_upstream_name and upstream_name in data.model_name.lower():
        raise ValidationError("the agreement's brand rules forbid the upstream model's name in yours")
    return rules


def _marked_up(price: int, pct: int) -> int:
    return -(-price * (100 + pct) // 100)


def create_white_label(
    session: Session, data: WhiteLabelCreate, *, principal: Principal, fee_bps: int
) -> WhiteLabelRecord:
    """The reseller lists the upstream model under its brand and name, at wholesale plus its markup."""
    authorize(principal, Action.offer_write)
    terms = _usable_terms(session, data.agreement, principal=principal)
    if data.markup_pct > terms.max_markup_pct:
        raise ValidationError(
            f"markup {data.markup_pct}% is outside the agreement, "
            f"which allows at most {terms.max_markup_pct}%"
        )
    versions = [v for v in lifecycles(session, [terms.model_id]) if v.stage != "retired"]
    if data.version is not None:
        versions = [v for v in versions if v.label == data.version]
    if not versions:
        raise ValidationError("the upstream model has no version that can be resold")
    upstream = versions[-1]
    rules = _check_brand(session, terms, data, upstream.model)
    offer = create_offer(
        session,
        OfferCreate(model=upstream.ref, channel=Channel.white_label, brand=data.brand),  # type: ignore[call-arg]
        principal=principal,
    )
    price_in = _marked_up(terms.wholesale_input_per_mtok, data.markup_pct)
    price_out = _marked_up(terms.wholesale_output_per_mtok, data.markup_pct)
    customer = ApiTerms(
        access="approval",
        plan=PricePlan(input_per_mtok=price_in, output_per_mtok=price_out),
        max_output_tokens=data.max_output_tokens,
    )
    section = {
        "model_name": data.model_name,
        "agreement_id": terms.agreement_id,
        "upstream": upstream.ref,
        "upstream_org_id": terms.provider_org_id,
        "wholesale_input_per_mtok": terms.wholesale_input_per_mtok,
        "wholesale_output_per_mtok": terms.wholesale_output_per_mtok,
        "markup_pct": data.markup_pct,
        "fee_bps": fee_bps,
        "expires_at": terms.expires_at.isoformat() if terms.expires_at else None,
        "resale_brand": rules.resale_brand,  # a fact of the compliance engine (Art. 3(3), issue 13)
        "api": customer.model_dump(mode="json"),
    }
    set_offer_terms(session, offer.id, "white_label", section, principal=principal)
    for code, org_id in (
        (ledger.revenue_code(principal.org_id), principal.org_id),
        (ledger.revenue_code(terms.provider_org_id), terms.provider_org_id),
        (ledger.FEES_CODE, None),
    ):
        ledger.ensure_account(session, code, org_id=org_id)
    record_event(
        session,
        actor=principal.actor,
        org_id=principal.org_id,
        action=events.white_label_create,
        subject_type="offer",
        subject_id=offer.id,
        after={"model_name": data.model_name, "brand": data.brand, "markup_pct": data.markup_pct},
    )
    return WhiteLabelRecord(
        offer.id, data.model_name, data.brand, upstream.ref, price_in, price_out, data.markup_pct
    )


def _own_white_label(
    session: Session, offer_id: str, *, principal: Principal, lock: bool = False
) -> tuple[Any, ResellerTerms]:
    authorize(principal, Action.entitlement_manage)  # scope and role first, whatever the offer
    offer = get_offer(session, offer_id, principal=principal)
    if offer.channel != "white_label":
        raise NotFoundError(f"white-label offer {offer_id} not found")
    authorize(principal, Action.entitlement_manage, Resource("white-label offer", offer_id, offer.by_org_id))
    agreement_id = str(((offer.terms or {}).get("white_label") or {}).get("agreement_id", ""))
    return offer, _usable_terms(session, agreement_id, principal=principal, lock=lock)


def add_customer(
    session: Session, offer_id: str, customer: str, *, principal: Principal, issue_key: bool = False
) -> CustomerRecord:
    """The reseller approves a customer organisation's request for its offer, within the agreement's cap,
    and may issue it a key; an organisation that never asked is a 409 and nothing changes."""
    offer, terms = _own_white_label(session, offer_id, principal=principal, lock=True)
    customer_id = org_id_for_slug(session, customer)
    if customer_id is None:
        raise NotFoundError(f"organisation {customer} not found")
    # consent (issue 11): the customer's key bills the customer's wallet, so its own organisation must
    # have asked for this offer; the reseller's word alone would let it spend another organisation's money
    if market.entitlement_statuses(session, customer_id).get(offer_id) not in ("pending", market.APPROVED):
        raise ConflictError(
            f"organisation {customer} has not requested offer {offer_id}; a member of {customer} asks first "
            f"with `valuechain access request {offer_id} --as {customer}` "
            f"or POST /api/v1/offers/{offer_id}/entitlements"
        )
    # the cap is the agreement's: customers of every offer the reseller made under it count once each
    offers = white_label_offer_ids(session, by_org_id=terms.reseller_org_id, agreement_id=terms.agreement_id)
    current: set[str] = set().union(*market.entitled_org_ids(session, offers).values())
    if customer_id not in current and len(current) >= terms.max_customers:
        raise ConflictError(
            f"the reseller agreement {terms.agreement_id} caps customers at {terms.max_customers}; "
            f"its offers have {len(current)}"
        )
    market.approve_request(session, offer_id, customer_id, principal=principal)
    record_event(
        session,
        actor=principal.actor,
        org_id=principal.org_id,
        action=events.customer_add,
        subject_type="offer",
        subject_id=offer_id,
        after={"customer": customer, "key": issue_key},
    )
    if not issue_key:
        return CustomerRecord(offer_id, customer)
    key_id, secret = _issue_key(session, offer_id, offer.brand, customer_id, customer, principal=principal)
    return CustomerRecord(offer_id, customer, key_id, secret)


def _issue_key(
    session: Session, offer_id: str, brand: str, customer_id: str, customer: str, *, principal: Principal
) -> tuple[str, str]:
    """A key for the reseller's customer that calls this white-label offer only; returns (key id, secret).

    The authority is the customer's entitlement to the reseller's offer, checked by the caller: the key is
    minted for the customer's organisation on the reseller's word (the reseller's actor is audited), with
    the ``inference`` scope and restricted to the offer, so it reaches none of the customer's other models
    and no REST or hub route (``accounts.authz``).
    """
    delegate = Principal(
        org_id=customer_id,
        org_slug=customer,
        key_id=principal.key_id,  # the audit names the reseller's key as the actor
        user_id="cli",  # no user of the customer's organisation owns the key
        role=Role.admin,
        scopes=frozenset({Scope.keys_manage}),
    )
    data = KeyCreate(
        name=f"{brand} key (issued by {principal.org_slug})"[:200],
        role=Role.member,
        scopes=[Scope.inference],
    )
    key, secret = create_key(session, customer, data, principal=delegate, offer_ids=[offer_id])
    return key.id, secret


def list_white_labels(session: Session, *, principal: Principal) -> list[WhiteLabelRecord]:
    """The caller's organisation's white-label offers with their customers, oldest first."""
    offers = [
        o
        for o in list_offers(session, principal=principal, channel="white_label")
        if o.by_org_id == principal.org_id
    ]
    entitled = market.entitled_org_ids(session, [o.id for o in offers])
    slugs = slugs_for_ids(session, {org_id for ids in entitled.values() for org_id in ids})
    found = []
    for offer in offers:
        section = (offer.terms or {}).get("white_label") or {}
        plan = ApiTerms.model_validate(section.get("api") or {}).plan
        customers = tuple(sorted(slugs.get(i, i) for i in entitled.get(offer.id, set())))
        found.append(
            WhiteLabelRecord(
                offer.id,
                str(section.get("model_name", "")),
                offer.brand,
                str(section.get("upstream", "")),
                plan.input_per_mtok,
                plan.output_per_mtok,
                int(section.get("markup_pct", 0)),
                customers,
            )
        )
    return found
