"""Audit event types of the market: entitlements to offers (their API terms are recorded by the registry)."""

from __future__ import annotations

from valuechain.core.events import EventType, Payload, declare


class EntitlementRequestPayload(Payload):
    offer: str


class EntitlementApprovePayload(Payload):
    offer: str
    org: str


entitlement_request = EventType(
    "entitlement.request", "entitlement", "An organisation asked to use an offer.", EntitlementRequestPayload
)
entitlement_approve = EventType(
    "entitlement.approve", "entitlement", "An entitlement was approved.", EntitlementApprovePayload
)
entitlement_reject = EventType("entitlement.reject", "entitlement", "An entitlement request was rejected.")
entitlement_revoke = EventType("entitlement.revoke", "entitlement", "An approved entitlement was revoked.")

# ``offer.terms`` is the registry's (it writes the offer row): see registry/events.py.
declare("market", entitlement_request, entitlement_approve, entitlement_reject, entitlement_revoke)


class ListingCreatePayload(Payload):
    offer: str
    kind: str


class LicenceBuyPayload(Payload):
    listing: str
    charge: str


class CreditsGrantPayload(Payload):
    amount: int


class InvoiceIssuePayload(Payload):
    number: str


listing_create = EventType(
    "listing.create", "listing", "An offer was listed in the marketplace.", ListingCreatePayload
)
listing_withdraw = EventType("listing.withdraw", "listing", "A listing was withdrawn from sale.")
licence_buy = EventType(
    "licence.buy", "licence", "A listing was bought; a licence granted.", LicenceBuyPayload
)
licence_renew = EventType("licence.renew", "licence", "A hire or subscription was renewed for one period.")
licence_cancel = EventType("licence.cancel", "licence", "A hire or subscription was cancelled.")
credits_grant = EventType(
    "credits.grant", "organization", "The operator granted credits to an organisation.", CreditsGrantPayload
)
invoice_issue = EventType(
    "invoice.issue", "invoice", "An invoice was issued (numbered, immutable).", InvoiceIssuePayload
)

declare(
    "market",
    listing_create,
    listing_withdraw,
    licence_buy,
    licence_renew,
    licence_cancel,
    credits_grant,
    invoice_issue,
)
