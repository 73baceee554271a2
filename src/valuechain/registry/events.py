"""Audit event types of the registry: models, versions, derivations, systems and offers.

These are the only names for these acts: the service, the chain import and (until it calls the registry
service) the hub's lineage write them.
"""

from __future__ import annotations

from valuechain.core.events import EventType, Payload, declare


class ModelPayload(Payload):
    """A model's snapshot; ``slug`` is ``<org>/<name>``."""

    slug: str


class VersionPayload(Payload):
    label: str


class LifecyclePayload(Payload):
    """A version's lifecycle stage and its dates (issue 11)."""

    stage: str


class DerivationPayload(Payload):
    relation: str


class SystemPayload(Payload):
    deployers: list[str]
    models: list[str]
    intended_purpose: str


class OfferPayload(Payload):
    channel: str


class OfferUpdatePayload(Payload):
    """What changed: EU availability, the name a white-label offer is marketed under (issue 11), or both."""

    eu: bool | None = None
    marketed_as: str | None = None


model_create = EventType("model.create", "model", "A model was registered.", ModelPayload)
model_update = EventType("model.update", "model", "A model's facts or visibility changed.", ModelPayload)
version_create = EventType(
    "version.create", "version", "An immutable model version was added.", VersionPayload
)
version_lifecycle = EventType(
    "version.lifecycle",
    "version",
    "A model version moved along preview → active → legacy → deprecated → retired.",
    LifecyclePayload,
)
derivation_create = EventType(
    "derivation.create",
    "derivation",
    "A model version was recorded as made from a parent.",
    DerivationPayload,
)
derivation_update = EventType(
    "derivation.update", "derivation", "A derivation's facts changed (chain import).", DerivationPayload
)
system_create = EventType("system.create", "system", "An AI system was registered.", SystemPayload)
system_update = EventType(
    "system.update", "system", "An AI system's facts or links changed (chain import).", SystemPayload
)
offer_create = EventType(
    "offer.create", "offer", "A model version was offered through a channel.", OfferPayload
)
version_artifacts_add = EventType(
    "version.artifacts.add",
    "version",
    "Files were added to an existing labelled version (a hub commit reusing a version label).",
    VersionPayload,
)
offer_update = EventType(
    "offer.update",
    "offer",
    "An offer's EU availability or the name a white-label offer is marketed under changed.",
    OfferUpdatePayload,
)

declare(
    "registry",
    model_create,
    model_update,
    version_create,
    version_lifecycle,
    version_artifacts_add,
    derivation_create,
    derivation_update,
    system_create,
    system_update,
    offer_create,
    offer_update,
)


class ClaimPayload(Payload):
    """A claim's status; its creation also records subject, field, claimant and named organisation."""

    status: str


class AgreementPayload(Payload):
    channels: list[str]


class AgreementRevokePayload(Payload):
    revoked: bool


# Consent along the chain (issue 9): a claim is about one organisation naming another in a record.
claim_create = EventType(
    "claim.create", "claim", "A record named another organisation: a pending claim.", ClaimPayload
)
claim_confirm = EventType(
    "claim.confirm", "claim", "The named organisation (or an operator) confirmed a claim.", ClaimPayload
)
claim_reject = EventType("claim.reject", "claim", "The named organisation rejected a claim.", ClaimPayload)
agreement_create = EventType(
    "agreement.create",
    "agreement",
    "A model owner let another organisation offer its model(s).",
    AgreementPayload,
)
agreement_revoke = EventType(
    "agreement.revoke", "agreement", "A model owner ended an offer agreement.", AgreementRevokePayload
)

# A hub commit naming an existing version (the demo's "1") adds its files to it.
version_artifacts_add = EventType(
    "version.artifacts.add", "version", "Files were added to an existing model version.", VersionPayload
)

declare("registry", version_artifacts_add)
declare("registry", claim_create, claim_confirm, claim_reject, agreement_create, agreement_revoke)

# The registry writes an offer's terms (its own row); the market decides what its API section says.
offer_terms = EventType(
    "offer.terms", "offer", "An offer's API terms (access, plans, limits) were set.", Payload
)

declare("registry", offer_terms)
