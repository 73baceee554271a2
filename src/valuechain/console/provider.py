"""The provider console (``/provider``): approval queues, misuse and suspensions, feedback analytics."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from starlette.responses import Response

from valuechain.accounts.service import display_names
from valuechain.console import charts
from valuechain.console.web import ConsoleRoute, SignedIn, Table, check_csrf, get_db, render, twin
from valuechain.gateway.usage import usage_report
from valuechain.hub import service as hub_service
from valuechain.hub.summary import access_inbox
from valuechain.market import service as market
from valuechain.market.statements import entitlement_rows
from valuechain.oversight.reports import recent_events, suspensions

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)


@router.get("/provider")
def show_provider(
    request: Request,
    visitor: SignedIn,
    days: Annotated[int, Query(ge=1, le=366)] = 30,
    status: Annotated[str, Query(pattern="^(pending|approved|rejected|revoked|accepted|all)$")] = "pending",
) -> Response:
    """What waits for the provider's decision, what its oversight caught, and how its models are used."""
    principal = visitor.principal
    until = date.today()
    since = until - timedelta(days=days - 1)
    wanted = None if status == "all" else status
    with get_db(request).session() as session:
        api_status = {"accepted": "approved"}.get(
            wanted or "", wanted
        )  # the hub says accepted, the market approved
        hub_status = {"approved": "accepted", "revoked": "rejected"}.get(wanted or "", wanted)
        requests_api = entitlement_rows(session, principal=principal, side="provider", status=api_status)
        requests_hub = access_inbox(session, principal=principal, status=hub_status)
        events = recent_events(session, principal=principal)
        held = suspensions(session, principal=principal)
        daily = usage_report(
            session, principal=principal, view="provider", since=since, until=until, group_by=("day",)
        )
        by_user = usage_report(
            session, principal=principal, view="provider", since=since, until=until, group_by=("model", "org")
        )
        names = display_names(session, org_ids=[u["org"] for u in by_user])
    tables = [
        Table(
            "api_requests",
            ("id", "model", "org", "status", "requested_at", "decided_at", "note"),
            [(e.id, e.model, e.org, e.status, e.requested_at, e.decided_at, e.note) for e in requests_api],
        ),
        Table(
            "repo_requests",
            ("repo", "org", "request_id", "status", "terms", "accepted_at", "decided_at"),
            [
                (r.repo_id, r.org, r.request_id, r.status, r.terms, r.accepted_at, r.decided_at)
                for r in requests_hub
            ],
        ),
        Table(
            "misuse_events",
            ("id", "at", "org", "key_id", "action", "detail"),
            [(e.id, e.at, e.org, e.key_id, e.action, e.detail) for e in events],
        ),
        Table(
            "suspensions",
            (
                "subject_type",
                "subject",
                "kind",
                "reason",
                "created_at",
                "created_by",
                "lifted_at",
                "lift_reason",
            ),
            [
                (
                    s.subject_type,
                    s.subject,
                    s.kind,
                    s.reason,
                    s.created_at,
                    s.created_by,
                    s.lifted_at,
                    s.lift_reason,
                )
                for s in held
            ],
        ),
        Table(
            "usage_by_user",
            (
                "model",
                "org",
                "requests",
                "errors",
                "prompt_tokens",
                "completion_tokens",
                "latency_ms_p50",
                "latency_ms_p95",
            ),
            [
                (
                    u["model"],
                    names.get(u["org"], u["org"]),
                    u["requests"],
                    u["errors"],
                    u["prompt_tokens"],
                    u["completion_tokens"],
                    u["latency_ms_p50"],
                    u["latency_ms_p95"],
                )
                for u in by_user
            ],
        ),
        Table(
            "usage_by_day",
            ("day", "requests", "errors", "prompt_tokens", "completion_tokens", "latency_ms_p50"),
            [
                (
                    u["day"],
                    u["requests"],
                    u["errors"],
                    u["prompt_tokens"],
                    u["completion_tokens"],
                    u["latency_ms_p50"],
                )
                for u in daily
            ],
        ),
    ]
    return twin(request, tables) or render(
        request,
        "provider.html",
        visitor,
        tables={t.name: t for t in tables},
        requests_api=requests_api,
        requests_hub=requests_hub,
        events=events,
        held=held,
        status=status,
        days=days,
        tokens_chart=charts.bars(
            [(u["day"], u["prompt_tokens"] + u["completion_tokens"]) for u in daily], label="tokens per day"
        ),
        errors_chart=charts.bars([(u["day"], u["errors"]) for u in daily], label="errors per day"),
        latency_chart=charts.bars(
            [(u["day"], u["latency_ms_p50"]) for u in daily], label="latency p50", unit=" ms"
        ),
    )


@router.post("/provider/entitlements/{entitlement_id}", dependencies=[Depends(check_csrf)])
def decide_entitlement(
    request: Request,
    entitlement_id: str,
    visitor: SignedIn,
    decision: Annotated[str, Form(pattern="^(approve|reject)$")],
    note: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """Approve or reject a waiting API access request (another provider's: not found)."""
    with get_db(request).unit_of_work() as session:
        market.decide(
            session,
            entitlement_id,
            approve=decision == "approve",
            principal=visitor.principal,
            note=note or None,
        )
    return Response(status_code=303, headers={"location": "/provider#approvals"})


@router.post("/provider/access/{org}/{name}", dependencies=[Depends(check_csrf)])
def decide_repo_access(
    request: Request,
    org: str,
    name: str,
    visitor: SignedIn,
    request_id: Annotated[str, Form(max_length=40)],
    status: Annotated[str, Form(pattern="^(accepted|rejected|pending)$")],
) -> Response:
    """Grant, reject or reset an organisation's access to a gated repo (the hub's own decision)."""
    hub_service.decide_access(
        get_db(request),
        principal=visitor.principal,
        repo_id=f"{org}/{name}",
        org_slug=None,
        status=status,
        request_id=request_id,
    )
    return Response(status_code=303, headers={"location": "/provider#approvals"})
