"""Audit event types of the accountability engine: documents, evidence, incidents, complaint answers."""

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


class EvidencePayload(Payload):
    rule: str
    kind: str
    sha256: str
    signed_by: str


class IncidentPayload(Payload):
    category: str
    report: str | None = None


class ComplaintPayload(Payload):
    status: str


evidence_recorded = EventType(
    "compliance.evidence_recorded",
    "obligation",
    "An organisation recorded evidence meeting one obligation (a signed-off document, an evaluation, ...).",
    EvidencePayload,
)
incident_opened = EventType(
    "compliance.incident_opened", "incident", "A serious incident was registered.", IncidentPayload
)
incident_reported = EventType(
    "compliance.incident_reported",
    "incident",
    "A report on a serious incident was filed (initial, intermediate, complete or final).",
    IncidentPayload,
)
complaint_answered = EventType(
    "compliance.complaint_answered",
    "complaint",
    "A responsible organisation answered a complaint by an affected person.",
    ComplaintPayload,
)


class InspectionPayload(Payload):
    inspector: str
    what: str


inspector_granted = EventType(
    "compliance.inspector_granted",
    "organization",
    "The operator granted an organisation inspector access to organisations or models for a period.",
    InspectionPayload,
)
inspector_read = EventType(
    "compliance.inspector_read",
    "organization",
    "An inspector read an organisation's obligations or records; recorded under the inspected organisation.",
    InspectionPayload,
)


class EvaluationPayload(Payload):
    model: str
    channel: str
    suite: str
    score: float
    role: str


evaluation_run = EventType(
    "compliance.evaluation_run",
    "model",
    "A provider or an inspector ran an evaluation suite over one channel of a model; recorded under the"
    " model's organisation.",
    EvaluationPayload,
)

declare(
    "compliance",
    evaluation_run,
    inspector_granted,
    inspector_read,
    evidence_recorded,
    incident_opened,
    incident_reported,
    complaint_answered,
)
