"""The gate holds for every way of reading a file (issue 17, part 9): ranges, conditional reads and HEAD
are checked exactly like a whole download."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.hub.conftest import Orgs
from tests.hub.test_api import auth, publish

URL = "/hub/acme/tiny/resolve/main/config.json"
WAYS = {
    "whole": ("GET", {}),
    "range": ("GET", {"range": "bytes=0-0"}),
    "open range": ("GET", {"range": "bytes=1-"}),
    "if-range": ("GET", {"range": "bytes=0-0", "if-range": '"x"'}),
    "head": ("HEAD", {}),
}


@pytest.mark.parametrize("way", WAYS)
def test_a_gated_file_is_refused_however_it_is_asked_for(hub: TestClient, orgs: Orgs, way: str) -> None:
    publish(hub, orgs)
    hub.put("/hub/api/models/acme/tiny/settings", json={"gated": "manual"}, headers=auth(orgs.provider))
    method, headers = WAYS[way]
    for secret, status in ((orgs.developer, 403), (None, 401)):
        sent = headers | (auth(secret) if secret else {})
        r = hub.request(method, URL, headers=sent)
        assert (r.status_code, r.headers.get("x-error-code")) == (status, "GatedRepo"), (secret, r.text)
        assert b"{}" not in r.content
    hub.post("/hub/api/models/acme/tiny/accept", headers=auth(orgs.developer))
    grant = {"user": "devco", "status": "accepted"}
    hub.post("/hub/api/models/acme/tiny/user-access-request/handle", json=grant, headers=auth(orgs.provider))
    r = hub.request(method, URL, headers=headers | auth(orgs.developer))
    assert r.status_code in (200, 206), r.text
