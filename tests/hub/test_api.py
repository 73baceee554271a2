"""Hub API through ASGI: error shapes, bad input, Range, licences, release, lineage, downloads, registry link."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.hub.conftest import Orgs
from valuechain.app import create_app
from valuechain.core.db import Database
from valuechain.core.settings import Settings
from valuechain.registry.models import Artifact, Derivation, Model, ModelVersion, Offer

CARD = "---\nlicense: apache-2.0\nbase_model: upstream/base\npipeline_tag: text-generation\n---\n# Tiny\n"
CHILD_CARD = "---\nlicense: apache-2.0\nbase_model: acme/tiny\nbase_model_relation: quantized\n---\n# Child\n"


def auth(secret: str) -> dict[str, str]:
    return {"authorization": f"Bearer {secret}"}


def commit(
    hub: TestClient, secret: str, repo: str, files: dict[str, bytes], parent: str | None = None
) -> httpx.Response:
    lines: list[dict[str, object]] = [
        {"key": "header", "value": {"summary": "add files", "parentCommit": parent}}
    ]
    lines += [
        {"key": "file", "value": {"path": p, "content": base64.b64encode(c).decode(), "encoding": "base64"}}
        for p, c in files.items()
    ]
    body = "\n".join(json.dumps(line) for line in lines)
    return hub.post(f"/hub/api/models/{repo}/commit/main", content=body, headers=auth(secret))


def create(
    hub: TestClient, secret: str, name: str, org: str = "acme", private: bool = False
) -> httpx.Response:
    body = {"name": name, "organization": org, "visibility": "private" if private else "public"}
    return hub.post("/hub/api/repos/create", json=body, headers=auth(secret))


def publish(hub: TestClient, orgs: Orgs, name: str = "tiny", card: str = CARD, private: bool = False) -> str:
    assert create(hub, orgs.provider, name, private=private).status_code == 200
    r = commit(hub, orgs.provider, f"acme/{name}", {"README.md": card.encode(), "config.json": b"{}"})
    assert r.status_code == 200, r.text
    return str(r.json()["commitOid"])


def test_resolve_headers_and_range(hub: TestClient, orgs: Orgs) -> None:
    sha = publish(hub, orgs)
    r = hub.get("/hub/acme/tiny/resolve/main/config.json")
    assert r.status_code == 200 and r.content == b"{}"
    assert r.headers["x-repo-commit"] == sha
    assert r.headers["x-linked-etag"].strip('"') == hashlib.sha256(b"{}").hexdigest()
    assert r.headers["x-linked-size"] == "2" and r.headers["x-license"] == "apache-2.0"
    assert "xet" not in " ".join(r.headers.keys()).lower()
    head = hub.head("/hub/acme/tiny/resolve/main/README.md")
    assert head.status_code == 200 and head.headers["content-length"] == str(len(CARD))
    part = hub.get("/hub/acme/tiny/resolve/main/README.md", headers={"range": "bytes=4-10"})
    assert part.status_code == 206 and part.content == CARD.encode()[4:11]


def test_error_codes(hub: TestClient, orgs: Orgs) -> None:
    publish(hub, orgs)
    cases = {
        "/hub/acme/nope/resolve/main/config.json": ("RepoNotFound", 404),
        "/hub/acme/tiny/resolve/nope/config.json": ("RevisionNotFound", 404),
        "/hub/acme/tiny/resolve/main/nope.json": ("EntryNotFound", 404),
        "/hub/api/models/acme/nope": ("RepoNotFound", 404),
    }
    for url, (code, status) in cases.items():
        r = hub.get(url)
        assert (r.headers.get("x-error-code"), r.status_code) == (code, status), url
        assert r.json()["error"]
    assert hub.get("/hub/acme/tiny/resolve/main/nope.json").headers["x-repo-commit"]
    bad = hub.get("/hub/api/whoami-v2", headers=auth("vc_notakey_xxxxxxxxxxxxxxxxxxxxxxxxx"))
    assert (
        bad.status_code == 401
        and bad.headers["x-error-message"] == "Invalid credentials in Authorization header"
    )


def test_bad_file_names_are_refused_and_nothing_changes(hub: TestClient, orgs: Orgs) -> None:
    sha = publish(hub, orgs)
    for name in ("../escape", "/abs", "a\x01b", "x/./y"):
        r = commit(hub, orgs.provider, "acme/tiny", {name: b"x"})
        assert r.status_code == 422, name
    assert hub.get("/hub/api/models/acme/tiny").json()["sha"] == sha


def test_lfs_hash_mismatch_and_cut_off_upload_publish_nothing(hub: TestClient, orgs: Orgs) -> None:
    publish(hub, orgs)
    data = b"weights" * 1000
    oid = hashlib.sha256(data).hexdigest()
    batch = hub.post(
        "/hub/acme/tiny.git/info/lfs/objects/batch",
        json={"operation": "upload", "transfers": ["basic"], "objects": [{"oid": oid, "size": len(data)}]},
        headers=auth(orgs.provider),
    ).json()
    href = batch["objects"][0]["actions"]["upload"]["href"]
    path = "/hub" + href.split("/hub", 1)[1]
    assert hub.put(path, content=b"x" * len(data)).status_code == 422  # wrong bytes, right size
    assert hub.put(path, content=data[:100]).status_code == 422  # cut off
    assert hub.put(path.replace("sig=", "sig=0"), content=data).status_code == 401
    lfs_line = {"key": "lfsFile", "value": {"path": "w.bin", "algo": "sha256", "oid": oid, "size": len(data)}}
    body = json.dumps({"key": "header", "value": {"summary": "s"}}) + "\n" + json.dumps(lfs_line)
    r = hub.post("/hub/api/models/acme/tiny/commit/main", content=body, headers=auth(orgs.provider))
    assert r.status_code == 422 and "was not uploaded" in r.json()["error"]
    assert hub.put(path, content=data).status_code == 200
    r = hub.post("/hub/api/models/acme/tiny/commit/main", content=body, headers=auth(orgs.provider))
    assert r.status_code == 200
    assert hub.get("/hub/acme/tiny/resolve/main/w.bin").content == data


def test_public_repos_take_commits_without_a_licence_but_release_needs_one(
    hub: TestClient, orgs: Orgs, hub_db: Database
) -> None:
    assert create(hub, orgs.provider, "nolicence").status_code == 200
    assert commit(hub, orgs.provider, "acme/nolicence", {"config.json": b"{}"}).status_code == 200
    info = hub.get("/hub/api/models/acme/nolicence").json()["valuechain"]
    assert info["licence"] is None and info["release_status"].startswith(
        "published, not released: no licence"
    )
    r = hub.post("/hub/api/models/acme/nolicence/release", json={}, headers=auth(orgs.provider))
    assert r.status_code == 422 and "has no licence; releasing it requires one" in r.json()["error"]
    with hub_db.session() as session:  # the registry (and so the obligations) says so too
        assert session.scalar(select(Model.licence).where(Model.slug == "acme/nolicence")) == "none"
    publish(hub, orgs, "draft", card="# no front matter\n", private=True)
    r = hub.post("/hub/api/models/acme/draft/release", json={}, headers=auth(orgs.provider))
    assert r.status_code == 422
    custom = "---\nlicense: other\nlicense_name: acme-open-1.0\n---\n"
    r = commit(hub, orgs.provider, "acme/draft", {"README.md": custom.encode(), "LICENSE": b"You may..."})
    assert r.status_code == 200
    r = hub.post("/hub/api/models/acme/draft/release", json={"gated": "auto"}, headers=auth(orgs.provider))
    assert r.status_code == 200 and r.json()["channel"] == "open_weights"
    resolved = hub.get("/hub/acme/draft/resolve/main/LICENSE", headers=auth(orgs.provider))
    assert resolved.headers["x-license"] == "acme-open-1.0" and 'rel="license"' in resolved.headers["link"]


def test_registry_link_lineage_and_offer(hub: TestClient, orgs: Orgs, hub_db: Database) -> None:
    parent_sha = publish(hub, orgs)
    assert create(hub, orgs.developer, "tiny-q4", org="devco").status_code == 200
    r = commit(hub, orgs.developer, "devco/tiny-q4", {"README.md": CHILD_CARD.encode(), "m.gguf": b"gguf"})
    assert r.status_code == 200
    tree = hub.get("/hub/api/models/acme/tiny/lineage").json()
    assert tree["parents"] == [{"id": "upstream/base", "relation": "finetune", "on_hub": False}]
    assert tree["children"] == [{"id": "devco/tiny-q4", "relation": "quantized"}]
    child = hub.get("/hub/api/models/devco/tiny-q4").json()
    assert child["baseModels"] == {"relation": "quantized", "models": [{"id": "acme/tiny"}]}
    assert hub.get("/hub/api/models/acme/tiny").json()["childrenModelCount"] == {"quantized": 1}
    r = hub.post("/hub/api/models/acme/tiny/release", json={}, headers=auth(orgs.provider))
    assert r.status_code == 200
    with hub_db.session() as session:
        model = session.scalar(select(Model).where(Model.slug == "acme/tiny"))
        assert model is not None and model.licence == "apache-2.0"
        version = session.scalar(select(ModelVersion).where(ModelVersion.label == parent_sha))
        assert version is not None
        paths = set(session.scalars(select(Artifact.path).where(Artifact.version_id == version.id)))
        assert paths == {"README.md", "config.json"}
        edges = session.scalars(select(Derivation)).all()
        assert {(e.external_parent, e.relation) for e in edges} == {
            ("upstream/base", "finetune"),
            (None, "quantized"),
        }
        offer = session.scalar(select(Offer).where(Offer.version_id == version.id))
        assert offer is not None and offer.channel == "open_weights"


def test_private_repos_and_write_permissions(hub: TestClient, orgs: Orgs) -> None:
    publish(hub, orgs, "hidden", private=True)
    for secret in (None, orgs.outsider):
        headers = auth(secret) if secret else {}
        assert (
            hub.get("/hub/api/models/acme/hidden", headers=headers).headers["x-error-code"] == "RepoNotFound"
        )
        assert hub.get("/hub/acme/hidden/resolve/main/config.json", headers=headers).status_code == 404
    listed = hub.get("/hub/api/models", headers=auth(orgs.outsider)).json()
    assert "acme/hidden" not in {m["id"] for m in listed}
    assert commit(hub, orgs.outsider, "acme/hidden", {"x": b"x"}).status_code == 404
    publish(hub, orgs, "open")
    assert commit(hub, orgs.outsider, "acme/open", {"x": b"x"}).status_code == 403
    assert commit(hub, orgs.provider_viewer, "acme/open", {"x": b"x"}).status_code == 403
    assert create(hub, orgs.outsider, "squat", org="acme").status_code == 403


def test_gated_access_and_download_counts(hub: TestClient, orgs: Orgs) -> None:
    sha = publish(hub, orgs)
    hub.put("/hub/api/models/acme/tiny/settings", json={"gated": "manual"}, headers=auth(orgs.provider))
    url = "/hub/acme/tiny/resolve/main/config.json"
    assert hub.get(url).status_code == 401 and hub.get(url).headers["x-error-code"] == "GatedRepo"
    assert hub.get(url, headers=auth(orgs.developer)).status_code == 403
    accepted = hub.post("/hub/api/models/acme/tiny/accept", headers=auth(orgs.developer)).json()
    assert accepted["status"] == "pending" and accepted["terms"] == "apache-2.0"
    assert hub.get(url, headers=auth(orgs.developer)).status_code == 403
    pending = hub.get(
        "/hub/api/models/acme/tiny/user-access-request/pending", headers=auth(orgs.provider)
    ).json()
    assert [p["username"] for p in pending] == ["devco"]
    grant = {"user": "devco", "status": "accepted"}
    r = hub.post(
        "/hub/api/models/acme/tiny/user-access-request/handle", json=grant, headers=auth(orgs.provider)
    )
    assert r.status_code == 200
    for _ in range(2):
        assert hub.get(url, headers=auth(orgs.developer) | {"x-hf-download-counter": "1"}).status_code == 200
    hub.get(url, headers=auth(orgs.provider))
    stats = hub.get("/hub/api/models/acme/tiny/downloads", headers=auth(orgs.provider)).json()
    assert stats["downloadsAllTime"] == 3
    assert {(row["org"], row["downloads"], row["commit"]) for row in stats["rows"]} == {
        ("devco", 2, sha),
        ("acme", 1, sha),
    }
    assert hub.get("/hub/api/models/acme/tiny/downloads", headers=auth(orgs.developer)).status_code == 403
    # The same counts as a report next to API usage (/api/v1/downloads, `valuechain usage downloads`).
    report = hub.get("/api/v1/downloads", headers=auth(orgs.provider)).json()
    assert {(r["model"], r["org"], r["downloads"]) for r in report} == {
        ("acme/tiny", "devco", 2),
        ("acme/tiny", "acme", 1),
    }
    mine = hub.get("/api/v1/downloads", params={"view": "consumer"}, headers=auth(orgs.developer)).json()
    assert [(r["model"], r["org"], r["downloads"]) for r in mine] == [("acme/tiny", "devco", 2)]
    assert hub.get("/api/v1/downloads", headers=auth(orgs.outsider)).json() == []


def test_oversized_files_are_refused(hub_db: Database, orgs: Orgs, tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "small", hub_max_file_bytes=1000, hub_inline_max_bytes=10)
    with TestClient(create_app(settings, database=hub_db)) as small:
        publish(small, orgs)
        batch = small.post(
            "/hub/acme/tiny.git/info/lfs/objects/batch",
            json={"operation": "upload", "objects": [{"oid": "a" * 64, "size": 5000}]},
            headers=auth(orgs.provider),
        ).json()
        assert batch["objects"][0]["error"]["code"] == 413
        r = commit(small, orgs.provider, "acme/tiny", {"big.txt": b"x" * 5000})
        assert r.status_code == 413 and "exceeds the limit" in r.json()["error"]


def test_release_records_what_it_knows(hub: TestClient, orgs: Orgs, hub_db: Database) -> None:
    """Issue 13 point 2 (GL §4.2.3, para 17, Art. 3(9)): public weights with config and card publish the
    architecture and usage information, the pipeline tag gives the outputs, the EU offer the placing date."""
    publish(hub, orgs)
    r = hub.post("/hub/api/models/acme/tiny/release", json={}, headers=auth(orgs.provider))
    assert r.status_code == 200
    with hub_db.session() as session:
        model = session.scalar(select(Model).where(Model.slug == "acme/tiny"))
        assert model is not None
        assert model.weights_public and model.architecture_public and model.usage_info_public
        assert model.output_modalities == ["text"]
        assert model.eu_market is not None
