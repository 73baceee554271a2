"""No oracles (issue 9): a write naming a record the caller may not see answers exactly as one naming a
missing record — same status, code and message, except for the name echoed back."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.conftest import auth, make_key, make_org
from valuechain.core.db import Database

CHAIN = "valuechain: 1\nactors:\n  - {id: beta, name: Beta, country: FR}\nmodels:\n  - {id: {name}}\n"


@pytest.fixture
def world(client: TestClient, db: Database) -> dict[str, Any]:
    """Org alpha keeps everything private; beta (the caller) has a model of its own; zeta does not exist."""
    for slug in ("alpha", "beta"):
        make_org(db, slug)
    alpha, beta = make_key(db, "alpha", "owner"), make_key(db, "beta", "owner")
    for secret, name in ((alpha, "private"), (beta, "mine")):
        assert client.post("/api/v1/models", json={"name": name}, headers=auth(secret)).status_code == 201
        path = f"/api/v1/models/{'alpha' if secret == alpha else 'beta'}/{name}/versions"
        assert client.post(path, json={"label": "1"}, headers=auth(secret)).status_code == 201
    system = {"name": "bot", "models": ["alpha/private"], "intended_purpose": "chat"}
    assert client.post("/api/v1/systems", json=system, headers=auth(alpha)).status_code == 201
    offer = client.post(
        "/api/v1/offers", json={"model": "alpha/private", "channel": "api"}, headers=auth(alpha)
    )
    keys = client.get("/api/v1/orgs/alpha/keys", headers=auth(alpha)).json()
    assert client.post(
        "/api/v1/orgs/alpha/members", json={"email": "ann@alpha.example", "name": "Ann Alpha"}, headers=auth(alpha)
    ).status_code == 201  # fmt: skip
    return {"alpha": alpha, "beta": beta, "offer": offer.json()["id"], "key": keys[0]}


def assert_same(hidden: httpx.Response, missing: httpx.Response, hidden_name: str, missing_name: str) -> None:
    """Identical answers, once the name each request gave is blanked out."""
    assert hidden.status_code == missing.status_code, (hidden.text, missing.text)
    assert hidden.status_code >= 400, hidden.text
    a, b = hidden.json()["error"], missing.json()["error"]
    assert a["code"] == b["code"]
    assert a["message"].replace(hidden_name, "<name>") == b["message"].replace(missing_name, "<name>")
    assert a["details"] == b["details"]
    assert hidden.headers.get("www-authenticate") == missing.headers.get("www-authenticate")


def _pair(
    client: TestClient, secret: str, method: str, template: str, hidden: str, missing: str, body: Any = None
) -> None:
    def send(name: str) -> httpx.Response:
        path = template.replace("{name}", name) if "{name}" in template else template
        payload = _fill(body, name)
        if isinstance(payload, str):
            headers = auth(secret) | {"content-type": "application/yaml"}
            return client.request(method, path, content=payload, headers=headers)
        return client.request(method, path, json=payload, headers=auth(secret))

    assert_same(send(hidden), send(missing), hidden, missing)


def _fill(value: Any, name: str) -> Any:
    if isinstance(value, str):
        return value.replace("{name}", name)
    if isinstance(value, list):
        return [_fill(v, name) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, name) for k, v in value.items()}
    return value


# (method, path, body, hidden name, missing name): each names one of alpha's records, or alpha itself.
PAIRS = [
    # accounts: another organisation by slug, its keys by id or prefix
    ("GET", "/api/v1/orgs/{name}", None, "alpha", "zeta"),
    ("PATCH", "/api/v1/orgs/{name}", {"name": "Taken"}, "alpha", "zeta"),
    ("POST", "/api/v1/orgs/{name}/members", {"email": "x@example.com"}, "alpha", "zeta"),
    ("POST", "/api/v1/orgs/{name}/keys", {"name": "k"}, "alpha", "zeta"),
    ("DELETE", "/api/v1/orgs/{name}/keys/key_0", None, "alpha", "zeta"),
    ("DELETE", "/api/v1/orgs/beta/keys/{name}", None, "{key_id}", "key_00000000000000000000000000"),
    ("DELETE", "/api/v1/orgs/beta/keys/{name}", None, "{key_prefix}", "vc_0000000000"),
    # registry: models named by writes
    ("PATCH", "/api/v1/models/{name}", {"parameters": 1.0e9}, "alpha/private", "alpha/ghost"),
    ("POST", "/api/v1/models/{name}/versions", {"label": "2"}, "alpha/private", "alpha/ghost"),
    ("POST", "/api/v1/offers", {"model": "{name}", "channel": "api"}, "alpha/private", "alpha/ghost"),
    ("POST", "/api/v1/offers", {"model": "{name}@1", "channel": "api"}, "alpha/private", "alpha/ghost"),
    (
        "POST",
        "/api/v1/derivations",
        {"parent": "{name}", "child": "beta/mine", "relation": "finetune"},
        "alpha/private",
        "alpha/ghost",
    ),
    (
        "POST",
        "/api/v1/derivations",
        {"external_parent": "hf:x", "child": "{name}", "relation": "finetune"},
        "alpha/private",
        "alpha/ghost",
    ),
    ("POST", "/api/v1/systems", {"name": "s", "models": ["{name}"], "intended_purpose": "x"}, "alpha/private", "alpha/ghost"),
    # registry: organisations named as parties
    ("POST", "/api/v1/systems", {"name": "s", "deployers": ["{name}"], "intended_purpose": "x"}, "alpha", "zeta"),
    ("POST", "/api/v1/models", {"name": "m", "released_by": "{name}"}, "alpha", "zeta"),
    (
        "POST",
        "/api/v1/derivations",
        {"external_parent": "hf:x", "child": "beta/mine", "relation": "finetune", "on_behalf_of": "{name}"},
        "alpha",
        "zeta",
    ),
    # reads that name a record, for good measure
    ("GET", "/api/v1/systems/{name}", None, "alpha/bot", "alpha/ghost"),
    ("GET", "/api/v1/offers/{name}", None, "{offer}", "off_00000000000000000000000000"),
    ("GET", "/api/v1/models/{name}/docs/annex-xi", None, "alpha/private", "alpha/ghost"),
    ("GET", "/api/v1/models/{name}/bom", None, "alpha/private", "alpha/ghost"),
    ("POST", "/api/v1/obligations/whatif", {"changes": ["models[{name}].weights_public=true"]}, "alpha/private", "alpha/ghost"),
    # a whole-chain import naming another organisation's model (operators only: refused alike)
    ("POST", "/api/v1/chain/import", CHAIN, "alpha/private", "alpha/ghost"),
]  # fmt: skip


@pytest.mark.parametrize(("method", "path", "body", "hidden", "missing"), PAIRS, ids=lambda v: str(v)[:40])
def test_hidden_record_answers_as_missing(
    client: TestClient, world: dict[str, Any], method: str, path: str, body: Any, hidden: str, missing: str
) -> None:
    hidden = (
        hidden.replace("{key_id}", world["key"]["id"])
        .replace("{key_prefix}", world["key"]["prefix"])
        .replace("{offer}", world["offer"])
    )
    _pair(client, world["beta"], method, path, hidden, missing, body)


def test_an_existing_account_elsewhere_is_not_revealed(client: TestClient, world: dict[str, Any]) -> None:
    """Adding a member by e-mail answers the same whether the person already has an account elsewhere."""
    known = client.post(
        "/api/v1/orgs/beta/members",
        json={"email": "ann@alpha.example", "name": "A"},
        headers=auth(world["beta"]),
    )
    fresh = client.post(
        "/api/v1/orgs/beta/members",
        json={"email": "bob@zeta.example", "name": "A"},
        headers=auth(world["beta"]),
    )
    assert known.status_code == fresh.status_code == 201
    assert known.json() | {"user_id": "", "email": ""} == fresh.json() | {"user_id": "", "email": ""}
    assert "Ann Alpha" not in known.text


def test_an_organisation_becomes_nameable_once_it_is_a_public_actor(
    client: TestClient, world: dict[str, Any]
) -> None:
    """Naming is refused only for organisations the caller may not see; a public model makes its owner seen."""
    system = {"name": "s", "deployers": ["alpha"], "intended_purpose": "x"}
    assert client.post("/api/v1/systems", json=system, headers=auth(world["beta"])).status_code == 404
    public = {"name": "open", "visibility": "public"}
    assert client.post("/api/v1/models", json=public, headers=auth(world["alpha"])).status_code == 201
    response = client.post("/api/v1/systems", json=system, headers=auth(world["beta"]))
    assert response.status_code == 201, response.text
    assert response.json()["deployers"] == ["alpha"]
