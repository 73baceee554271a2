"""HTTP routes of the accountability engine (/api/v1/obligations, model BOMs and documents)."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from valuechain.accounts.deps import CurrentPrincipal
from valuechain.compliance import service
from valuechain.compliance.documentation import KINDS
from valuechain.compliance.rendering import MEDIA_TYPES, render
from valuechain.compliance.schemas import ObligationsPublic, WhatIfPublic, WhatIfRequest
from valuechain.core.http import ReadSession, WriteSession

router = APIRouter(prefix="/api/v1", tags=["compliance"])


@router.get("/obligations")
def list_obligations(
    session: ReadSession,
    principal: CurrentPrincipal,
    as_of: date | None = None,
    regime: str = "eu-ai-act",
    rule: list[str] | None = Query(None, description="Only these rule ids."),
    actor: str | None = Query(
        None, max_length=64, description="Only this actor's obligations and the models it has a role in."
    ),
) -> ObligationsPublic:
    """Your organisation's obligations, with the classification of the models you may see."""
    result = service.list_obligations(
        session, principal=principal, as_of=as_of, regime=regime, rules=rule, actor=actor
    )
    return ObligationsPublic.model_validate(result.as_dict())


@router.post("/obligations/whatif")
def whatif_obligations(
    data: WhatIfRequest, session: ReadSession, principal: CurrentPrincipal
) -> WhatIfPublic:
    """Evaluate changed facts in memory (nothing is written) and return the difference."""
    diff = service.whatif_obligations(
        session, data.changes, principal=principal, as_of=data.as_of, regime=data.regime
    )
    return WhatIfPublic.model_validate(diff.as_dict())


@router.get("/models/{org}/{name}/bom")
def read_model_bom(org: str, name: str, session: ReadSession, principal: CurrentPrincipal) -> dict[str, Any]:
    """The model's lineage as a CycloneDX 1.6 ML-BOM (JSON)."""
    return service.model_bom(session, f"{org}/{name}", principal=principal)


def _document_route(kind: str) -> Any:
    def read_model_document(
        org: str,
        name: str,
        session: WriteSession,
        principal: CurrentPrincipal,
        format: str = Query("md", pattern="^(md|json|pdf)$", description="md, json or pdf."),
    ) -> Response:
        doc = service.model_document(session, f"{org}/{name}", kind, principal=principal)
        filename = f"{org}-{name}-{kind}.{format}"
        return Response(
            render(doc, format, approval=service.document_approval(session, doc)),
            media_type=MEDIA_TYPES[format],
            headers={"Content-Disposition": f'inline; filename="{filename}"'},
        )

    read_model_document.__doc__ = f"The model's {kind} document, listing the fields not yet recorded."
    return read_model_document


for _kind in KINDS:
    # One literal route per kind (annex-xi, annex-xii, summary), so each is listed and tested on its own.
    router.add_api_route(
        f"/models/{{org}}/{{name}}/docs/{_kind}",
        _document_route(_kind),
        methods=["GET"],
        name=f"read_model_{_kind.replace('-', '_')}",
        response_class=Response,
    )
