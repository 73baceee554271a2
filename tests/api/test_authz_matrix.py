"""Routes × roles × scopes × tenants over ``/api/v1``, ``/v1`` and ``/hub`` (issue 9, item 3).

The semantics every surface follows (one permission check, ``accounts.authz.authorize``):
- a record the caller may not see answers exactly as a missing one (404; on the hub ``RepoNotFound``);
- a visible record of another organisation may be read, not changed (403);
- a key lacking the route's scope gets 403, whatever its role; a role below the route's gets 403;
- ``/v1``: no key or a wrong key 401, a key without ``inference`` 403.

Each surface has a "missing route" test: a route added without a case here fails the suite. The API
reference pages of the platform and of the hub are public: everyone gets them, without a key too.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import Mount

from tests.compliance.matrix_cases import COMPLIANCE_CASES
from tests.conftest import auth, make_key, make_org
from tests.finetune.test_authz import FT_CASES
from valuechain.accounts.roles import ROLE_SCOPES, Role, Scope
from valuechain.core.db import Database

PRINCIPALS = ("owner", "admin", "member", "viewer", "outsider", "operator", "anonymous")
MANIFEST = b"valuechain: 1\nactors:\n  - {id: gamma, name: Gamma, country: IT}\n"

R, W = Scope.registry_read, Scope.registry_write


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    expect: dict[str, int]
    body: Any = None
    raw: bytes | None = None
    hidden: tuple[str, ...] = field(default=())  # strings the outsider must never see in a 200 answer
    scope: Scope | None = R  # the scope the route needs; None: any authenticated key


def _expect(default: int, **overrides: int) -> dict[str, int]:
    table = {p: default for p in PRINCIPALS}
    table.update(overrides)
    table["anonymous"] = overrides.get("anonymous", 401)
    return table


OWN_READ = _expect(200, outsider=404)
OWN_WRITE = _expect(200, viewer=403, outsider=404)
VISIBLE_WRITE = _expect(200, viewer=403, outsider=403)  # a public record: seen by all, changed by its owner
OWN_CREATE = _expect(201, viewer=403)
ADMIN_ONLY = _expect(200, member=403, viewer=403, outsider=404)
OPERATOR_ONLY = _expect(403, operator=200)
EVERYONE = _expect(200)

CASES = [
    Case("GET", "/api/v1/me", EVERYONE, scope=None),
    Case("GET", "/api/v1/orgs", EVERYONE, hidden=("alpha",)),
    Case(
        "POST",
        "/api/v1/orgs",
        _expect(403, operator=201),
        body={"slug": "newco-{who}", "name": "N", "country": "FR"},
        scope=Scope.org_manage,
    ),
    Case("GET", "/api/v1/orgs/alpha", OWN_READ),
    Case("PATCH", "/api/v1/orgs/alpha", ADMIN_ONLY, body={"name": "Alpha SA"}, scope=Scope.org_manage),
    Case("GET", "/api/v1/orgs/alpha/members", OWN_READ),
    Case(
        "POST",
        "/api/v1/orgs/alpha/members",
        _expect(201, member=403, viewer=403, outsider=404),
        body={"email": "{who}@example.com", "role": "viewer"},
        scope=Scope.org_manage,
    ),
    Case("GET", "/api/v1/orgs/alpha/keys", ADMIN_ONLY, scope=Scope.keys_manage),
    Case(
        "POST",
        "/api/v1/orgs/alpha/keys",
        _expect(201, member=403, viewer=403, outsider=404),
        body={"name": "k-{who}", "role": "viewer"},
        scope=Scope.keys_manage,
    ),
    Case("DELETE", "/api/v1/orgs/alpha/keys/{victim}", ADMIN_ONLY, scope=Scope.keys_manage),
    Case("GET", "/api/v1/models", EVERYONE, hidden=("alpha/private",)),
    Case("POST", "/api/v1/models", OWN_CREATE, body={"name": "m-{who}", "licence": "mit"}, scope=W),
    Case("GET", "/api/v1/models/alpha/private", OWN_READ),
    Case("GET", "/api/v1/models/alpha/open", EVERYONE),
    Case("PATCH", "/api/v1/models/alpha/private", OWN_WRITE, body={"parameters": 1.0e9}, scope=W),
    Case("PATCH", "/api/v1/models/alpha/open", VISIBLE_WRITE, body={"parameters": 2.0e9}, scope=W),
    Case("GET", "/api/v1/models/alpha/private/versions", OWN_READ),
    Case(
        "POST",
        "/api/v1/models/alpha/private/versions",
        _expect(201, viewer=403, outsider=404),
        body={"label": "v-{who}"},
        scope=W,
    ),
    Case(
        "POST",
        "/api/v1/models/alpha/open/versions",
        _expect(201, viewer=403, outsider=403),
        body={"label": "v-{who}"},
        scope=W,
    ),
    Case("GET", "/api/v1/models/alpha/private/versions/1", OWN_READ),
    Case("GET", "/api/v1/models/alpha/private/lineage", OWN_READ),
    Case(
        "POST",
        "/api/v1/derivations",
        _expect(201, viewer=403, outsider=404),
        body={"external_parent": "hf:base-{who}", "child": "alpha/child", "relation": "finetune"},
        scope=W,
    ),
    Case("GET", "/api/v1/systems", EVERYONE, hidden=("alpha/bot",)),
    Case(
        "POST", "/api/v1/systems", OWN_CREATE, body={"name": "s-{who}", "intended_purpose": "triage"}, scope=W
    ),
    Case("GET", "/api/v1/systems/alpha/bot", OWN_READ),
    Case("GET", "/api/v1/offers", EVERYONE, hidden=("alpha/private",)),
    Case(
        "POST",
        "/api/v1/offers",
        _expect(201, viewer=403, outsider=404, operator=201),
        body={"model": "alpha/private", "channel": "api", "brand": "b-{who}"},
        scope=W,
    ),
    Case("GET", "/api/v1/offers/{offer}", OWN_READ),
    Case("POST", "/api/v1/chain/check", EVERYONE, raw=MANIFEST, scope=None),
    Case("POST", "/api/v1/chain/import", OPERATOR_ONLY, raw=MANIFEST, scope=W),
    Case("GET", "/api/v1/chain/export", EVERYONE, hidden=("alpha/private", "alpha/bot")),
    Case(
        "GET",
        "/api/v1/audit",
        _expect(200, member=403, viewer=403),
        hidden=("alpha/private",),
        scope=Scope.audit_read,
    ),
    Case("GET", "/api/v1/audit/verify", OPERATOR_ONLY, scope=Scope.audit_read),
    Case("GET", "/metrics", OPERATOR_ONLY, scope=Scope.audit_read),
    *(Case(**vars(c)) for c in COMPLIANCE_CASES),
    # The API channel (market) and oversight: their services call authorize().
    Case(
        "PUT",
        "/api/v1/offers/{offer}/api-terms",
        ADMIN_ONLY,
        body={"access": "approval"},
        scope=W,
    ),
    Case(
        "POST",
        "/api/v1/offers/{offer}/entitlements",
        _expect(201, viewer=403, outsider=404),
        scope=Scope.inference,
    ),
    Case("GET", "/api/v1/entitlements", EVERYONE, hidden=("{entitlement}",)),
    # The owner approves first; later callers find it decided (409) unless they may not decide at all.
    Case(
        "POST",
        "/api/v1/entitlements/{entitlement}/approve",
        _expect(409, owner=200, member=403, viewer=403, outsider=404),
        scope=W,
    ),
    Case("GET", "/api/v1/usage", EVERYONE),
    Case("GET", "/api/v1/downloads", EVERYONE, scope=Scope.hub_read),  # a hub report: needs `hub:read`
    Case(
        "POST",
        "/api/v1/misuse-rules",
        _expect(201, member=403, viewer=403),
        body={"name": "r-{who}", "kind": "pattern", "action": "flag", "pattern": "forbidden"},
        scope=Scope.org_manage,
    ),
    Case("GET", "/api/v1/misuse-events", EVERYONE),
    Case(
        "POST",
        "/api/v1/suspensions",
        _expect(201, member=403, viewer=403),
        body={"subject_type": "org", "subject_id": "ops", "reason": "test by {who}"},
        scope=Scope.org_manage,
    ),
    Case(
        "POST",
        "/api/v1/reinstatements",
        _expect(409, owner=200, member=403, viewer=403),
        body={"subject_type": "org", "subject_id": "beta", "reason": "cleared"},
        scope=Scope.org_manage,
    ),
    # Consent along the chain (issue 9): beta named alpha as a deployer; alpha lets beta resell a model.
    Case("GET", "/api/v1/claims", EVERYONE),
    Case("GET", "/api/v1/claims/{claim}", EVERYONE),
    Case(
        "POST", "/api/v1/claims/{claim}/confirm", _expect(200, member=403, viewer=403, outsider=403), scope=W
    ),
    Case(
        "POST", "/api/v1/claims/{claim}/reject", _expect(200, member=403, viewer=403, outsider=403), scope=W
    ),
    Case("GET", "/api/v1/agreements", EVERYONE),
    Case(
        "POST",
        "/api/v1/agreements",
        _expect(201, member=403, viewer=403, outsider=404),
        body={"agent": "beta", "model": "alpha/private", "channels": ["marketplace"]},
        scope=W,
    ),
    Case(
        "DELETE",
        "/api/v1/agreements/{agreement}",
        _expect(409, owner=200, member=403, viewer=403, outsider=403),
        scope=W,
    ),  # Channels (issue 11): lifecycle, notifications, webhooks, kits, maintenance, white label.
    Case(
        "POST",
        "/api/v1/models/alpha/private/versions/1/lifecycle",
        _expect(422, owner=200, viewer=403, outsider=404),  # the owner moves it first; then it is legacy
        body={"stage": "legacy"},
        scope=W,
    ),
    Case("GET", "/api/v1/notifications", EVERYONE),
    Case(
        "POST",
        "/api/v1/webhooks",
        _expect(201, member=403, viewer=403),
        body={"url": "https://hooks.example.test/{who}"},
        scope=Scope.org_manage,
    ),
    Case("GET", "/api/v1/webhooks", EVERYONE, hidden=("hooks.example.test/owner",)),
    Case("GET", "/api/v1/offers/{offer}/kit", OWN_READ),
    Case(
        "PUT",
        "/api/v1/offers/{offer}/support",
        ADMIN_ONLY,
        body={"response_time_hours": 4, "patch_cadence_days": 7},
        scope=W,
    ),
    Case("GET", "/api/v1/offers/{offer}/service-level", OWN_READ),
    Case(
        "POST",
        "/api/v1/resellers",
        _expect(201, member=403, viewer=403, outsider=404),
        body={
            "reseller": "beta",
            "model": "alpha/private",
            "wholesale_input_per_mtok": 1,
            "wholesale_output_per_mtok": 1,
            "max_markup_pct": 10,
            "max_customers": 1,
        },
        scope=W,
    ),
    Case("GET", "/api/v1/resellers", EVERYONE),
    Case(
        "POST",
        "/api/v1/white-label",
        _expect(404, viewer=403),  # nobody holds reseller terms `agr_missing`
        body={"agreement": "agr_missing", "model_name": "nimbus", "brand": "Nimbus", "markup_pct": 0},
        scope=W,
    ),
    Case(
        "POST",
        "/api/v1/white-label/{offer}/customers",
        _expect(404, member=403, viewer=403),  # an api offer is no white-label offer
        body={"customer": "beta"},
        scope=W,
    ),
    Case(
        "PUT",
        "/api/v1/brand",
        _expect(200, member=403, viewer=403),
        body={"host": "{who}.example.test", "display_name": "Brand of {who}"},
        scope=Scope.org_manage,
    ),
    # The marketplace (issue 11): credits, listings, licences, traceable copies, invoices.
    Case("GET", "/api/v1/credits", EVERYONE),
    Case(
        "POST",
        "/api/v1/credits/grants",
        _expect(403, operator=201),
        body={"org": "beta", "amount": 1, "idempotency_key": "k-{who}"},
        scope=Scope.org_manage,
    ),
    Case("GET", "/api/v1/market/listings", EVERYONE),
    Case("GET", "/api/v1/market/signing-key", EVERYONE),
    Case(
        "POST",
        "/api/v1/market/listings",
        _expect(201, viewer=403, outsider=404, operator=403),
        body={"offer": "{offer}", "kind": "sale", "title": "t-{who}", "price": 1, "licence": "x"},
        scope=W,
    ),
    Case("POST", "/api/v1/market/listings/{listing_id}/withdraw", _expect(404, viewer=403), scope=W),
    Case(
        "POST",
        "/api/v1/market/listings/{listing_id}/buy",
        _expect(422, viewer=403),
        body={"price": 1},
        scope=Scope.inference,
    ),
    Case("GET", "/api/v1/licences", EVERYONE),
    Case("POST", "/api/v1/licences/{licence_id}/renew", _expect(404, viewer=403), scope=Scope.inference),
    Case("POST", "/api/v1/licences/{licence_id}/cancel", _expect(404, viewer=403), scope=Scope.inference),
    Case("GET", "/api/v1/licences/{licence_id}/files/{path}", _expect(404)),
    Case("GET", "/api/v1/licences/{licence_id}/manifest", _expect(404)),
    Case("POST", "/api/v1/market/trace", _expect(404), raw=b"not a weights file"),
    Case("GET", "/api/v1/invoices/{org}/{month}", _expect(404)),
    Case("GET", "/api/v1/charges/{charge_id}/invoice", _expect(404)),
]

OPERATOR_ROUTES = {
    (c.method, c.path) for c in CASES if c.expect["owner"] == 403 and c.expect["operator"] < 300
}


def _world(client: TestClient, db: Database) -> dict[str, Any]:
    """Org alpha with a private and a public model, a child, a system and an offer; org beta outside."""
    for slug in ("alpha", "beta", "ops"):
        make_org(db, slug)
    keys = {role: make_key(db, "alpha", role) for role in ("owner", "admin", "member", "viewer")}
    keys["outsider"] = make_key(db, "beta", "admin")
    keys["operator"] = make_key(db, "ops", "owner", operator=True)
    h = auth(keys["owner"])
    for name, visibility in (("private", "private"), ("open", "public"), ("child", "private")):
        response = client.post("/api/v1/models", json={"name": name, "visibility": visibility}, headers=h)
        assert response.status_code == 201, response.text
        response = client.post(f"/api/v1/models/alpha/{name}/versions", json={"label": "1"}, headers=h)
        assert response.status_code == 201, response.text
    system = {"name": "bot", "models": ["alpha/private"], "deployers": ["alpha"], "intended_purpose": "chat"}
    assert client.post("/api/v1/systems", json=system, headers=h).status_code == 201
    offer = client.post("/api/v1/offers", json={"model": "alpha/private", "channel": "api"}, headers=h).json()
    # The API channel: a waitlist with one pending request (from the operator's org) and one suspension.
    terms = client.put(f"/api/v1/offers/{offer['id']}/api-terms", json={"access": "approval"}, headers=h)
    assert terms.status_code == 200, terms.text
    ops = auth(keys["operator"])
    entitlement = client.post(f"/api/v1/offers/{offer['id']}/entitlements", headers=ops).json()
    suspension = {"subject_type": "org", "subject_id": "beta", "reason": "probing"}
    assert client.post("/api/v1/suspensions", json=suspension, headers=h).status_code == 201
    # Consent (issue 9): beta names alpha as a deployer (a claim alpha answers); alpha lets beta resell.
    kiosk = {"name": "kiosk", "deployers": ["alpha"], "intended_purpose": "kiosk"}
    assert client.post("/api/v1/systems", json=kiosk, headers=auth(keys["outsider"])).status_code == 201
    [claim] = client.get("/api/v1/claims", headers=h).json()
    resale = {"agent": "beta", "model": "alpha/private", "channels": ["white_label"]}
    agreement = client.post("/api/v1/agreements", json=resale, headers=h).json()
    # Issue 13: an incident of alpha's system; a complaint by an affected person about alpha's public model.
    body = {"subject": "alpha/bot", "category": "health", "aware_on": "2026-11-01", "description": "harm"}
    incident = client.post("/api/v1/incidents", json=body, headers=h).json()
    body = {"subject": "alpha/open", "text": "it harmed me complaint-text-secret"}
    complaint = client.post("/api/v1/complaints", json=body).json()
    return {
        "incident": incident["id"],
        "complaint": complaint["id"],
        "keys": keys,
        "offer": offer["id"],
        "entitlement": entitlement["id"],
        "claim": claim["id"],
        "agreement": agreement["id"],
    }


def _fill(value: Any, who: str, offer: str = "") -> Any:
    if isinstance(value, dict):
        return {
            k: v.replace("{who}", who).replace("{offer}", offer) if isinstance(v, str) else v
            for k, v in value.items()
        }
    return value


def _request(client: TestClient, db: Database, case: Case, world: dict[str, Any], who: str) -> Any:
    path = case.path.replace("{offer}", world["offer"]).replace("{entitlement}", world["entitlement"])
    path = path.replace("{claim}", world["claim"]).replace("{agreement}", world["agreement"])
    path = path.replace("{incident}", world["incident"]).replace("{complaint}", world["complaint"])
    if "{victim}" in path:
        make_key(db, "alpha", "viewer")
        key_id = client.get("/api/v1/orgs/alpha/keys", headers=auth(world["keys"]["owner"])).json()[-1]["id"]
        path = path.replace("{victim}", key_id)
    headers = auth(world["keys"][who]) if who != "anonymous" else {}
    if case.raw is not None:
        return client.request(
            case.method, path, content=case.raw, headers=headers | {"content-type": "application/yaml"}
        )
    return client.request(case.method, path, json=_fill(case.body, who, world["offer"]), headers=headers)


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.method} {c.path}")
def test_route_role_tenant(client: TestClient, db: Database, case: Case) -> None:
    world = _world(client, db)
    for who in PRINCIPALS:
        response = _request(client, db, case, world, who)
        assert response.status_code == case.expect[who], (who, response.status_code, response.text)
        if who == "outsider" and response.status_code == 200:
            for secret in case.hidden:
                secret = secret.replace("{entitlement}", world["entitlement"]).replace(
                    "{offer}", world["offer"]
                )
                assert secret not in response.text, (who, secret)
        if response.status_code >= 400:
            assert set(response.json()["error"]) == {"code", "message", "details"}


def _scope_params() -> list[Any]:
    return [
        pytest.param(case, id=f"{case.method} {case.path} -{case.scope.value}")
        for case in CASES
        if case.scope is not None
    ]


@pytest.mark.parametrize("case", _scope_params())
def test_route_needs_its_scope(client: TestClient, db: Database, case: Case) -> None:
    """A key of the right role (the owner's, or the operator's) lacking the route's scope gets 403."""
    assert case.scope is not None
    world = _world(client, db)
    operator = (case.method, case.path) in OPERATOR_ROUTES
    org, role = ("ops", "owner") if operator else ("alpha", "owner")
    scopes = sorted(s.value for s in ROLE_SCOPES[Role(role)] - {case.scope})
    world["keys"]["scoped"] = make_key(db, org, role, operator=operator, scopes=scopes)
    response = _request(client, db, case, world, "scoped")
    assert response.status_code == 403, response.text
    assert response.json()["error"]["code"] == "forbidden"
    assert case.scope.value in response.json()["error"]["message"]


