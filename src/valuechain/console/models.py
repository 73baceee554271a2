"""The catalogue (``/``) and model pages (``/models/{org}/{name}``) with their fragments and downloads."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from markdown_it import MarkdownIt
from starlette.responses import Response, StreamingResponse

from valuechain.compliance import service as compliance
from valuechain.compliance.documentation import KINDS
from valuechain.compliance.rendering import MEDIA_TYPES
from valuechain.compliance.rendering import render as render_document
from valuechain.console import charts, lineage
from valuechain.console.web import (
    ConsoleRoute,
    CurrentVisitor,
    SignedIn,
    Table,
    check_csrf,
    get_db,
    render,
    twin,
)
from valuechain.core.clock import utcnow
from valuechain.core.errors import ValidationError
from valuechain.gateway.usage import usage_report
from valuechain.hub import service as hub_service
from valuechain.hub import summary as hub_summary
from valuechain.hub.downloads import is_counted_file
from valuechain.hub.storage import LocalBlobStore
from valuechain.market import service as market
from valuechain.market.statements import my_statuses
from valuechain.market.terms import parse_terms
from valuechain.registry.catalogue import CatalogueFilters, ModelPage, catalogue, model_page
from valuechain.registry.lifecycle import STAGES, VersionLifecycle, lifecycles
from valuechain.registry.manifest import Channel, Modality

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
# Raw HTML in a card is shown as text; images are not rendered (a card's image would be another origin).
_MARKDOWN = MarkdownIt("commonmark", {"html": False}).disable("image")


def _store(request: Request) -> LocalBlobStore:
    state = request.app.state
    if getattr(state, "console_store", None) is None:
        state.console_store = LocalBlobStore(state.settings.resolved_hub_blob_dir)
    return state.console_store  # type: ignore[no-any-return]


@router.get("/")
def list_catalogue(
    request: Request,
    visitor: CurrentVisitor,
    q: Annotated[str | None, Query(max_length=200)] = None,
    licence: Annotated[str | None, Query(max_length=200)] = None,
    modality: Modality | None = None,
    channel: Channel | None = None,
    org: Annotated[str | None, Query(max_length=64)] = None,
    after: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 24,
) -> Response:
    """Models the visitor may see (anonymous: public ones), filtered and paged by slug."""
    filters = CatalogueFilters(
        q=q or None, licence=licence or None, modality=modality, channel=channel, org=org or None
    )
    with get_db(request).session() as session:
        page = catalogue(session, principal=visitor.principal, filters=filters, after=after, limit=limit)
        downloads = hub_summary.download_counts(session, (e.id for e in page.entries))
    table = Table(
        "models",
        ("model", "owner", "licence", "visibility", "channels", "input", "output", "downloads"),
        [
            (
                e.slug,
                e.owner,
                e.licence,
                e.visibility,
                " ".join(e.channels),
                " ".join(e.input_modalities),
                " ".join(e.output_modalities),
                downloads.get(e.id, 0),
            )
            for e in page.entries
        ],
    )
    return twin(request, [table]) or render(
        request,
        "catalogue.html",
        visitor,
        page=page,
        filters=filters,
        downloads=downloads,
        modalities=list(Modality),
        channels=list(Channel),
    )


@router.get("/models/{org}/{name}")
def show_model(request: Request, org: str, name: str, visitor: CurrentVisitor) -> Response:
    """The model page: card, versions and files, lineage, offers and the visitor's action, usage."""
    slug = f"{org}/{name}"
    today = utcnow().date()
    with get_db(request).session() as session:
        model = model_page(session, slug, principal=visitor.principal)  # 404 exactly as for a missing one
        repo = hub_summary.repo_summary(session, slug, principal=visitor.hub_principal, today=today)
        series = hub_summary.download_series(session, slug, principal=visitor.hub_principal) if repo else []
        statuses = my_statuses(session, principal=visitor.principal, offer_ids=[o.id for o in model.offers])
        stages = {v.label: v for v in lifecycles(session, [model.id])}  # the dates of each version's moves
        usage = (
            usage_report(session, principal=visitor.principal, view="provider", group_by=("day", "model"))
            if visitor.signed_in and model.owner_org_id == visitor.principal.org_id
            else []
        )
    card = hub_summary.read_card(_store(request), repo) if repo is not None else None
    usage = [row for row in usage if row["model"] == slug]
    offers = [
        (o, parse_terms(o.terms) if o.channel == "api" else None, statuses.get(o.id)) for o in model.offers
    ]
    tables = _model_tables(model, stages, series, usage)
    return twin(request, tables) or render(
        request,
        "model.html",
        visitor,
        model=model,
        repo=repo,
        card_html=_MARKDOWN.render(_strip_front_matter(card)) if card else None,
        offers=offers,
        has_dot=lineage.dot_available(),
        downloads_chart=charts.bars([(d.isoformat(), n) for d, n in series], label="downloads per day")
        if series
        else None,
        usage_chart=charts.bars(
            [(u["day"], u["prompt_tokens"] + u["completion_tokens"]) for u in usage], label="tokens per day"
        )
        if usage
        else None,
        kinds=KINDS,
        stages=stages,
        stage_names=STAGES,
        owns_model=visitor.signed_in and model.owner_org_id == visitor.principal.org_id,
    )


