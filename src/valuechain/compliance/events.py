"""Audit event types of the accountability engine: documents drawn up by a provider (evidence)."""

from __future__ import annotations

from valuechain.core.events import EventType, Payload, declare


class DocumentPayload(Payload):
    kind: str
    provider: str
    missing: int


document_generated = EventType(
    "compliance.document_generated",
    "model",
    "A provider generated a model document (Annex XI, XII or summary); evidence for its obligation.",
    DocumentPayload,
)

declare("compliance", document_generated)