def test_every_route_declares_a_scope_or_none() -> None:
    """Every case names the scope it needs; only two routes need none (who am I, manifest check)."""
    assert {(c.method, c.path) for c in CASES if c.scope is None} == {
        ("GET", "/api/v1/me"),
        ("POST", "/api/v1/chain/check"),
        ("POST", "/api/v1/complaints"),  # affected persons need no account (issue 13)
        ("GET", "/api/v1/complaints/{complaint}"),
    }


def _normalise(method: str, path: str) -> tuple[str, str]:
    for generic, concrete in (
        ("{slug}", "alpha"),
        ("{org}/{name}", "alpha/private"),
        ("{label}", "1"),
        ("{offer_id}", "{offer}"),
        ("{key_id}", "{victim}"),
        ("{entitlement_id}/{decision}", "{entitlement}/approve"),
        ("{claim_id}", "{claim}"),
        ("{agreement_id}", "{agreement}"),
        ("{incident_id}", "{incident}"),
        ("{complaint_id}", "{complaint}"),
        ("{kind}", "annex-xi"),
        ("{org}/obligations", "alpha/obligations"),
        ("{org}/evidence", "alpha/evidence"),
        ("{org}/evaluations", "alpha/evaluations"),
        ("{org}/models/{name}", "alpha/models/private"),
        ("alpha/open", "alpha/private"),
        ("alpha/bot", "alpha/private"),
    ):
        path = path.replace(generic, concrete)
    return method, path


