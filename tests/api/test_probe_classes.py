"""One test per class of the issue 9 probe that concerns key scopes (oracles: ``test_oracles.py``)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import auth, make_key, make_org
from valuechain.core.db import Database


@pytest.fixture
def world(client: TestClient, db: Database) -> dict[str, Any]:
    """Alpha offers a model on the API channel; keys narrowed to one scope each."""
    for slug in ("alpha", "beta"):
        make_org(db, slug)
    owner = make_key(db, "alpha", "owner")
    h = auth(owner)
    assert client.post("/api/v1/models", json={"name": "m"}, headers=h).status_code == 201
    assert client.post("/api/v1/models/alpha/m/versions", json={"label": "1"}, headers=h).status_code == 201
    offer = client.post("/api/v1/offers", json={"model": "alpha/m", "channel": "api"}, headers=h).json()
    return {
        "offer": offer["id"],
        "read_only": make_key(db, "alpha", "owner", scopes=["registry:read"]),
        "inference_only": make_key(db, "alpha", "owner", scopes=["inference"]),
    }


def _forbidden(response: Any, scope: str) -> None:
    assert response.status_code == 403, response.text
    assert scope in response.json()["error"]["message"]


def test_a_registry_read_key_cannot_change_an_offers_prices(
    client: TestClient, world: dict[str, Any]
) -> None:
    terms = {"access": "open", "plan": {"input_per_mtok": 1, "output_per_mtok": 1}}
    response = client.put(
        f"/api/v1/offers/{world['offer']}/api-terms", json=terms, headers=auth(world["read_only"])
    )
    _forbidden(response, "registry:write")


def test_an_inference_only_key_cannot_suspend_an_organisation(
    client: TestClient, world: dict[str, Any]
) -> None:
    body = {"subject_type": "org", "subject_id": "beta", "reason": "probe"}
    _forbidden(
        client.post("/api/v1/suspensions", json=body, headers=auth(world["inference_only"])), "org:manage"
    )


def test_an_inference_only_key_reads_nothing_of_the_registry(
    client: TestClient, world: dict[str, Any]
) -> None:
    """Scopes hold outside registry and accounts too: compliance, chain export, organisations."""
    h = auth(world["inference_only"])
    for path in (
        "/api/v1/models",
        "/api/v1/models/alpha/m",
        "/api/v1/offers",
        "/api/v1/orgs/alpha",
        "/api/v1/orgs/alpha/members",
        "/api/v1/chain/export",
        "/api/v1/obligations",
        "/api/v1/models/alpha/m/bom",
        "/api/v1/models/alpha/m/docs/annex-xi",
    ):
        _forbidden(client.get(path, headers=h), "registry:read")
    whatif = {"changes": ["models[alpha/m].weights_public=true"]}
    _forbidden(client.post("/api/v1/obligations/whatif", json=whatif, headers=h), "registry:read")


def test_a_registry_read_key_changes_nothing(client: TestClient, world: dict[str, Any]) -> None:
    h = auth(world["read_only"])
    _forbidden(client.patch("/api/v1/models/alpha/m", json={"parameters": 1.0}, headers=h), "registry:write")
    _forbidden(
        client.post("/api/v1/offers", json={"model": "alpha/m", "channel": "marketplace"}, headers=h),
        "registry:write",
    )
    _forbidden(client.patch("/api/v1/orgs/alpha", json={"name": "X"}, headers=h), "org:manage")
    _forbidden(client.post("/api/v1/orgs/alpha/keys", json={"name": "k"}, headers=h), "keys:manage")
    _forbidden(client.get("/api/v1/audit", headers=h), "audit:read")


def test_hub_read_is_checked_on_hub_reads(client: TestClient, db: Database, world: dict[str, Any]) -> None:
    owner = make_key(db, "alpha", "admin")
    body = {"name": "repo", "organization": "alpha", "private": True}
    assert client.post("/hub/api/repos/create", json=body, headers=auth(owner)).status_code == 200
    no_hub_read = make_key(db, "alpha", "admin", scopes=["registry:read", "hub:write"])
    assert client.get("/hub/api/models/alpha/repo", headers=auth(no_hub_read)).status_code == 403
