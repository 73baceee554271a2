"""Per-repo content (issue 9): a sha256 alone lets nobody commit, and so download, another repo's blob, and
the LFS batch answer never tells whether an object is stored for another repo."""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.conftest import make_org
from tests.hub.conftest import Orgs
from tests.hub.test_api import auth, create, publish
from valuechain.accounts.principal import system_principal
from valuechain.core import migrate
from valuechain.core.clock import utcnow
from valuechain.core.db import Database
from valuechain.hub import service
from valuechain.hub.models import HubCommit, HubCommitFile, HubRepoObject
from valuechain.hub.storage import LocalBlobStore

WEIGHTS = b"gated weights " * 4096
OID = hashlib.sha256(WEIGHTS).hexdigest()


def batch(hub: TestClient, secret: str, repo: str, items: list[tuple[str, int]]) -> dict[str, Any]:
    body = {
        "operation": "upload",
        "transfers": ["basic"],
        "objects": [{"oid": o, "size": s} for o, s in items],
    }
    r = hub.post(f"/hub/{repo}.git/info/lfs/objects/batch", json=body, headers=auth(secret))
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def local(href: str) -> str:
    return "/hub" + href.split("/hub", 1)[1]


def upload(hub: TestClient, secret: str, repo: str, data: bytes) -> None:
    oid = hashlib.sha256(data).hexdigest()
    (answer,) = batch(hub, secret, repo, [(oid, len(data))])["objects"]
    assert hub.put(local(answer["actions"]["upload"]["href"]), content=data).status_code == 200
    assert hub.post(local(answer["actions"]["verify"]["href"])).status_code == 200


def commit_lfs(
    hub: TestClient, secret: str, repo: str, oid: str, size: int, path: str = "w.bin"
) -> httpx.Response:
    lines = [
        {"key": "header", "value": {"summary": "add weights"}},
        {"key": "lfsFile", "value": {"path": path, "algo": "sha256", "oid": oid, "size": size}},
    ]
    body = "\n".join(json.dumps(line) for line in lines)
    return hub.post(f"/hub/api/models/{repo}/commit/main", content=body, headers=auth(secret))


def gated_repo_with_weights(hub: TestClient, orgs: Orgs) -> None:
    publish(hub, orgs, "gated")
    upload(hub, orgs.provider, "acme/gated", WEIGHTS)
    assert commit_lfs(hub, orgs.provider, "acme/gated", OID, len(WEIGHTS)).status_code == 200
    settings = {"gated": "manual"}
    assert (
        hub.put("/hub/api/models/acme/gated/settings", json=settings, headers=auth(orgs.provider)).status_code
        == 200
    )


def normalised(response: httpx.Response, *names: str) -> tuple[int, str | None, str]:
    text = response.text
    for name in names:
        text = text.replace(name, "<name>")
    return response.status_code, response.headers.get("x-error-code"), text


def test_a_gated_blob_cannot_be_committed_into_another_repo_by_its_sha256(
    hub: TestClient, orgs: Orgs
) -> None:
    gated_repo_with_weights(hub, orgs)
    tree = hub.get("/hub/api/models/acme/gated/tree/main", headers=auth(orgs.outsider)).json()
    assert {e["lfs"]["oid"] for e in tree if "lfs" in e} == {OID}  # the listing shows the sha256 to anyone
    assert hub.get("/hub/acme/gated/resolve/main/w.bin", headers=auth(orgs.outsider)).status_code == 403
    assert create(hub, orgs.outsider, "grab", org="outco", private=True).status_code == 200
    stolen = commit_lfs(hub, orgs.outsider, "outco/grab", OID, len(WEIGHTS))
    never_seen = os.urandom(32).hex()
    missing = commit_lfs(hub, orgs.outsider, "outco/grab", never_seen, len(WEIGHTS))
    assert stolen.status_code == 422 and "was not uploaded" in stolen.json()["error"]
    assert normalised(stolen, OID) == normalised(missing, never_seen)
    # A wrong size does not reveal the stored one either.
    assert normalised(commit_lfs(hub, orgs.outsider, "outco/grab", OID, 7), OID) == normalised(
        commit_lfs(hub, orgs.outsider, "outco/grab", never_seen, 7), never_seen
    )
    r = hub.get("/hub/outco/grab/resolve/main/w.bin", headers=auth(orgs.outsider))
    assert r.status_code == 404 and r.headers["x-error-code"] == "EntryNotFound"