def _api_routes(app: FastAPI) -> set[tuple[str, str]]:
    # From the OpenAPI document: every APIRoute the platform app serves (the hub app is mounted apart).
    return {
        (method.upper(), path) for path, operations in app.openapi()["paths"].items() for method in operations
    }


def test_matrix_covers_every_api_route(app: FastAPI) -> None:
    routes = {r for r in _api_routes(app) if r[1].startswith("/api/v1")}
    assert len(routes) > 30  # the document really lists the API
    covered = {_normalise(c.method, c.path) for c in CASES}
    # publishing a fine-tune: its owner, viewer, outsider, missing and scope cases in tests/finetune/test_publish.py
    covered.add(("POST", "/api/v1/fine_tuning/jobs/{job_id}/publish"))
    assert {_normalise(m, p) for m, p in routes} <= covered, sorted(
        {_normalise(*r) for r in routes} - covered
    )


# ---------------------------------------------------------------------------------------------------- /v1

V1_PRINCIPALS = ("anonymous", "wrong_key", "no_inference", "outsider", "owner")
CHAT = {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 4}


@dataclass(frozen=True)
class V1Case:
    method: str
    path: str
    body: dict[str, Any] | None
    owner: int  # what the owner of the offer gets (past the permission check)
    names_model: bool = True  # the outsider naming a private model gets what naming a missing one gets