def _model_tables(
    model: ModelPage,
    stages: dict[str, VersionLifecycle],
    series: list[tuple[date, int]],
    usage: list[dict[str, Any]],
) -> list[Table]:
    """The model page's tables, as its CSV/JSON twins serve them."""
    none = VersionLifecycle("", "", "", "", "active", None, None, None, None)
    return [
        Table(
            "versions",
            ("label", "created_at", "stage", "stage_at", "deprecated_at", "sunset_at", "successor", "notes"),
            [
                (
                    v.label,
                    v.created_at,
                    v.stage,
                    stages.get(v.label, none).stage_at,
                    stages.get(v.label, none).deprecated_at,
                    v.sunset_at,
                    v.successor,
                    v.notes,
                )
                for v in model.versions
            ],  # fmt: skip
        ),
        Table("files", ("path", "sha256", "size"), [(f.path, f.sha256, f.size) for f in model.files]),
        Table(
            "lineage",
            ("direction", "model", "version", "relation", "compute_flop", "by"),
            [("parent", e.other, e.version, e.relation, e.compute_flop, e.by) for e in model.parents]
            + [("child", e.other, e.version, e.relation, e.compute_flop, e.by) for e in model.children],
        ),
        Table("downloads", ("day", "downloads"), [(d, n) for d, n in series]),
        Table(
            "usage",
            ("day", "requests", "prompt_tokens", "completion_tokens", "errors"),
            [
                (u["day"], u["requests"], u["prompt_tokens"], u["completion_tokens"], u["errors"])
                for u in usage
            ],
        ),
    ]


def _strip_front_matter(text: str) -> str:
    if text.startswith("---"):
        end = text.find("\n---", 3)
        if end != -1:
            return text[end + 4 :].lstrip("\n")
    return text


@router.get("/models/{org}/{name}/lineage.svg")
async def lineage_svg(request: Request, org: str, name: str, visitor: CurrentVisitor) -> Response:
    """The lineage graph drawn by ``dot`` (404 when the model is hidden, 503 when ``dot`` is missing)."""
    with get_db(request).session() as session:
        model = model_page(session, f"{org}/{name}", principal=visitor.principal)
    svg = await asyncio.to_thread(lineage.render_svg, model)
    if svg is None:
        return Response("graphviz `dot` is not installed; see the model tree list\n", status_code=503)
    return Response(svg, media_type="image/svg+xml", headers={"cache-control": "private, max-age=60"})


