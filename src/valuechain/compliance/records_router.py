"""HTTP routes of the accountability records: evidence, serious incidents, complaints (issue 13)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from valuechain.accounts.deps import CurrentPrincipal
from valuechain.compliance import channels, records, service
from valuechain.compliance.rendering import MEDIA_TYPES, render
from valuechain.compliance.schemas import (
    ComplaintAnswer,
    ComplaintCreate,
    ComplaintPublic,
    EvaluationCreate,
    EvaluationPublic,
    EvidenceCreate,
    EvidencePublic,
    IncidentCreate,
    IncidentPublic,
    IncidentReportCreate,
    InspectorGrantCreate,
    InspectorGrantPublic,
    ObligationsPublic,
    SignOff,
)
from valuechain.core.http import ReadSession, SettingsDep, WriteSession, get_db
from valuechain.registry.manifest import ModelDocumentation
from valuechain.runtime.base import Backend

router = APIRouter(prefix="/api/v1", tags=["accountability"])


@router.get("/evidence")
def list_evidence(session: ReadSession, principal: CurrentPrincipal) -> list[EvidencePublic]:
    """Your organisation's evidence, each marked stale when the facts it covers changed."""
    return [EvidencePublic(**asdict(e)) for e in service.list_evidence(session, principal=principal)]


@router.post("/evidence", status_code=201)
def create_evidence(
    data: EvidenceCreate, session: WriteSession, principal: CurrentPrincipal
) -> EvidencePublic:
    """Record evidence (evaluation, notification, ...) meeting one of your obligations."""
    key = (data.obligation.actor, data.obligation.subject, data.obligation.rule)
    rec = service.record_evidence(
        session, principal=principal, obligation=key, kind=data.kind, sha256=data.sha256, note=data.note
    )
    return EvidencePublic(**asdict(rec))


@router.post("/models/{org}/{name}/docs/{kind}/sign-off", status_code=201)
def sign_off_document(
    org: str, name: str, kind: str, data: SignOff, session: WriteSession, principal: CurrentPrincipal
) -> EvidencePublic:
    """Sign off the document (every field filled) as evidence; its sha256 is recorded."""
    rec = service.sign_document(
        session, f"{org}/{name}", kind, principal=principal, note=data.note, signer=data.signer
    )
    return EvidencePublic(**asdict(rec))


@router.patch("/models/{org}/{name}/documentation")
def record_documentation(
    org: str, name: str, data: ModelDocumentation, session: WriteSession, principal: CurrentPrincipal
) -> dict[str, str]:
    """Record Annex XI/XII and training-content fields (null clears one); returns all recorded fields."""
    values = data.model_dump(exclude_unset=True)
    return service.record_documentation(session, f"{org}/{name}", values, principal=principal)


@router.get("/incidents")
def list_incidents(
    session: ReadSession, principal: CurrentPrincipal, due_within: int | None = None
) -> list[IncidentPublic]:
    """Your serious incidents with the next report owed; ``due_within`` days lists reminders."""
    rows = service.list_incidents(session, principal=principal, due_within=due_within)
    return [IncidentPublic(**asdict(r)) for r in rows]


@router.post("/incidents", status_code=201)
def create_incident(
    data: IncidentCreate, session: WriteSession, principal: CurrentPrincipal
) -> IncidentPublic:
    """Register a serious incident; the answer says which report is due by when."""
    rec = service.open_incident(
        session,
        principal=principal,
        subject=data.subject,
        category=data.category,
        aware_on=data.aware_on,
        description=data.description,
    )
    return IncidentPublic(**asdict(rec))


@router.post("/incidents/{incident_id}/reports", status_code=201)
def create_incident_report(
    incident_id: str, data: IncidentReportCreate, session: WriteSession, principal: CurrentPrincipal
) -> IncidentPublic:
    """File an initial, intermediate, complete or final report."""
    rec = service.report_incident(
        session,
        principal=principal,
        incident_id=incident_id,
        kind=data.kind,
        text=data.text,
        resolved_on=data.resolved_on,
    )
    return IncidentPublic(**asdict(rec))


@router.get("/incidents/{incident_id}/export")
def export_incident(incident_id: str, session: ReadSession, principal: CurrentPrincipal) -> dict[str, object]:
    """The incident as a report for the authority (JSON)."""
    return service.export_incident(session, principal=principal, incident_id=incident_id)


@router.post("/complaints", status_code=201)
def create_complaint(data: ComplaintCreate, request: Request, session: WriteSession) -> ComplaintPublic:
    """Complain about an AI model or system (no account; rate limited); keep the tracking id."""
    client = request.client.host if request.client else "unknown"
    rec = service.submit_complaint(session, subject=data.subject, text=data.text, client=client)
    return ComplaintPublic(**asdict(rec))


@router.get("/complaints/{complaint_id}")
def read_complaint(complaint_id: str, session: ReadSession) -> ComplaintPublic:
    """Follow a complaint by its tracking id (no account)."""
    return ComplaintPublic(**asdict(records.complaint_status(session, complaint_id)))