V1_CASES = [
    V1Case("GET", "/v1/models", None, owner=200, names_model=False),
    V1Case("GET", "/v1/models/{model}", None, owner=200),
    V1Case("POST", "/v1/chat/completions", {"model": "{model}", **CHAT}, owner=503),
    V1Case("POST", "/v1/completions", {"model": "{model}", "prompt": "hi", "max_tokens": 4}, owner=503),
    V1Case("POST", "/v1/embeddings", {"model": "{model}", "input": "hi"}, owner=503),
    V1Case("GET", "/tokenizer_info?model={model}", None, owner=503),
    V1Case("POST", "/tokenize", {"model": "{model}", "prompt": "hi"}, owner=503),
    V1Case("POST", "/detokenize", {"model": "{model}", "tokens": [1]}, owner=503),
]


def _v1_world(client: TestClient, db: Database) -> dict[str, Any]:
    """Alpha offers a private model on the API channel (open access) with no backend bound."""
    for slug in ("alpha", "beta"):
        make_org(db, slug)
    owner = make_key(db, "alpha", "owner")
    h = auth(owner)
    assert client.post("/api/v1/models", json={"name": "private"}, headers=h).status_code == 201
    assert (
        client.post("/api/v1/models/alpha/private/versions", json={"label": "1"}, headers=h).status_code
        == 201
    )
    offer = client.post("/api/v1/offers", json={"model": "alpha/private", "channel": "api"}, headers=h).json()
    terms = client.put(f"/api/v1/offers/{offer['id']}/api-terms", json={"access": "open"}, headers=h)
    assert terms.status_code == 200, terms.text
    assert client.post(f"/api/v1/offers/{offer['id']}/entitlements", headers=h).status_code == 201
    return {
        "owner": owner,
        "outsider": make_key(db, "beta", "owner"),
        "no_inference": make_key(db, "alpha", "owner", scopes=[s.value for s in ROLE_SCOPES[Role.owner] - {Scope.inference}]),
        "wrong_key": "vc_" + "0" * 40,
    }  # fmt: skip


