"""HTTP routes for chain manifests: check, import (operators) and export (scoped to the caller)."""

from __future__ import annotations

from anyio import to_thread
from fastapi import APIRouter, Request, Response

from valuechain.accounts.deps import CurrentPrincipal
from valuechain.core.errors import ValidationError
from valuechain.core.http import ReadSession, WriteSession
from valuechain.registry.chain import import_manifest
from valuechain.registry.check import ManifestError
from valuechain.registry.export import export_visible, manifest_to_yaml
from valuechain.registry.parsing import ManifestParser
from valuechain.registry.schemas import ChainCheckPublic, ImportReportPublic, ProblemPublic

router = APIRouter(prefix="/api/v1/chain", tags=["chain"])

_YAML_BODY = {
    "requestBody": {"content": {"application/yaml": {"schema": {"type": "string"}}}, "required": True}
}


def _parser(request: Request) -> ManifestParser:
    """The app's manifest parser (worker processes), made on first use and closed with the app."""
    state = request.app.state
    if getattr(state, "manifest_parser", None) is None:
        state.manifest_parser = ManifestParser()
    return state.manifest_parser  # type: ignore[no-any-return]


async def _manifest_text(request: Request) -> str:
    try:
        return (await request.body()).decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationError("the manifest must be UTF-8 text") from None


@router.post("/check", openapi_extra=_YAML_BODY)
async def check_chain(request: Request, principal: CurrentPrincipal) -> ChainCheckPublic:
    """Validate a manifest (YAML body); lists every problem with line, field and message."""
    text = await _manifest_text(request)
    try:
        counts = await _parser(request).count(text)
    except ManifestError as exc:
        return ChainCheckPublic(valid=False, problems=[ProblemPublic(**p.as_dict()) for p in exc.problems])
    return ChainCheckPublic(valid=True, problems=[], counts=counts)


@router.post("/import", openapi_extra=_YAML_BODY)
async def import_chain(
    request: Request, session: WriteSession, principal: CurrentPrincipal
) -> ImportReportPublic:
    """Load a manifest into the registry, all or nothing (platform operators)."""
    text = await _manifest_text(request)
    manifest = await _parser(request).parse(text)
    report = await to_thread.run_sync(lambda: import_manifest(session, manifest, principal=principal))
    return ImportReportPublic(**report.as_dict())


@router.get("/export", response_class=Response, responses={200: {"content": {"application/yaml": {}}}})
def export_chain(session: ReadSession, principal: CurrentPrincipal) -> Response:
    """The part of the chain the caller may see, as a manifest."""
    manifest = export_visible(session, principal=principal)
    return Response(manifest_to_yaml(manifest), media_type="application/yaml")