@router.get("/models/{org}/{name}/obligations")
async def model_obligations(request: Request, org: str, name: str, visitor: CurrentVisitor) -> Response:
    """The model's obligations with citations and reasons (an htmx fragment; the whole chain is evaluated,
    so the page loads it after itself)."""
    slug = f"{org}/{name}"

    def evaluate() -> list[Any]:
        with get_db(request).session() as session:
            model_page(session, slug, principal=visitor.principal)  # 404 for a hidden model
            result = compliance.list_obligations(session, principal=visitor.principal)
        return [o for o in result.obligations if o.subject == slug]

    obligations = await asyncio.to_thread(evaluate)
    table = Table(
        "obligations",
        ("actor", "rule", "citation", "status", "applies_from", "due", "because"),
        [
            (o.actor, o.rule, o.citation, o.status, o.applies_from, o.due, "; ".join(o.because))
            for o in obligations
        ],
    )
    template = "_obligations.html" if request.headers.get("hx-request") else "obligations_page.html"
    return twin(request, [table]) or render(request, template, visitor, obligations=obligations)


@router.get("/models/{org}/{name}/docs/{kind}.{fmt}")
def model_document(request: Request, org: str, name: str, kind: str, fmt: str, visitor: SignedIn) -> Response:
    """Annex XI / XII packs and the training-content summary (md, json or pdf), as on the API."""
    if kind not in KINDS or fmt not in MEDIA_TYPES:
        raise ValidationError(f"unknown document {kind}.{fmt}")
    with get_db(request).unit_of_work() as session:
        doc = compliance.model_document(session, f"{org}/{name}", kind, principal=visitor.principal)
        approval = compliance.document_approval(session, doc)
    headers = {"content-disposition": f'inline; filename="{org}-{name}-{kind}.{fmt}"'}
    return Response(
        render_document(doc, fmt, approval=approval), media_type=MEDIA_TYPES[fmt], headers=headers
    )


@router.get("/models/{org}/{name}/bom.json")
def model_bom(request: Request, org: str, name: str, visitor: CurrentVisitor) -> Response:
    """The model's CycloneDX 1.6 ML-BOM, built from what the visitor may see."""
    import orjson

    with get_db(request).session() as session:
        bom = compliance.model_bom(session, f"{org}/{name}", principal=visitor.principal)
    headers = {"content-disposition": f'attachment; filename="{org}-{name}-bom.json"'}
    return Response(orjson.dumps(bom), media_type="application/json", headers=headers)


@router.post("/models/{org}/{name}/request-access", dependencies=[Depends(check_csrf)])
def request_access(
    request: Request, org: str, name: str, visitor: SignedIn, offer: Annotated[str, Form(max_length=40)]
) -> Response:
    """Ask for an API offer of this model (approved at once when open, else on the provider's waitlist)."""
    with get_db(request).unit_of_work() as session:
        market.request_access(session, offer, principal=visitor.principal)
    return Response(status_code=303, headers={"location": f"/models/{org}/{name}#offers"})


@router.post("/models/{org}/{name}/accept-licence", dependencies=[Depends(check_csrf)])
def accept_licence(request: Request, org: str, name: str, visitor: SignedIn) -> Response:
    """Accept the licence terms of the gated repo (granted at once, or on the provider's review)."""
    hub_service.accept_terms(get_db(request), principal=visitor.principal, repo_id=f"{org}/{name}")
    return Response(status_code=303, headers={"location": f"/models/{org}/{name}#files"})


@router.get("/models/{org}/{name}/resolve/{path:path}")
def download_file(request: Request, org: str, name: str, path: str, visitor: CurrentVisitor) -> Response:
    """Download a file through the hub's own checks (visibility, gating) and download counting."""
    db, repo_id = get_db(request), f"{org}/{name}"
    served = hub_service.open_file(
        db, principal=visitor.hub_principal, repo_id=repo_id, revision="main", path=path
    )
    if is_counted_file(served.path):  # the hub's rule: weights and config.json count a download
        hub_service.record_download(
            db, principal=visitor.hub_principal, repo_id=repo_id, commit_id=served.commit_id, day=date.today()
        )
    filename = served.path.rsplit("/", 1)[-1]
    headers = {
        "content-length": str(served.size),
        "content-disposition": f'attachment; filename="{filename}"',
        "etag": f'"{served.sha256}"',
    }
    return StreamingResponse(
        _store(request).read_range(served.sha256), media_type="application/octet-stream", headers=headers
    )