def _v1_request(client: TestClient, case: V1Case, secret: str | None, model: str) -> httpx.Response:
    path = case.path.replace("{model}", model)
    body = {k: v.replace("{model}", model) if isinstance(v, str) else v for k, v in (case.body or {}).items()}
    headers = auth(secret) if secret else {}
    return client.request(case.method, path, json=body if case.body is not None else None, headers=headers)


@pytest.mark.parametrize("case", V1_CASES, ids=lambda c: f"{c.method} {c.path}")
def test_v1_route_key_scope_tenant(client: TestClient, db: Database, case: V1Case) -> None:
    keys = _v1_world(client, db)
    expected = {"anonymous": 401, "wrong_key": 401, "no_inference": 403, "owner": case.owner}
    for who, status in expected.items():
        response = _v1_request(client, case, keys.get(who), "alpha/private")
        assert response.status_code == status, (who, response.text)
        if status >= 400:
            assert set(response.json()["error"]) >= {"message", "type", "code"}  # the OpenAI error object
    if case.names_model:
        hidden = _v1_request(client, case, keys["outsider"], "alpha/private")
        missing = _v1_request(client, case, keys["outsider"], "alpha/ghost")
        assert hidden.status_code == missing.status_code == 404, hidden.text
        a, b = hidden.json()["error"], missing.json()["error"]
        assert a["message"].replace("alpha/private", "<m>") == b["message"].replace("alpha/ghost", "<m>")
        assert (a["type"], a["code"]) == (b["type"], b["code"])


