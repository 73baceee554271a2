"""Every /api/v1 route × role × tenant: an organisation never reads or changes another's private records."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.compliance.matrix_cases import COMPLIANCE_CASES
from tests.conftest import auth, make_key, make_org
from valuechain.core.db import Database

PRINCIPALS = ("owner", "admin", "member", "viewer", "outsider", "operator", "anonymous")
MANIFEST = b"valuechain: 1\nactors:\n  - {id: gamma, name: Gamma, country: IT}\n"


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    expect: dict[str, int]
    body: Any = None
    raw: bytes | None = None
    hidden: tuple[str, ...] = field(default=())  # strings the outsider must never see in a 200 answer


def _expect(default: int, **overrides: int) -> dict[str, int]:
    table = {p: default for p in PRINCIPALS}
    table.update(overrides)
    table.setdefault("anonymous", 401)
    table["anonymous"] = overrides.get("anonymous", 401)
    return table


OWN_READ = _expect(200, outsider=404)
OWN_WRITE = _expect(200, viewer=403, outsider=404)
OWN_CREATE = _expect(201, viewer=403)
ADMIN_ONLY = _expect(200, member=403, viewer=403, outsider=404)
OPERATOR_ONLY = _expect(403, operator=200)
EVERYONE = _expect(200)

CASES = [
    Case("GET", "/api/v1/me", EVERYONE),
    Case("GET", "/api/v1/orgs", EVERYONE, hidden=("alpha",)),
    Case(
        "POST",
        "/api/v1/orgs",
        _expect(403, operator=201),
        body={"slug": "newco-{who}", "name": "N", "country": "FR"},
    ),
    Case("GET", "/api/v1/orgs/alpha", OWN_READ),
    Case("PATCH", "/api/v1/orgs/alpha", ADMIN_ONLY, body={"name": "Alpha SA"}),
    Case("GET", "/api/v1/orgs/alpha/members", OWN_READ),
    Case(
        "POST",
        "/api/v1/orgs/alpha/members",
        _expect(201, member=403, viewer=403, outsider=404),
        body={"email": "{who}@example.com", "role": "viewer"},
    ),  # fmt: skip
    Case("GET", "/api/v1/orgs/alpha/keys", ADMIN_ONLY),
    Case(
        "POST",
        "/api/v1/orgs/alpha/keys",
        _expect(201, member=403, viewer=403, outsider=404),
        body={"name": "k-{who}", "role": "viewer"},
    ),  # fmt: skip
    Case("DELETE", "/api/v1/orgs/alpha/keys/{victim}", ADMIN_ONLY),
    Case("GET", "/api/v1/models", EVERYONE, hidden=("alpha/private",)),
    Case("POST", "/api/v1/models", OWN_CREATE, body={"name": "m-{who}", "licence": "mit"}),
    Case("GET", "/api/v1/models/alpha/private", OWN_READ),
    Case("GET", "/api/v1/models/alpha/open", EVERYONE),
    Case("PATCH", "/api/v1/models/alpha/private", OWN_WRITE, body={"parameters": 1.0e9}),
    Case(
        "PATCH",
        "/api/v1/models/alpha/open",
        _expect(200, viewer=403, outsider=404),
        body={"parameters": 2.0e9},
    ),
    Case("GET", "/api/v1/models/alpha/private/versions", OWN_READ),
    Case(
        "POST",
        "/api/v1/models/alpha/private/versions",
        _expect(201, viewer=403, outsider=404),
        body={"label": "v-{who}"},
    ),  # fmt: skip
    Case("GET", "/api/v1/models/alpha/private/versions/1", OWN_READ),
    Case("GET", "/api/v1/models/alpha/private/lineage", OWN_READ),
    Case(
        "POST",
        "/api/v1/derivations",
        _expect(201, viewer=403, outsider=404),
        body={"external_parent": "hf:base-{who}", "child": "alpha/child", "relation": "finetune"},
    ),  # fmt: skip
    Case("GET", "/api/v1/systems", EVERYONE, hidden=("alpha/bot",)),
    Case("POST", "/api/v1/systems", OWN_CREATE, body={"name": "s-{who}", "intended_purpose": "triage"}),
    Case("GET", "/api/v1/systems/alpha/bot", OWN_READ),
    Case("GET", "/api/v1/offers", EVERYONE, hidden=("alpha/private",)),
    Case(
        "POST",
        "/api/v1/offers",
        _expect(201, viewer=403, outsider=404, operator=201),
        body={"model": "alpha/private", "channel": "api", "brand": "b-{who}"},
    ),  # fmt: skip
    Case("GET", "/api/v1/offers/{offer}", OWN_READ),
    Case("POST", "/api/v1/chain/check", EVERYONE, raw=MANIFEST),
    Case("POST", "/api/v1/chain/import", OPERATOR_ONLY, raw=MANIFEST),
    Case("GET", "/api/v1/chain/export", EVERYONE, hidden=("alpha/private", "alpha/bot")),
    Case("GET", "/api/v1/audit", _expect(200, member=403, viewer=403), hidden=("alpha/private",)),
    Case("GET", "/api/v1/audit/verify", OPERATOR_ONLY),
    *COMPLIANCE_CASES,
    # The API channel (issue 3) and hub reports (issue 4).
    Case("PUT", "/api/v1/offers/{offer}/api-terms", ADMIN_ONLY, body={"access": "approval"}),
    Case("POST", "/api/v1/offers/{offer}/entitlements", _expect(201, viewer=403, outsider=404)),
    Case("GET", "/api/v1/entitlements", EVERYONE, hidden=("{entitlement}",)),
    # The owner approves first; later callers find it decided (409) unless they may not decide at all.
    Case(
        "POST",
        "/api/v1/entitlements/{entitlement}/approve",
        _expect(409, owner=200, member=403, viewer=403, outsider=404),
    ),
    Case("GET", "/api/v1/usage", EVERYONE),
    Case("GET", "/api/v1/downloads", EVERYONE),
    Case(
        "POST",
        "/api/v1/misuse-rules",
        _expect(201, member=403, viewer=403),
        body={"name": "r-{who}", "kind": "pattern", "action": "flag", "pattern": "forbidden"},
    ),  # fmt: skip
    Case("GET", "/api/v1/misuse-events", EVERYONE),
    Case(
        "POST",
        "/api/v1/suspensions",
        _expect(201, member=403, viewer=403),
        body={"subject_type": "org", "subject_id": "ops", "reason": "test by {who}"},
    ),  # fmt: skip
    Case(
        "POST",
        "/api/v1/reinstatements",
        _expect(409, owner=200, member=403, viewer=403),
        body={"subject_type": "org", "subject_id": "beta", "reason": "cleared"},
    ),  # fmt: skip
    # Consent along the chain (issue 9): beta named alpha as a deployer; alpha lets beta resell a model.
    Case("GET", "/api/v1/claims", EVERYONE),
    Case("GET", "/api/v1/claims/{claim}", EVERYONE),
    Case("POST", "/api/v1/claims/{claim}/confirm", _expect(200, member=403, viewer=403, outsider=403)),
    Case("POST", "/api/v1/claims/{claim}/reject", _expect(200, member=403, viewer=403, outsider=403)),
    Case("GET", "/api/v1/agreements", EVERYONE),
    Case(
        "POST",
        "/api/v1/agreements",
        _expect(201, member=403, viewer=403, outsider=404),
        body={"agent": "beta", "model": "alpha/private", "channels": ["marketplace"]},
    ),
    Case(
        "DELETE",
        "/api/v1/agreements/{agreement}",
        _expect(409, owner=200, member=403, viewer=403, outsider=403),
    ),
]


def _world(client: TestClient, db: Database) -> dict[str, Any]:
    """Org alpha with a private and a public model, a child, a system and an offer; org beta outside."""
    for slug in ("alpha", "beta", "ops"):
        make_org(db, slug)
    keys = {role: make_key(db, "alpha", role) for role in ("owner", "admin", "member", "viewer")}
    keys["outsider"] = make_key(db, "beta", "admin")
    keys["operator"] = make_key(db, "ops", "owner", operator=True)
    h = auth(keys["owner"])
    for name, visibility in (("private", "private"), ("open", "public"), ("child", "private")):
        assert (
            client.post(
                "/api/v1/models", json={"name": name, "visibility": visibility}, headers=h
            ).status_code
            == 201
        )
        assert (
            client.post(f"/api/v1/models/alpha/{name}/versions", json={"label": "1"}, headers=h).status_code
            == 201
        )
    system = {"name": "bot", "models": ["alpha/private"], "deployers": ["alpha"], "intended_purpose": "chat"}
    assert client.post("/api/v1/systems", json=system, headers=h).status_code == 201
    offer = client.post("/api/v1/offers", json={"model": "alpha/private", "channel": "api"}, headers=h).json()
    # The API channel: a waitlist with one pending request (from the operator's org) and one suspension.
    assert (
        client.put(
            f"/api/v1/offers/{offer['id']}/api-terms", json={"access": "approval"}, headers=h
        ).status_code
        == 200
    )
    ops = auth(keys["operator"])
    entitlement = client.post(f"/api/v1/offers/{offer['id']}/entitlements", headers=ops).json()
    suspension = {"subject_type": "org", "subject_id": "beta", "reason": "probing"}
    assert client.post("/api/v1/suspensions", json=suspension, headers=h).status_code == 201
    kiosk = {"name": "kiosk", "deployers": ["alpha"], "intended_purpose": "kiosk"}
    assert client.post("/api/v1/systems", json=kiosk, headers=auth(keys["outsider"])).status_code == 201
    [claim] = client.get("/api/v1/claims", headers=h).json()
    resale = {"agent": "beta", "model": "alpha/private", "channels": ["white_label"]}
    agreement = client.post("/api/v1/agreements", json=resale, headers=h).json()
    return {
        "keys": keys,
        "offer": offer["id"],
        "entitlement": entitlement["id"],
        "claim": claim["id"],
        "agreement": agreement["id"],
    }


def _request(client: TestClient, db: Database, case: Case, world: dict[str, Any], who: str) -> Any:
    path = case.path.replace("{offer}", world["offer"]).replace("{entitlement}", world["entitlement"])
    path = path.replace("{claim}", world["claim"]).replace("{agreement}", world["agreement"])
    if "{victim}" in path:
        victim = make_key(db, "alpha", "viewer")
        key_id = client.get("/api/v1/orgs/alpha/keys", headers=auth(world["keys"]["owner"])).json()[-1]["id"]
        assert victim  # the newest key is the victim
        path = path.replace("{victim}", key_id)
    headers = auth(world["keys"][who]) if who != "anonymous" else {}
    body = case.body
    if isinstance(body, dict):
        body = {k: v.replace("{who}", who) if isinstance(v, str) else v for k, v in body.items()}
    if case.raw is not None:
        return client.request(
            case.method, path, content=case.raw, headers=headers | {"content-type": "application/yaml"}
        )
    return client.request(case.method, path, json=body, headers=headers)


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


def test_matrix_covers_every_api_route(app) -> None:  # type: ignore[no-untyped-def]
    # From the OpenAPI document: FastAPI includes routers lazily, so app.routes does not list them.
    routes = {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        if path.startswith("/api/v1")
        for method in operations
    }
    assert len(routes) > 30  # the document really lists the API
    covered = {
        (
            c.method,
            c.path.replace("{offer}", "{offer_id}")
            .replace("{victim}", "{key_id}")
            .replace("{entitlement}/approve", "{entitlement_id}/{decision}")
            .replace("{claim}", "{claim_id}")
            .replace("{agreement}", "{agreement_id}"),
        )
        for c in CASES
    }
    normalised = {
        (m, p.replace("{slug}", "alpha").replace("{org}/{name}", "alpha/private").replace("{label}", "1"))
        for m, p in routes
    }
    covered = {
        (m, p.replace("alpha/open", "alpha/private").replace("alpha/bot", "alpha/private"))
        for m, p in covered
    }
    assert normalised <= covered, sorted(normalised - covered)
