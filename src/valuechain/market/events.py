"""Audit event types of the market: API terms of offers and entitlements to them."""

from __future__ import annotations

from valuechain.core.events import EventType, Payload, declare


class EntitlementRequestPayload(Payload):
    offer: str


class EntitlementApprovePayload(Payload):
    offer: str
    org: str


offer_terms = EventType(
    "offer.terms", "offer", "An offer's API terms (access, plans, limits) were set.", Payload
)
entitlement_request = EventType(
    "entitlement.request", "entitlement", "An organisation asked to use an offer.", EntitlementRequestPayload
)
entitlement_approve = EventType(
    "entitlement.approve", "entitlement", "An entitlement was approved.", EntitlementApprovePayload
)
entitlement_reject = EventType("entitlement.reject", "entitlement", "An entitlement request was rejected.")
entitlement_revoke = EventType("entitlement.revoke", "entitlement", "An approved entitlement was revoked.")

declare(
    "market", offer_terms, entitlement_request, entitlement_approve, entitlement_reject, entitlement_revoke
)
