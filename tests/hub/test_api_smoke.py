"""Quick API checks through ASGI."""

from __future__ import annotations

import base64
import hashlib
import json

from fastapi.testclient import TestClient

from tests.hub.conftest import Orgs

CARD = "---\nlicense: apache-2.0\nbase_model: upstream/base\npipeline_tag: text-generation\n---\n# Tiny\n"


def auth(secret: str) -> dict[str, str]:
    return {"authorization": f"Bearer {secret}"}


def commit(hub: TestClient, secret: str, repo: str, files: dict[str, bytes], parent: str | None = None):
    lines = [{"key": "header", "value": {"summary": "add files", "parentCommit": parent}}]
    lines += [
        {"key": "file", "value": {"path": p, "content": base64.b64encode(c).decode(), "encoding": "base64"}}
        for p, c in files.items()
    ]
    body = "\n".join(json.dumps(line) for line in lines)
    return hub.post(f"/hub/api/models/{repo}/commit/main", content=body, headers=auth(secret))


def test_create_commit_resolve(hub: TestClient, orgs: Orgs) -> None:
    r = hub.post("/hub/api/repos/create", json={"name": "tiny", "organization": "acme"}, headers=auth(orgs.provider))
    assert r.status_code == 200, r.text
    r = commit(hub, orgs.provider, "acme/tiny", {"README.md": CARD.encode(), "config.json": b"{}"})
    assert r.status_code == 200, r.text
    sha = r.json()["commitOid"]
    r = hub.get("/hub/acme/tiny/resolve/main/config.json")
    assert r.status_code == 200, r.text
    assert r.headers["x-repo-commit"] == sha
    assert r.headers["x-linked-etag"].strip('"') == hashlib.sha256(b"{}").hexdigest()
    info = hub.get("/hub/api/models/acme/tiny").json()
    assert info["sha"] == sha
    assert info["cardData"]["license"] == "apache-2.0"
    assert info["baseModels"]["models"] == [{"id": "upstream/base"}]
    r = hub.get("/hub/acme/tiny/resolve/main/nope.json")
    assert r.headers["x-error-code"] == "EntryNotFound"
