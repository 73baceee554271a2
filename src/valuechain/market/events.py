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