def test_matrix_covers_every_v1_route(app: FastAPI) -> None:
    """From the app's route table: every route outside /api, /hub, the health probes and the web console
    (its own matrix: tests/console/test_routes.py) is a /v1 route."""
    from valuechain.console import ROUTERS as CONSOLE_ROUTERS

    console = {r for router in CONSOLE_ROUTERS for r in _route_table(router.routes)}
    routes = {
        (m, p.replace(":path}", "}"))
        for m, p in _route_table(app.routes) - console
        if not p.startswith(("/api/", "/hub", "/healthz", "/readyz", "/metrics"))  # /metrics: in CASES
    }
    assert ("POST", "/v1/chat/completions") in routes
    covered = {(c.method, c.path.split("?")[0].replace("{model}", "{model_id}")) for c in V1_CASES}
    covered |= {("GET", p) for p in DOCS_PAGES if not p.startswith("/hub/")}
    covered |= {(c.method, c.path) for c in FT_CASES}  # fine-tuning: tests/finetune/test_authz.py
    assert routes <= covered, sorted(routes - covered)


# ----------------------------------------------------------------------------------------------- docs pages

# The API reference of the platform and of the hub (pages, the script they load, the schemas): public. The
# static mount of the other assets (/docs-assets) is no route of the table and is covered by tests/api/test_docs.py.
DOCS_PAGES = (
    "/docs",
    "/redoc",
    "/docs-assets/redoc.standalone.js",
    "/openapi.json",
    "/hub/docs",
    "/hub/redoc",
    "/hub/openapi.json",
)


@pytest.mark.parametrize("path", DOCS_PAGES)
def test_docs_pages_are_public(client: TestClient, db: Database, path: str) -> None:
    """Every caller gets the reference: anonymous, any role, another organisation, a key with one scope."""
    for slug in ("alpha", "beta"):
        make_org(db, slug)
    keys: dict[str, str | None] = {
        "anonymous": None,
        "owner": make_key(db, "alpha", "owner"),
        "viewer": make_key(db, "alpha", "viewer"),
        "outsider": make_key(db, "beta", "admin"),
        "inference_only": make_key(db, "alpha", "owner", scopes=["inference"]),
    }
    for who, secret in keys.items():
        response = client.get(path, headers=auth(secret) if secret else {})
        assert response.status_code == 200, (who, response.status_code, response.text[:200])


# ---------------------------------------------------------------------------------------------------- /hub

HUB_PRINCIPALS = ("owner", "viewer", "outsider", "anonymous", "scoped")
CARD = b"---\nlicense: apache-2.0\npipeline_tag: text-generation\n---\n# Secret\n"
CONFIG = b'{"model_type": "tiny"}'
XET = "/xet-unsupported/set-HF_HUB_DISABLE_XET=1-to-upload-through-LFS/x"


@dataclass(frozen=True)
class HubCase:
    """A hub route on alpha's private repo ``alpha/secret``; ``scope`` is what the route needs."""

    method: str
    path: str
    expect: dict[str, int]
    scope: Scope | None = Scope.hub_read
    json: Any = None
    form: dict[str, Any] | None = None
    content: bytes | None = None


def _hub(default: int, **overrides: int) -> dict[str, int]:
    table = {p: default for p in HUB_PRINCIPALS}
    table.update(overrides)
    return table


HUB_READ = _hub(200, outsider=404, anonymous=404, scoped=403)
HUB_WRITE = _hub(200, viewer=403, outsider=404, anonymous=401, scoped=403)
HUB_MANAGE = _hub(200, viewer=403, outsider=404, anonymous=401, scoped=403)
DECIDE = _hub(404, viewer=403, anonymous=401, scoped=403)
RS = "/api/models/alpha/secret"


def _commit_body() -> bytes:
    lines = [
        {"key": "header", "value": {"summary": "more"}},
        {"key": "file", "value": {"path": "extra.txt", "content": base64.b64encode(b"x").decode(), "encoding": "base64"}},
    ]  # fmt: skip
    return "\n".join(json.dumps(line) for line in lines).encode()


LFS_OID = hashlib.sha256(b"weights").hexdigest()

