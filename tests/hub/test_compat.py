"""Hub behaviour huggingface_hub's own suite relies on (issue 15), through ASGI: .gitattributes and LFS,
the error contract, repo move, super-squash, LFS objects, access requests, card validation, lastCommit."""

from __future__ import annotations

import hashlib
import json

from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.hub.conftest import Orgs
from tests.hub.test_api import CARD, auth, commit, create, publish
from valuechain.core.audit import AuditEvent
from valuechain.core.db import Database
from valuechain.registry.models import Model

WEIGHTS = b"\x00" * 8
OID = hashlib.sha256(WEIGHTS).hexdigest()


def preupload(
    hub: TestClient, secret: str, repo: str, files: dict[str, int], **extra: str
) -> dict[str, dict]:
    body = {"files": [{"path": p, "size": n, "sample": ""} for p, n in files.items()], **extra}
    r = hub.post(f"/hub/api/models/{repo}/preupload/main", json=body, headers=auth(secret))
    assert r.status_code == 200, r.text
    return {f["path"]: f for f in r.json()["files"]}


def push_lfs(hub: TestClient, secret: str, repo: str, path: str, data: bytes) -> None:
    oid = hashlib.sha256(data).hexdigest()
    objects = [{"oid": oid, "size": len(data)}]
    answer = hub.post(
        f"/hub/{repo}.git/info/lfs/objects/batch",
        json={"operation": "upload", "transfers": ["basic"], "objects": objects},
        headers=auth(secret),
    ).json()["objects"][0]
    if "actions" in answer:
        href = answer["actions"]["upload"]["href"]
        assert hub.put("/hub" + href.split("/hub", 1)[1], content=data).status_code == 200
    line = {"key": "lfsFile", "value": {"path": path, "algo": "sha256", "oid": oid, "size": len(data)}}
    body = json.dumps({"key": "header", "value": {"summary": f"add {path}"}}) + "\n" + json.dumps(line)
    r = hub.post(f"/hub/api/models/{repo}/commit/main", content=body, headers=auth(secret))
    assert r.status_code == 200, r.text


def test_new_repos_route_weights_through_lfs_by_gitattributes(hub: TestClient, orgs: Orgs) -> None:
    assert create(hub, orgs.provider, "lfs").status_code == 200
    tree = hub.get("/hub/api/models/acme/lfs/tree/main", headers=auth(orgs.provider)).json()
    assert [e["path"] for e in tree] == [".gitattributes"]
    modes = preupload(hub, orgs.provider, "acme/lfs", {"w.bin": 8, "m.safetensors": 8, "config.json": 8})
    assert {p: f["uploadMode"] for p, f in modes.items()} == {
        "w.bin": "lfs",
        "m.safetensors": "lfs",
        "config.json": "regular",
    }
    ignored = preupload(hub, orgs.provider, "acme/lfs", {"logs/a.txt": 1, "b.txt": 1}, gitIgnore="logs/\n")
    assert ignored["logs/a.txt"]["shouldIgnore"] and not ignored["b.txt"]["shouldIgnore"]
    push_lfs(hub, orgs.provider, "acme/lfs", "w.bin", WEIGHTS)
    info = hub.get("/hub/api/models/acme/lfs?blobs=true", headers=auth(orgs.provider)).json()
    weights = next(s for s in info["siblings"] if s["rfilename"] == "w.bin")
    assert weights["lfs"]["sha256"] == OID
    # A repo that drops the pattern from its .gitattributes gets inline uploads again.
    assert (
        commit(hub, orgs.provider, "acme/lfs", {".gitattributes": b"*.onnx filter=lfs\n"}).status_code == 200
    )
    assert preupload(hub, orgs.provider, "acme/lfs", {"x.bin": 8})["x.bin"]["uploadMode"] == "regular"


def test_every_hub_error_has_a_request_id_and_unknown_paths_are_repo_not_found(hub: TestClient) -> None:
    for url in (
        "/hub/api/models/no-org",
        "/hub/api/models/no-org/revision/main",
        "/hub/no-org/resolve/main/x",
    ):
        r = hub.get(url)
        assert (r.status_code, r.headers.get("x-error-code")) == (404, "RepoNotFound"), url
        assert r.headers["x-request-id"]
    assert hub.get("/hub/api/models").headers["x-request-id"]


def test_move_keeps_old_urls_renames_the_model_and_is_audited(
    hub: TestClient, orgs: Orgs, hub_db: Database
) -> None:
    publish(hub, orgs, "before", private=True)
    publish(hub, orgs, "taken")
    move = {"fromRepo": "acme/before", "toRepo": "acme/taken"}
    r = hub.post("/hub/api/repos/move", json=move, headers=auth(orgs.provider))
    assert r.status_code == 409 and "already exists" in r.json()["error"]
    elsewhere = {"fromRepo": "acme/before", "toRepo": "devco/before"}
    assert hub.post("/hub/api/repos/move", json=elsewhere, headers=auth(orgs.provider)).status_code == 403
    outsider = {"fromRepo": "acme/before", "toRepo": "acme/mine"}
    assert hub.post("/hub/api/repos/move", json=outsider, headers=auth(orgs.outsider)).status_code == 404
    move = {"fromRepo": "acme/before", "toRepo": "acme/after"}
    assert hub.post("/hub/api/repos/move", json=move, headers=auth(orgs.provider)).status_code == 200
    assert hub.get("/hub/api/models/acme/after", headers=auth(orgs.provider)).json()["id"] == "acme/after"
    old = hub.get("/hub/acme/before/resolve/main/config.json", headers=auth(orgs.provider))
    assert old.status_code == 200 and old.content == b"{}"
    assert (
        hub.get("/hub/api/models/acme/before", headers=auth(orgs.outsider)).status_code == 404
    )  # still private
    with hub_db.session() as session:
        assert session.scalar(select(Model.slug).where(Model.slug == "acme/after")) is not None
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "hub.repo.move"))
        assert event is not None and event.before == {"repo": "acme/before"}
    # A new repo may take the old name; the redirect then gives way.
    assert create(hub, orgs.provider, "before").status_code == 200
    assert hub.get("/hub/api/models/acme/before", headers=auth(orgs.provider)).json()["id"] == "acme/before"
    deleted = hub.request(
        "DELETE", "/hub/api/repos/delete", json={"name": "before"}, headers=auth(orgs.provider)
    )
    assert deleted.status_code == 200
    revived = hub.get("/hub/api/models/acme/before", headers=auth(orgs.provider))
    assert revived.status_code == 404  # the old redirect gave way to the new repo and does not come back


