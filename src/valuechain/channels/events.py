"""Audit event types of the channels domain (issue 11)."""

from __future__ import annotations

from valuechain.core.events import EventType, Payload, declare


class WebhookPayload(Payload):
    url: str


class ResellerPayload(Payload):
    reseller: str
    model: str
    max_markup_pct: int
    max_customers: int


class WhiteLabelPayload(Payload):
    model_name: str
    brand: str
    markup_pct: int


class CustomerPayload(Payload):
    customer: str


class BrandPayload(Payload):
    host: str
    display_name: str


webhook_create = EventType(
    "webhook.create", "webhook", "An organisation registered a webhook.", WebhookPayload
)
reseller_grant = EventType(
    "reseller.grant", "agreement", "A provider granted a white-label reseller agreement.", ResellerPayload
)
white_label_create = EventType(
    "white_label.create",
    "offer",
    "A reseller listed a model under its own brand and name.",
    WhiteLabelPayload,
)
customer_add = EventType(
    "white_label.customer",
    "offer",
    "A reseller entitled a customer to its white-label offer.",
    CustomerPayload,
)
brand_set = EventType(
    "brand.set", "brand", "An organisation set the branding of its host name.", BrandPayload
)

declare("channels", webhook_create, reseller_grant, white_label_create, customer_add, brand_set)