HUB_CASES = [
    # Who am I names the caller and reads no repo: any key, as /api/v1/me (a `hub:write`-only key uploads).
    HubCase("GET", "/api/whoami-v2", _hub(200, outsider=200, anonymous=401), scope=None),
    HubCase("GET", "/api/models", _hub(200, outsider=200, anonymous=200)),
    HubCase("GET", RS, HUB_READ),
    HubCase("GET", RS + "/revision/main", HUB_READ),
    HubCase("GET", RS + "/tree/main", HUB_READ),
    HubCase("GET", RS + "/tree/main/sub", HUB_READ),
    HubCase("POST", RS + "/paths-info/main", HUB_READ, form={"paths": ["config.json"]}),
    HubCase("GET", RS + "/refs", HUB_READ),
    HubCase("GET", RS + "/commits/main", HUB_READ),
    HubCase("GET", RS + "/auth-check", HUB_READ),
    HubCase("GET", RS + "/lineage", HUB_READ),
    HubCase("GET", "/alpha/secret/resolve/main/config.json", HUB_READ),
    HubCase("HEAD", "/alpha/secret/resolve/main/config.json", HUB_READ),
    # Accepting terms of a repo that is not gated: 422 for those who see it, RepoNotFound for the others.
    HubCase("POST", RS + "/accept", _hub(422, outsider=404, anonymous=401, scoped=403)),
    # Statistics and access requests are the admins' (repo_manage: `hub:write`); reading them needs `hub:read` too.
    HubCase("GET", RS + "/downloads", HUB_MANAGE),
    HubCase("GET", RS + "/user-access-request/pending", HUB_MANAGE),
    HubCase("GET", RS + "/downloads", HUB_MANAGE, scope=Scope.hub_write),
    HubCase("GET", RS + "/user-access-request/pending", HUB_MANAGE, scope=Scope.hub_write),
    # The admin decides only on organisations that asked; beta never asked (it cannot see the repo), so the
    # owner gets "no access request" (404, not RepoNotFound): past the permission check, and no oracle.
    HubCase("POST", RS + "/user-access-request/grant", DECIDE, scope=Scope.hub_write, json={"user": "beta"}),
    HubCase("POST", RS + "/user-access-request/handle", DECIDE, scope=Scope.hub_write, json={"user": "beta", "status": "rejected"}),
    HubCase("POST", RS + "/release", HUB_MANAGE, scope=Scope.hub_write, json={"gated": "manual"}),
    HubCase("PUT", RS + "/settings", HUB_MANAGE, scope=Scope.hub_write, json={"gated": "manual"}),
    HubCase("POST", RS + "/branch/dev", HUB_WRITE, scope=Scope.hub_write),
    HubCase("DELETE", RS + "/branch/old", HUB_WRITE, scope=Scope.hub_write),
    HubCase("POST", RS + "/tag/main", HUB_WRITE, scope=Scope.hub_write, json={"tag": "v1"}),
    HubCase("DELETE", RS + "/tag/v0", HUB_WRITE, scope=Scope.hub_write),
    HubCase("POST", RS + "/preupload/main", HUB_WRITE, scope=Scope.hub_write, json={"files": [{"path": "a.txt", "size": 1, "sample": "YQ=="}]}),
    HubCase("POST", RS + "/commit/main", HUB_WRITE, scope=Scope.hub_write, content=_commit_body()),
    # Xet tokens point whoever may use them at the Xet refusal (a write token needs `hub:write`, which the
    # viewer role lacks); the others learn nothing (RepoNotFound).
    HubCase("GET", RS + "/xet-write-token/main", _hub(200, viewer=403, outsider=404, anonymous=401), scope=Scope.hub_write),
    HubCase("GET", RS + "/xet-read-token/main", _hub(200, outsider=404, anonymous=401)),
    HubCase("POST", "/alpha/secret.git/info/lfs/objects/batch", HUB_WRITE, scope=Scope.hub_write,
            json={"operation": "upload", "transfers": ["basic"], "objects": [{"oid": LFS_OID, "size": 7}]}),
    # Uploads are authorised by the signed URL the batch answer hands out, not by a key: unsigned, 400.
    HubCase("PUT", "/api/lfs/upload/" + LFS_OID, _hub(400), scope=None, content=b"weights"),
    HubCase("POST", "/api/lfs/verify/" + LFS_OID, _hub(400), scope=None, json={"oid": LFS_OID, "size": 7}),
    HubCase("POST", "/api/repos/create", _hub(200, viewer=403, outsider=403, anonymous=401, scoped=403),
            scope=Scope.hub_write, json={"name": "new", "organization": "alpha", "private": True}),
    HubCase("DELETE", "/api/repos/delete", HUB_MANAGE, scope=Scope.hub_write, json={"name": "secret", "organization": "alpha"}),
    # Repo maintenance is the admins' (issue 15): LFS objects (listing also needs `hub:read`), squash, move.
    HubCase("GET", RS + "/lfs-files", HUB_MANAGE),
    HubCase("GET", RS + "/lfs-files", HUB_MANAGE, scope=Scope.hub_write),
    HubCase("POST", RS + "/lfs-files/batch", HUB_MANAGE, scope=Scope.hub_write,
            json={"deletions": {"sha": [LFS_OID], "rewriteHistory": True}}),
    HubCase("POST", RS + "/super-squash/main", HUB_MANAGE, scope=Scope.hub_write, json={"message": "squash"}),
    HubCase("POST", "/api/repos/move", HUB_MANAGE, scope=Scope.hub_write,
            json={"fromRepo": "alpha/secret", "toRepo": "alpha/renamed", "type": "model"}),
    HubCase("POST", "/api/validate-yaml", _hub(200), scope=None, json={"content": "---\nlicense: mit\n---\n", "repoType": "model"}),
    *(HubCase(m, XET, _hub(400), scope=None) for m in ("GET", "POST", "PUT", "HEAD")),
]  # fmt: skip


