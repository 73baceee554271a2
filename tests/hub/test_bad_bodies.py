"""Malformed hub bodies (issue 17): every one is a 4xx in the hub's shape (``X-Error-Code``, JSON body),
never a plain-text 500."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from tests.hub.conftest import Orgs
from tests.hub.test_api import auth, create

BATCH = "/hub/acme/bad.git/info/lfs/objects/batch"
PREUPLOAD = "/hub/api/models/acme/bad/preupload/main"
COMMIT = "/hub/api/models/acme/bad/commit/main"
SHA = "a" * 64

CASES: list[tuple[str, str | bytes]] = [
    (BATCH, b"{not json"),
    (BATCH, json.dumps([1, 2])),
    (BATCH, json.dumps({"operation": "upload", "objects": "nope"})),
    (BATCH, json.dumps({"operation": "upload", "objects": [1, "x"]})),
    (BATCH, json.dumps({"operation": "upload", "objects": [{"oid": 5, "size": "big"}]})),
    (BATCH, json.dumps({"operation": 7, "objects": [{"oid": SHA, "size": -1}]})),
    (PREUPLOAD, b"{not json"),
    (PREUPLOAD, json.dumps({"files": "nope"})),
    (PREUPLOAD, json.dumps({"files": [1, None]})),
    (PREUPLOAD, json.dumps({"files": [{"path": "a.bin", "size": "big"}]})),
    (PREUPLOAD, json.dumps({"files": [{"path": ["a"], "size": 1}]})),
    (PREUPLOAD, json.dumps({"files": [{"path": "a.bin", "size": 1e999}]})),
    (COMMIT, b"{not json"),
    (COMMIT, json.dumps({"key": "header", "value": "oops"})),
    (COMMIT, json.dumps({"key": "file", "value": [1]})),
    (COMMIT, json.dumps({"key": "file", "value": {"path": 3, "content": 4, "encoding": "base64"}})),
    (COMMIT, json.dumps({"key": "lfsFile", "value": {"path": "w.bin", "oid": SHA, "size": "1"}})),
    (COMMIT, json.dumps({"key": "deletedFile", "value": None})),
    (COMMIT, json.dumps({"key": 5, "value": {}})),
    (COMMIT, json.dumps(["key", "value"])),
    (COMMIT, json.dumps({"key": "header", "value": {"summary": "x", "parentCommit": 5}})),
]


@pytest.fixture
def repo(hub: TestClient, orgs: Orgs) -> TestClient:
    assert create(hub, orgs.provider, "bad").status_code == 200
    return hub


@pytest.mark.parametrize(("url", "body"), CASES)
def test_malformed_bodies_are_4xx_with_an_error_code(
    repo: TestClient, orgs: Orgs, url: str, body: str | bytes
) -> None:
    r = repo.post(url, content=body, headers=auth(orgs.provider) | {"content-type": "application/json"})
    assert 400 <= r.status_code < 500, (r.status_code, r.text)
    assert r.headers.get("x-error-code") and r.headers.get("x-error-message"), r.headers
    assert "error" in r.json()


def test_an_unexpected_failure_is_a_500_in_the_hubs_shape(hub: TestClient) -> None:
    from valuechain.hub.app import create_hub_app

    app = create_hub_app(hub.app.state)  # type: ignore[attr-defined]

    @app.get("/api/boom")
    def boom() -> None:
        raise RuntimeError("boom")

    with TestClient(app, raise_server_exceptions=False) as client:
        r = client.get("/api/boom")
    assert r.status_code == 500 and r.headers.get("x-error-code") == "InternalError"
    assert r.json() == {"error": "internal error"} and r.headers.get("x-request-id", "").startswith("vc-")
