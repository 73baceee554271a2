"""One error envelope on /api: bad input gets a 4xx with field paths, never a 500, and changes nothing."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from tests.conftest import auth, make_key, make_org
from valuechain.core.db import Database


@pytest.fixture
def owner(client: TestClient, db: Database) -> dict[str, str]:
    make_org(db, "alpha")
    return auth(make_key(db, "alpha", "owner"))


def error_of(response) -> dict:  # type: ignore[no-untyped-def,type-arg]
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    return body["error"]  # type: ignore[no-any-return]


def test_missing_and_bad_keys_are_401(client: TestClient, db: Database) -> None:
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic abc"},
                    {"Authorization": "Bearer vc_0123456789_" + "x" * 43}):  # fmt: skip
        response = client.get("/api/v1/models", headers=headers)
        assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"
        assert error_of(response)["code"] == "unauthenticated"


def test_revoked_and_expired_keys_are_401(client: TestClient, db: Database) -> None:
    make_org(db, "alpha")
    owner = make_key(db, "alpha", "owner")
    created = client.post("/api/v1/orgs/alpha/keys", json={"name": "short"}, headers=auth(owner)).json()
    client.delete(f"/api/v1/orgs/alpha/keys/{created['id']}", headers=auth(owner))
    response = client.get("/api/v1/me", headers=auth(created["key"]))
    assert response.status_code == 401 and "revoked" in error_of(response)["message"]
    assert created["key"] not in response.text
    past = client.post(
        "/api/v1/orgs/alpha/keys",
        json={"name": "old", "expires_at": "2000-01-01T00:00:00Z"},
        headers=auth(owner),
    )
    assert past.status_code == 422


def test_validation_errors_name_the_field(client: TestClient, owner: dict[str, str]) -> None:
    response = client.post(
        "/api/v1/models", json={"name": "m", "parameters": "lots", "colour": 1}, headers=owner
    )
    assert response.status_code == 422
    paths = {d["path"] for d in error_of(response)["details"]}
    assert paths == {"parameters", "colour"}


def test_patch_revalidates_the_whole_model(client: TestClient, owner: dict[str, str]) -> None:
    client.post("/api/v1/models", json={"name": "m"}, headers=owner)
    bad = client.patch("/api/v1/models/alpha/m", json={"eu_business_users": -5}, headers=owner)
    assert bad.status_code == 422 and error_of(bad)["details"][0]["path"] == "eu_business_users"
    unknown = client.patch("/api/v1/models/alpha/m", json={"owner": "beta"}, headers=owner)
    assert unknown.status_code == 422
    assert client.get("/api/v1/models/alpha/m", headers=owner).json()["eu_business_users"] == 0


def test_malformed_json_is_422_not_500(client: TestClient, owner: dict[str, str]) -> None:
    response = client.post(
        "/api/v1/models", content=b"{not json", headers=owner | {"content-type": "application/json"}
    )
    assert response.status_code == 422 and error_of(response)["code"] == "validation_error"


def test_oversized_body_is_413_and_changes_nothing(client: TestClient, owner: dict[str, str], app) -> None:  # type: ignore[no-untyped-def]
    limit = app.state.settings.max_request_bytes
    big = {"name": "huge", "description": "x" * (limit + 10)}
    response = client.post("/api/v1/models", json=big, headers=owner)
    assert response.status_code == 413 and error_of(response)["code"] == "payload_too_large"
    chunks = (b"x" * 65536 for _ in range(limit // 65536 + 2))
    streamed = client.post(
        "/api/v1/chain/check", content=chunks, headers=owner | {"content-type": "application/yaml"}
    )
    assert streamed.status_code == 413
    assert client.get("/api/v1/models", headers=owner).json() == []


def test_versions_are_immutable(client: TestClient, owner: dict[str, str]) -> None:
    client.post("/api/v1/models", json={"name": "m"}, headers=owner)
    artifact = {"path": "w.gguf", "sha256": "a" * 64, "size": 3}
    assert (
        client.post(
            "/api/v1/models/alpha/m/versions", json={"label": "1", "artifacts": [artifact]}, headers=owner
        ).status_code
        == 201
    )
    again = client.post("/api/v1/models/alpha/m/versions", json={"label": "1"}, headers=owner)
    assert again.status_code == 409 and "immutable" in error_of(again)["message"]
    assert client.put("/api/v1/models/alpha/m/versions/1", json={}, headers=owner).status_code == 405
    bad_hash = client.post(
        "/api/v1/models/alpha/m/versions",
        json={"label": "2", "artifacts": [artifact | {"sha256": "zz"}]},
        headers=owner,
    )
    assert bad_hash.status_code == 422 and error_of(bad_hash)["details"][0]["path"] == "artifacts[0].sha256"


def test_unknown_routes_and_records_are_404_in_the_envelope(
    client: TestClient, owner: dict[str, str]
) -> None:
    assert error_of(client.get("/api/v1/nothing", headers=owner))["code"] == "not_found"
    assert error_of(client.get("/api/v1/models/alpha/ghost", headers=owner))["code"] == "not_found"


def test_secrets_are_never_logged(client: TestClient, db: Database, caplog: pytest.LogCaptureFixture) -> None:
    make_org(db, "alpha")
    secret = make_key(db, "alpha", "owner")
    caplog.set_level(logging.DEBUG)
    client.get("/api/v1/me", headers=auth(secret))
    client.get("/api/v1/me", headers=auth(secret + "tampered"))
    created = client.post("/api/v1/orgs/alpha/keys", json={"name": "x"}, headers=auth(secret)).json()["key"]
    assert secret not in caplog.text and created not in caplog.text


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json()["status"] == "ok"
    ready = client.get("/readyz").json()
    assert ready["status"] == "ready" and ready["schema"]


def test_derivation_from_another_orgs_private_model_is_not_found(
    client: TestClient, db: Database, owner: dict[str, str]
) -> None:
    client.post("/api/v1/models", json={"name": "secret"}, headers=owner)
    client.post("/api/v1/models/alpha/secret/versions", json={"label": "1"}, headers=owner)
    make_org(db, "beta")
    beta = auth(make_key(db, "beta", "owner"))
    client.post("/api/v1/models", json={"name": "copy"}, headers=beta)
    client.post("/api/v1/models/beta/copy/versions", json={"label": "1"}, headers=beta)
    response = client.post(
        "/api/v1/derivations",
        json={"parent": "alpha/secret", "child": "beta/copy", "relation": "distilled"},
        headers=beta,
    )
    assert response.status_code == 404
    lineage = client.get("/api/v1/models/alpha/secret/lineage", headers=owner).json()
    assert lineage["children"] == []


def test_null_for_a_required_org_field_is_422(client: TestClient, owner: dict[str, str]) -> None:
    for body in ({"is_sme": None}, {"name": None}):
        response = client.patch("/api/v1/orgs/alpha", json=body, headers=owner)
        assert response.status_code == 422, response.text
        assert "cannot be null" in error_of(response)["details"][0]["message"]