def _hub_world(client: TestClient, db: Database) -> dict[str, str]:
    """Alpha's private repo ``alpha/secret`` with a card, a config, branch ``old`` and tag ``v0``."""
    for slug in ("alpha", "beta"):
        make_org(db, slug)
    keys = {"owner": make_key(db, "alpha", "admin"), "viewer": make_key(db, "alpha", "viewer")}
    keys["outsider"] = make_key(db, "beta", "admin")
    h = auth(keys["owner"])
    body = {"name": "secret", "organization": "alpha", "private": True}
    assert client.post("/hub/api/repos/create", json=body, headers=h).status_code == 200
    lines = [{"key": "header", "value": {"summary": "init"}}] + [
        {"key": "file", "value": {"path": p, "content": base64.b64encode(c).decode(), "encoding": "base64"}}
        for p, c in (("README.md", CARD), ("config.json", CONFIG), ("sub/x.txt", b"x"))
    ]
    content = "\n".join(json.dumps(line) for line in lines)
    response = client.post(f"/hub{RS}/commit/main", content=content, headers=h)
    assert response.status_code == 200, response.text
    assert client.post(f"/hub{RS}/branch/old", headers=h).status_code == 200
    assert client.post(f"/hub{RS}/tag/main", json={"tag": "v0"}, headers=h).status_code == 200
    return keys


def _hub_request(client: TestClient, case: HubCase, secret: str | None) -> httpx.Response:
    headers = auth(secret) if secret else {}
    kwargs: dict[str, Any] = {"headers": headers}
    if case.json is not None:
        kwargs["json"] = case.json
    if case.form is not None:
        kwargs["data"] = case.form
    if case.content is not None:
        kwargs["content"] = case.content
    return client.request(case.method, "/hub" + case.path, **kwargs)


def _hub_params(scoped: bool) -> list[Any]:
    """Each case once per route for the tenant test (a route needing two scopes has a case per scope)."""
    if scoped:
        return [
            pytest.param(case, id=f"{case.method} {case.path} -{case.scope.value}")
            for case in HUB_CASES
            if case.scope is not None
        ]
    routes: dict[tuple[str, str], HubCase] = {}
    for case in HUB_CASES:
        routes.setdefault((case.method, case.path), case)
    return [pytest.param(case, id=f"{m} {p}") for (m, p), case in routes.items()]


@pytest.mark.parametrize("case", _hub_params(scoped=False))
def test_hub_route_role_tenant(client: TestClient, db: Database, case: HubCase) -> None:
    """Another organisation's private repo is ``RepoNotFound``, exactly as a repo that does not exist."""
    keys = _hub_world(client, db)
    for who in ("outsider", "anonymous", "viewer", "owner"):  # the owner last: some cases change the repo
        response = _hub_request(client, case, keys.get(who))
        assert response.status_code == case.expect[who], (who, response.status_code, response.text)
        if response.status_code == 404 and who in ("outsider", "anonymous"):
            assert response.headers.get("x-error-code") == "RepoNotFound", (who, response.headers)
            missing = _hub_request(client, HubCase(case.method, case.path.replace("secret", "ghost"), {}, json=case.json, form=case.form, content=case.content), keys.get(who))  # fmt: skip
            assert missing.status_code == 404
            assert missing.headers.get("x-error-message", "").replace(
                "ghost", "secret"
            ) == response.headers.get("x-error-message")
        if response.status_code == 404 and who in ("viewer", "owner"):  # they see the repo: not RepoNotFound
            assert response.headers.get("x-error-code") != "RepoNotFound", (who, response.text)
        if who == "outsider" and response.status_code == 200:
            assert "alpha/secret" not in response.text


@pytest.mark.parametrize("case", _hub_params(scoped=True))
def test_hub_route_needs_its_scope(client: TestClient, db: Database, case: HubCase) -> None:
    """An admin key of the repo's owner lacking the route's scope (``hub:read`` or ``hub:write``) gets 403."""
    assert case.scope is not None
    _hub_world(client, db)
    scopes = sorted(s.value for s in ROLE_SCOPES[Role.admin] - {case.scope})
    response = _hub_request(client, case, make_key(db, "alpha", "admin", scopes=scopes))
    assert response.status_code == 403, response.text


def _route_table(routes: list[Any], prefix: str = "") -> set[tuple[str, str]]:
    """(method, path) of every APIRoute, through routers that FastAPI includes lazily."""
    found = set()
    for route in routes:
        if isinstance(route, APIRoute):
            found |= {(method, prefix + route.path) for method in route.methods}
        elif hasattr(route, "original_router"):  # FastAPI ≥ 0.165 keeps included routers as they are
            found |= _route_table(route.original_router.routes, prefix + route.include_context.prefix)
    return found


def _hub_routes(app: FastAPI) -> set[tuple[str, str]]:
    """From the mounted hub app's own route table (it has no OpenAPI document)."""
    hub = next(r.app for r in app.routes if isinstance(r, Mount) and r.path == "/hub")
    return _route_table(hub.routes)


def test_matrix_covers_every_hub_route(app: FastAPI) -> None:
    import re

    routes = _hub_routes(app)
    assert len(routes) > 30
    uncovered = set()
    for method, path in routes:
        pattern = re.sub(r"\\\{[^}]+\\\}", "[^?]+", re.escape(path))
        if not any(c.method == method and re.fullmatch(pattern, c.path) for c in HUB_CASES):
            uncovered.add((method, path))
    uncovered -= {("GET", p.removeprefix("/hub")) for p in DOCS_PAGES if p.startswith("/hub/")}
    assert not uncovered, sorted(uncovered)
