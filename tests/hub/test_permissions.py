"""The one permission check on the hub (issue 9): scopes are enforced, and a repo or organisation the caller
may not see answers exactly like a missing one, for reads and for writes."""

from __future__ import annotations

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.conftest import make_key
from tests.hub.conftest import Orgs
from tests.hub.test_api import auth, commit, create, publish
from valuechain.core.db import Database

# (method, path under /hub with {repo}, JSON body): every hub route that names a repo.
REPO_ROUTES: list[tuple[str, str, object]] = [
    ("GET", "/api/models/{repo}", None),
    ("GET", "/api/models/{repo}/revision/main", None),
    ("GET", "/api/models/{repo}/tree/main", None),
    ("GET", "/api/models/{repo}/refs", None),
    ("GET", "/api/models/{repo}/commits/main", None),
    ("GET", "/api/models/{repo}/auth-check", None),
    ("GET", "/api/models/{repo}/lineage", None),
    ("GET", "/api/models/{repo}/downloads", None),
    ("GET", "/api/models/{repo}/user-access-request/pending", None),
    ("GET", "/{repo}/resolve/main/config.json", None),
    ("HEAD", "/{repo}/resolve/main/config.json", None),
    ("PUT", "/api/models/{repo}/settings", {"gated": "auto"}),
    ("POST", "/api/models/{repo}/accept", None),
    ("POST", "/api/models/{repo}/release", {}),
    ("POST", "/api/models/{repo}/user-access-request/grant", {"user": "outco"}),
    ("POST", "/api/models/{repo}/branch/dev", None),
    ("DELETE", "/api/models/{repo}/branch/dev", None),
    ("POST", "/api/models/{repo}/tag/main", {"tag": "v1"}),
    ("POST", "/api/models/{repo}/preupload/main", {"files": [{"path": "a", "size": 1}]}),
    ("POST", "/api/models/{repo}/commit/main", None),
    ("POST", "/{repo}.git/info/lfs/objects/batch", {"operation": "upload", "objects": []}),
    ("GET", "/api/models/{repo}/xet-read-token/main", None),
    ("GET", "/api/models/{repo}/xet-write-token/main", None),
]


def call(hub: TestClient, method: str, path: str, body: object, secret: str, repo: str) -> httpx.Response:
    url = "/hub" + path.format(repo=repo)
    return hub.request(method, url, json=body, headers=auth(secret))


def shape(response: httpx.Response, name: str) -> tuple[int, str | None, str | None, str]:
    """Everything an outsider sees of an error, with the name it asked for blanked out."""
    message = response.headers.get("x-error-message")
    return (
        response.status_code,
        response.headers.get("x-error-code"),
        message.replace(name, "<name>") if message else None,
        response.text.replace(name, "<name>"),
    )


@pytest.mark.parametrize(("method", "path", "body"), REPO_ROUTES)
def test_a_private_repo_of_another_org_answers_like_a_missing_one(
    hub: TestClient, orgs: Orgs, method: str, path: str, body: object
) -> None:
    publish(hub, orgs, "hidden", private=True)
    hidden = call(hub, method, path, body, orgs.outsider, "acme/hidden")
    missing = call(hub, method, path, body, orgs.outsider, "acme/absent")
    assert hidden.status_code == 404
    if method != "HEAD":
        assert hidden.headers["x-error-code"] == "RepoNotFound"
    assert shape(hidden, "acme/hidden") == shape(missing, "acme/absent")


def test_a_key_without_hub_read_cannot_read_its_own_private_repo(
    hub: TestClient, orgs: Orgs, hub_db: Database
) -> None:
    publish(hub, orgs, "hidden", private=True)
    registry_only = make_key(hub_db, "acme", "admin", scopes=["registry:read", "registry:write"])
    for url in (
        "/hub/api/models/acme/hidden",
        "/hub/api/models/acme/hidden/tree/main",
        "/hub/acme/hidden/resolve/main/config.json",
        "/hub/api/models",
    ):
        r = hub.get(url, headers=auth(registry_only))
        assert r.status_code == 403 and "hub:read" in r.json()["error"], url
    assert hub.get("/api/v1/downloads", headers=auth(registry_only)).status_code == 403
    assert hub.get("/hub/api/models/acme/hidden", headers=auth(orgs.provider_viewer)).status_code == 200


def test_a_read_only_key_cannot_write_or_manage(hub: TestClient, orgs: Orgs, hub_db: Database) -> None:
    publish(hub, orgs)
    read_only = make_key(hub_db, "acme", "admin", scopes=["hub:read"])
    assert commit(hub, read_only, "acme/tiny", {"x": b"x"}).status_code == 403
    r = hub.put("/hub/api/models/acme/tiny/settings", json={"gated": "auto"}, headers=auth(read_only))
    assert r.status_code == 403 and "hub:write" in r.json()["error"]
    member = make_key(hub_db, "acme", "member")
    assert commit(hub, member, "acme/tiny", {"x": b"x"}).status_code == 200
    r = hub.put("/hub/api/models/acme/tiny/settings", json={"gated": "auto"}, headers=auth(member))
    assert r.status_code == 403  # settings, releases and access decisions are the provider admins'


def test_granting_access_to_an_org_answers_alike_whether_it_exists_or_not(
    hub: TestClient, orgs: Orgs
) -> None:
    publish(hub, orgs)
    hub.put("/hub/api/models/acme/tiny/settings", json={"gated": "manual"}, headers=auth(orgs.provider))
    url = "/hub/api/models/acme/tiny/user-access-request/grant"
    existing = hub.post(url, json={"user": "outco"}, headers=auth(orgs.provider))
    absent = hub.post(url, json={"user": "nobody-here"}, headers=auth(orgs.provider))
    assert existing.status_code == 404
    assert shape(existing, "outco") == shape(absent, "nobody-here")
    assert hub.get("/hub/acme/tiny/resolve/main/config.json", headers=auth(orgs.outsider)).status_code == 403
    # Once the organisation asked (accepted the terms), the provider can decide.
    assert hub.post("/hub/api/models/acme/tiny/accept", headers=auth(orgs.outsider)).status_code == 200
    assert hub.post(url, json={"user": "outco"}, headers=auth(orgs.provider)).status_code == 200
    assert hub.get("/hub/acme/tiny/resolve/main/config.json", headers=auth(orgs.outsider)).status_code == 200


def test_creating_a_repo_in_another_namespace_answers_alike_whether_it_exists_or_not(
    hub: TestClient, orgs: Orgs
) -> None:
    existing = create(hub, orgs.outsider, "squat", org="acme")
    absent = create(hub, orgs.outsider, "squat", org="no-such-org")
    assert existing.status_code == 403
    assert shape(existing, "acme") == shape(absent, "no-such-org")


def test_deleting_a_hidden_repo_answers_like_deleting_a_missing_one(hub: TestClient, orgs: Orgs) -> None:
    publish(hub, orgs, "hidden", private=True)
    answers = [
        hub.request("DELETE", "/hub/api/repos/delete", json={"name": name, "organization": "acme"},
                    headers=auth(orgs.outsider))
        for name in ("hidden", "absent")
    ]  # fmt: skip
    assert answers[0].status_code == 404
    assert shape(answers[0], "acme/hidden") == shape(answers[1], "acme/absent")
    assert hub.get("/hub/api/models/acme/hidden", headers=auth(orgs.provider)).status_code == 200