def test_whoever_may_download_the_holder_may_reference_its_blob(hub: TestClient, orgs: Orgs) -> None:
    gated_repo_with_weights(hub, orgs)
    assert create(hub, orgs.developer, "derived", org="devco", private=True).status_code == 200
    assert commit_lfs(hub, orgs.developer, "devco/derived", OID, len(WEIGHTS)).status_code == 422
    assert hub.post("/hub/api/models/acme/gated/accept", headers=auth(orgs.developer)).status_code == 200
    assert commit_lfs(hub, orgs.developer, "devco/derived", OID, len(WEIGHTS)).status_code == 422  # pending
    grant = {"user": "devco", "status": "accepted"}
    url = "/hub/api/models/acme/gated/user-access-request/handle"
    assert hub.post(url, json=grant, headers=auth(orgs.provider)).status_code == 200
    assert commit_lfs(hub, orgs.developer, "devco/derived", OID, len(WEIGHTS)).status_code == 200
    assert hub.get("/hub/devco/derived/resolve/main/w.bin", headers=auth(orgs.developer)).content == WEIGHTS
    # The derived repo now holds the object itself: its batch asks for no upload.
    (answer,) = batch(hub, orgs.developer, "devco/derived", [(OID, len(WEIGHTS))])["objects"]
    assert "actions" not in answer


def test_the_batch_answer_does_not_tell_whether_an_object_exists_elsewhere(
    hub: TestClient, orgs: Orgs
) -> None:
    gated_repo_with_weights(hub, orgs)
    (own,) = batch(hub, orgs.provider, "acme/gated", [(OID, len(WEIGHTS))])["objects"]
    assert own == {"oid": OID, "size": len(WEIGHTS)}  # held by this repo: nothing to upload
    assert create(hub, orgs.outsider, "grab", org="outco", private=True).status_code == 200
    never_seen = os.urandom(32).hex()
    stored, fresh = batch(
        hub, orgs.outsider, "outco/grab", [(OID, len(WEIGHTS)), (never_seen, len(WEIGHTS))]
    )["objects"]
    assert "upload" in stored["actions"]
    shapes = [
        re.sub(r"sig=[0-9a-f]{64}", "sig=<sig>", json.dumps(o).replace(oid, "<oid>"))
        for o, oid in ((stored, OID), (fresh, never_seen))
    ]
    assert shapes[0] == shapes[1]  # identical but for the oid and the signature over it


def test_uploading_the_bytes_proves_possession(hub: TestClient, orgs: Orgs) -> None:
    gated_repo_with_weights(hub, orgs)
    assert create(hub, orgs.outsider, "mine", org="outco", private=True).status_code == 200
    (answer,) = batch(hub, orgs.outsider, "outco/mine", [(OID, len(WEIGHTS))])["objects"]
    wrong = b"x" * len(WEIGHTS)
    assert hub.put(local(answer["actions"]["upload"]["href"]), content=wrong).status_code == 422
    assert hub.post(local(answer["actions"]["verify"]["href"])).status_code == 422  # not held by outco/mine
    assert commit_lfs(hub, orgs.outsider, "outco/mine", OID, len(WEIGHTS)).status_code == 422
    assert hub.put(local(answer["actions"]["upload"]["href"]), content=WEIGHTS).status_code == 200
    assert hub.post(local(answer["actions"]["verify"]["href"])).status_code == 200
    assert commit_lfs(hub, orgs.outsider, "outco/mine", OID, len(WEIGHTS)).status_code == 200
    # The signed URL is bound to its repo: it cannot be pointed at another one.
    href = local(answer["actions"]["upload"]["href"])
    other = href.replace("repo=", "repo=x")
    assert hub.put(other, content=WEIGHTS).status_code == 401


def test_the_migration_lets_repos_keep_the_objects_they_already_commit(db: Database, tmp_path: Path) -> None:
    make_org(db, "olden")
    repo = service.create_repo(  # at head: today's service writes tables newer than 0004
        db,
        LocalBlobStore(tmp_path / "blobs"),
        principal=system_principal(),
        namespace="olden",
        name="m",
        visibility="private",
        url="olden/m",
    )
    migrate.downgrade(db, "0004_gateway")
    try:
        with db.unit_of_work() as session:
            session.add(
                HubCommit(id="c" * 40, repo_id=repo.id, title="t", author="key:k", created_at=utcnow())
            )
            session.flush()
            for path, is_lfs in (("w.bin", True), ("config.json", False)):
                session.add(
                    HubCommitFile(
                        commit_id="c" * 40, path=path, sha256=OID if is_lfs else "b" * 64, size=9,
                        git_oid="d" * 40, is_lfs=is_lfs,
                    )
                )  # fmt: skip
    finally:
        migrate.upgrade(db)
    with db.session() as session:
        rows = session.execute(select(HubRepoObject.repo_id, HubRepoObject.sha256, HubRepoObject.size)).all()
    assert [tuple(row) for row in rows] == [(repo.id, OID, 9)]