def test_super_squash_and_lfs_files(hub: TestClient, orgs: Orgs) -> None:
    publish(hub, orgs, "squash")
    push_lfs(hub, orgs.provider, "acme/squash", "w.bin", WEIGHTS)
    r = hub.post(
        "/hub/api/models/acme/squash/super-squash/main",
        json={"message": "squashed"},
        headers=auth(orgs.provider),
    )
    assert r.status_code == 200
    history = hub.get("/hub/api/models/acme/squash/commits/main", headers=auth(orgs.provider)).json()
    assert [c["title"] for c in history] == ["squashed"]
    files = hub.get("/hub/api/models/acme/squash/lfs-files", headers=auth(orgs.provider)).json()
    assert [(f["fileOid"], f["filename"], f["ref"]) for f in files] == [(OID, "w.bin", "main")]
    assert hub.get("/hub/api/models/acme/squash/lfs-files", headers=auth(orgs.developer)).status_code == 403
    deletion = {"deletions": {"sha": [OID], "rewriteHistory": True}}
    r = hub.post("/hub/api/models/acme/squash/lfs-files/batch", json=deletion, headers=auth(orgs.provider))
    assert r.status_code == 200
    assert hub.get("/hub/api/models/acme/squash/lfs-files", headers=auth(orgs.provider)).json() == []
    assert hub.get("/hub/acme/squash/resolve/main/w.bin").headers["x-error-code"] == "EntryNotFound"


def test_access_requests_in_the_clients_shape(hub: TestClient, orgs: Orgs) -> None:
    publish(hub, orgs, "gated")
    hub.put("/hub/api/models/acme/gated/settings", json={"gated": "manual"}, headers=auth(orgs.provider))
    assert hub.post("/hub/api/models/acme/gated/accept", headers=auth(orgs.developer)).status_code == 200
    base = "/hub/api/models/acme/gated/user-access-request"
    [pending] = hub.get(f"{base}/pending", headers=auth(orgs.provider)).json()
    assert pending["user"]["user"] == "devco" and pending["requestId"].startswith("ar_")
    grant = hub.post(f"{base}/grant", json={"user": "devco"}, headers=auth(orgs.provider))
    assert grant.status_code == 200
    again = hub.post(f"{base}/grant", json={"user": "devco"}, headers=auth(orgs.provider))
    assert again.status_code == 409
    by_id = {"requestId": pending["requestId"], "status": "rejected"}
    assert hub.post(f"{base}/handle", json=by_id, headers=auth(orgs.provider)).status_code == 200
    assert [r["status"] for r in hub.get(f"{base}/rejected", headers=auth(orgs.provider)).json()] == [
        "rejected"
    ]
    # Naming an organisation that never asked stays "no access request", existing or not (issue 9).
    for slug in ("outco", "nobody"):
        r = hub.post(f"{base}/grant", json={"user": slug}, headers=auth(orgs.provider))
        assert r.status_code == 404 and "no access request" in r.json()["error"]


def test_card_and_ref_validation(hub: TestClient, orgs: Orgs) -> None:
    invalid = {"content": "\n---\nmodel-index: foo\n---\n# card\n"}
    r = hub.post("/hub/api/validate-yaml", json=invalid)
    assert r.status_code == 400 and "model-index" in r.json()["errors"][0]["message"]
    empty = hub.post("/hub/api/validate-yaml", json={"content": "no metadata"}).json()
    assert empty["errors"] == [] and "Empty metadata" in empty["warnings"][0]["message"]
    assert hub.post("/hub/api/validate-yaml", json={"content": CARD}).json() == {"errors": [], "warnings": []}
    publish(hub, orgs, "refs")
    tag = hub.post("/hub/api/models/acme/refs/tag/main", json={"tag": "bad tag"}, headers=auth(orgs.provider))
    assert tag.status_code == 422
    main = hub.delete("/hub/api/models/acme/refs/branch/main", headers=auth(orgs.provider))
    assert main.status_code == 403 and "Cannot delete refs/heads/main" in main.json()["error"]


def test_paths_info_expand_and_formatted_commits(hub: TestClient, orgs: Orgs) -> None:
    first = publish(hub, orgs, "history")
    r = commit(hub, orgs.provider, "acme/history", {"notes.txt": b"<b>hi</b>"})
    second = r.json()["commitOid"]
    info = hub.post(
        "/hub/api/models/acme/history/paths-info/main",
        data={"paths": ["config.json", "notes.txt"], "expand": "true"},
        headers=auth(orgs.provider),
    ).json()
    assert {e["path"]: e["lastCommit"]["id"] for e in info} == {"config.json": first, "notes.txt": second}
    commits = hub.get(
        "/hub/api/models/acme/history/commits/main?formatted=true", headers=auth(orgs.provider)
    ).json()
    assert commits[0]["formatted"]["title"] == "add files"