@router.get("/complaints")
def list_complaints(session: ReadSession, principal: CurrentPrincipal) -> list[ComplaintPublic]:
    """Complaints routed to your organisation."""
    return [ComplaintPublic(**asdict(c)) for c in records.list_complaints(session, principal=principal)]


@router.post("/complaints/{complaint_id}/answers", status_code=201)
def answer_complaint(
    complaint_id: str, data: ComplaintAnswer, session: WriteSession, principal: CurrentPrincipal
) -> ComplaintPublic:
    """Answer a complaint routed to your organisation (``close`` closes it)."""
    rec = records.answer_complaint(
        session, principal=principal, complaint_id=complaint_id, text=data.text, close=data.close
    )
    return ComplaintPublic(**asdict(rec))


@router.post("/inspector-grants", status_code=201)
def create_inspector_grant(
    data: InspectorGrantCreate, session: WriteSession, principal: CurrentPrincipal
) -> InspectorGrantPublic:
    """Grant an organisation inspector access to organisations or models for a period (operator)."""
    rec = service.grant_inspector(session, principal=principal, **data.model_dump())
    return InspectorGrantPublic(**asdict(rec))


@router.get("/inspections/{org}/obligations")
def inspect_obligations(org: str, session: WriteSession, principal: CurrentPrincipal) -> ObligationsPublic:
    """An inspector reads an organisation's obligations; the read is audited under that organisation."""
    result = service.inspect_obligations(session, org, principal=principal)
    return ObligationsPublic.model_validate(result.as_dict())


@router.get("/inspections/{org}/evidence")
def inspect_evidence(org: str, session: WriteSession, principal: CurrentPrincipal) -> list[EvidencePublic]:
    """An inspector reads an organisation's evidence (sign-offs with sha256); audited under it."""
    return [EvidencePublic(**asdict(e)) for e in service.inspect_evidence(session, org, principal=principal)]


@router.get("/inspections/{org}/evaluations")
def inspect_evaluations(
    org: str, session: WriteSession, principal: CurrentPrincipal
) -> list[EvaluationPublic]:
    """An inspector reads the evaluation results of an organisation's models; audited under it."""
    rows = service.inspect_evaluations(session, org, principal=principal)
    return [EvaluationPublic.model_validate(asdict(r)) for r in rows]


@router.get("/inspections/{org}/models/{name}")
def inspect_model(org: str, name: str, session: WriteSession, principal: CurrentPrincipal) -> dict[str, Any]:
    """An inspector reads a model's recorded facts (manifest entry); audited under its organisation."""
    return service.inspect_model(session, f"{org}/{name}", principal=principal)


@router.get("/inspections/{org}/models/{name}/docs/{kind}")
def inspect_document(
    org: str,
    name: str,
    kind: str,
    session: WriteSession,
    principal: CurrentPrincipal,
    format: str = Query("md", pattern="^(md|json|pdf)$", description="md, json or pdf."),
) -> Response:
    """An inspector reads a model's Annex XI/XII or training-content summary; audited under its org."""
    doc = service.inspect_document(session, f"{org}/{name}", kind, principal=principal)
    return Response(
        render(doc, format, approval=service.document_approval(session, doc)),
        media_type=MEDIA_TYPES[format],
        headers={"Content-Disposition": f'inline; filename="{org}-{name}-{kind}.{format}"'},
    )


@router.post("/models/{org}/{name}/evaluations", status_code=201)
def run_evaluation(
    org: str,
    name: str,
    data: EvaluationCreate,
    request: Request,
    settings: SettingsDep,
    principal: CurrentPrincipal,
) -> EvaluationPublic:
    """Run a suite over the API channel (this server's /v1, with your key: metered) or the hub weights
    (loaded into the embedded runtime); by the model's provider or an inspector with an active grant."""
    model_id = f"{org}/{name}"
    db = get_db(request)  # the service holds no transaction while the suite runs

    def open_backend() -> Backend:
        if data.channel == "api":
            key = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
            base = str(request.base_url).rstrip("/") + "/v1"
            return channels.api_backend(base_url=base, api_key=key, served_name=data.served_name or model_id)
        return channels.weights_backend(
            db, settings, principal=principal, repo_id=data.repo or model_id, revision=data.revision
        )

    rec = service.run_evaluation(
        db,
        model_id,
        principal=principal,
        suite=data.suite,
        channel=data.channel,
        open_backend=open_backend,
    )
    return EvaluationPublic.model_validate(asdict(rec))


@router.get("/evaluations")
def list_evaluations(
    session: ReadSession, principal: CurrentPrincipal, model: str | None = None
) -> list[EvaluationPublic]:
    """Your runs and the runs of your models (an inspector's included), newest first."""
    rows = service.list_evaluations(session, principal=principal, model=model)
    return [EvaluationPublic.model_validate(asdict(r)) for r in rows]


@router.get("/models/{org}/{name}/evaluations/neutrality")
def evaluation_neutrality(
    org: str, name: str, session: ReadSession, principal: CurrentPrincipal, suite: str = "builtin-mc"
) -> dict[str, object]:
    """The same suite's latest score per channel: equal scores are the channel-neutrality evidence."""
    return service.channel_neutrality(session, f"{org}/{name}", principal=principal, suite=suite)
