"""Documentation and sign-off in the console (issue 13 point 1): the provider records the Annex XI/XII and
training-content fields of a model, sees what each document still lacks, and signs it off."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import RedirectResponse, Response

from valuechain.compliance import service as compliance
from valuechain.console.web import ConsoleRoute, SignedIn, check_csrf, get_db, render
from valuechain.core.errors import ValidationError
from valuechain.registry.manifest import ModelDocumentation
from valuechain.registry.service import update_model

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
FIELDS = ModelDocumentation.model_fields
MAX_FIELD = 20_000  # as ModelDocumentation (the manifest and the REST API)
MODEL_FACTS = {"description": 10_000, "training_data_summary": 20_000}  # as ModelFacts: edited on the model


@router.get("/models/{org}/{name}/documentation")
def show_documentation(request: Request, org: str, name: str, visitor: SignedIn) -> Response:
    """The fields a document needs, as recorded, and per document what is missing and its sign-off."""
    with get_db(request).session() as session:
        status = compliance.documentation_status(session, f"{org}/{name}", principal=visitor.principal)
    return render(request, "documentation.html", visitor, status=status, fields=FIELDS)


@router.post("/models/{org}/{name}/documentation", dependencies=[Depends(check_csrf)])
async def record_documentation(request: Request, org: str, name: str, visitor: SignedIn) -> Response:
    """Record the fields sent (an empty one clears it), as PATCH /api/v1/models/{org}/{name}/documentation."""
    form = await request.form()
    slug = f"{org}/{name}"

    def sent(fields: dict[str, int]) -> dict[str, str | None]:
        values: dict[str, str | None] = {}
        for field, limit in fields.items():
            text = form.get(field)
            if not isinstance(text, str):
                continue  # not on the form: left as it is
            if len(text) > limit:
                raise ValidationError(f"{field}: at most {limit} characters")
            values[field] = text.strip() or None
        return values

    documentation, facts = sent(dict.fromkeys(FIELDS, MAX_FIELD)), sent(MODEL_FACTS)

    def record() -> None:
        with get_db(request).unit_of_work() as session:
            status = compliance.documentation_status(session, slug, principal=visitor.principal)
            changed = {k: v for k, v in facts.items() if v != status.facts.get(k)}
            if changed:
                update_model(session, slug, changed, principal=visitor.principal)
            compliance.record_documentation(session, slug, documentation, principal=visitor.principal)

    await asyncio.to_thread(record)  # the whole chain is evaluated: off the event loop
    return RedirectResponse(f"/models/{slug}/documentation", status_code=303)


@router.post("/models/{org}/{name}/docs/{kind}/sign-off", dependencies=[Depends(check_csrf)])
def sign_off(
    request: Request,
    org: str,
    name: str,
    kind: str,
    visitor: SignedIn,
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Sign off a model's document (every field filled; an admin of its provider): the sha256 is recorded."""
    with get_db(request).unit_of_work() as session:
        rec = compliance.sign_document(
            session,
            f"{org}/{name}",
            kind,
            principal=visitor.principal,
            note=note,
            signer=visitor.session.email if visitor.session else "",
        )
    return render(request, "signed_off.html", visitor, evidence=rec, model=f"{org}/{name}", kind=kind)
