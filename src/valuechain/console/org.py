"""The organisation dashboard (``/org``): API keys, entitlements and waitlists, wallet, usage."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from starlette.responses import Response

from valuechain.accounts import service as accounts
from valuechain.accounts.authz import Action, is_allowed
from valuechain.accounts.roles import ROLE_RANK, Role
from valuechain.accounts.schemas import KeyCreate
from valuechain.console import charts
from valuechain.console.web import ConsoleRoute, SignedIn, Table, check_csrf, get_db, render, twin
from valuechain.gateway.usage import usage_report
from valuechain.market.statements import entitlement_rows, wallet_statement

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)


@dataclass(frozen=True, slots=True)
class KeyView:
    """A key as the dashboard lists it (never its hash)."""

    id: str
    name: str
    prefix: str
    role: str
    scopes: tuple[str, ...]
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


@router.get("/org")
def show_dashboard(
    request: Request,
    visitor: SignedIn,
    days: Annotated[int, Query(ge=1, le=366)] = 30,
    before: Annotated[int | None, Query(ge=1)] = None,
    group: Annotated[str, Query(pattern="^(day|model|key)$")] = "day",
) -> Response:
    """The signed-in organisation at a glance; ``?format=csv&table=usage`` for the usage table."""
    principal = visitor.principal
    until = date.today()
    with get_db(request).session() as session:
        keys = (
            [
                KeyView(
                    k.id,
                    k.name,
                    k.prefix,
                    k.role,
                    tuple(k.scopes),
                    k.created_at,
                    k.expires_at,
                    k.revoked_at,
                    k.last_used_at,
                )
                for k in accounts.list_keys(session, principal.org_slug, principal=principal)
            ]
            if is_allowed(principal, Action.key_read)
            else None
        )
        ents = entitlement_rows(session, principal=principal, side="consumer")
        wallet = wallet_statement(session, principal=principal, before=before)
        usage = usage_report(
            session,
            principal=principal,
            since=until - timedelta(days=days - 1),
            until=until,
            group_by=(group,),
        )
        names = accounts.display_names(
            session, key_ids=[u["key"] for u in usage if group == "key" and u["key"]]
        )
        daily = (
            usage_report(
                session,
                principal=principal,
                since=until - timedelta(days=days - 1),
                until=until,
                group_by=("day",),
            )
            if group != "day"
            else usage
        )
    tables = [
        Table(
            "usage",
            (
                group,
                "requests",
                "errors",
                "prompt_tokens",
                "completion_tokens",
                "cost",
                "currency",
                "latency_ms_p50",
            ),
            [
                (
                    names.get(u[group], u[group]) if group == "key" else u[group],
                    u["requests"],
                    u["errors"],
                    u["prompt_tokens"],
                    u["completion_tokens"],
                    u["cost"],
                    u["currency"],
                    u["latency_ms_p50"],
                )
                for u in usage
            ],
        ),
        Table(
            "keys",
            ("name", "prefix", "role", "scopes", "created_at", "expires_at", "revoked_at", "last_used_at"),
            [
                (
                    k.name,
                    k.prefix,
                    k.role,
                    " ".join(k.scopes),
                    k.created_at,
                    k.expires_at,
                    k.revoked_at,
                    k.last_used_at,
                )
                for k in keys or []
            ],
        ),
        Table(
            "entitlements",
            ("model", "provider", "status", "requested_at", "decided_at", "note"),
            [(e.model, e.provider, e.status, e.requested_at, e.decided_at, e.note) for e in ents],
        ),
        Table(
            "ledger",
            ("id", "at", "kind", "memo", "amount"),
            [(x.id, x.at, x.kind, x.memo, x.amount) for x in wallet.lines],
        ),
    ]
    chart = charts.bars(
        [(u["day"], u["prompt_tokens"] + u["completion_tokens"]) for u in daily], label="tokens per day"
    )
    grantable = [r for r in Role if ROLE_RANK[r] <= ROLE_RANK[principal.role]]
    return twin(request, tables) or render(
        request,
        "org.html",
        visitor,
        keys=keys,
        entitlements=ents,
        wallet=wallet,
        usage=tables[0],
        group=group,
        days=days,
        chart=chart,
        roles=grantable,
        new_key=None,
    )


@router.post("/org/keys", dependencies=[Depends(check_csrf)])
def create_key(
    request: Request,
    visitor: SignedIn,
    name: Annotated[str, Form(min_length=1, max_length=200)],
    role: Annotated[Role, Form()] = Role.member,
) -> Response:
    """Issue a key; the secret is shown on this answer only (never stored, never shown again)."""
    principal = visitor.principal
    with get_db(request).unit_of_work() as session:
        key, secret = accounts.create_key(
            session, principal.org_slug, KeyCreate(name=name, role=role), principal=principal
        )
        prefix = key.prefix
    return render(request, "key_created.html", visitor, name=name, prefix=prefix, secret=secret)


@router.post("/org/keys/{key_id}/revoke", dependencies=[Depends(check_csrf)])
def revoke_key(
    request: Request,
    key_id: str,
    visitor: SignedIn,
    reason: Annotated[str, Form(max_length=500)] = "revoked in the console",
) -> Response:
    """Revoke one of the organisation's keys (another organisation's: not found)."""
    principal = visitor.principal
    with get_db(request).unit_of_work() as session:
        accounts.revoke_key(session, principal.org_slug, key_id, principal=principal, reason=reason or None)
    return Response(status_code=303, headers={"location": "/org#keys"})
