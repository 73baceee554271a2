"""Hostile model cards (issue 17): aliases refused, metadata capped, validation budgeted per client."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient

from tests.hub.conftest import Orgs
from tests.hub.test_api import auth, commit, create


def alias_card(levels: int) -> str:
    """Nested aliases: ``levels`` of nine each; nine levels (about 430 bytes) name 9**9 strings."""
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, levels)]
    return "---\n" + "\n".join(lines) + "\n---\n# bomb\n"


def test_aliases_are_refused_fast_in_validation_and_commits(hub: TestClient, orgs: Orgs) -> None:
    small = hub.post("/hub/api/validate-yaml", json={"content": alias_card(5)})  # 59,049 strings
    assert small.status_code == 400 and "aliases" in small.json()["errors"][0]["message"]
    bomb = alias_card(9)
    assert len(bomb) < 500
    started = time.perf_counter()
    r = hub.post("/hub/api/validate-yaml", json={"content": bomb})
    assert r.status_code == 400 and "aliases" in r.json()["errors"][0]["message"]
    assert create(hub, orgs.provider, "bomb").status_code == 200
    r = commit(hub, orgs.provider, "acme/bomb", {"README.md": bomb.encode()})
    assert r.status_code in (400, 422) and "aliases" in r.headers["x-error-message"]
    assert time.perf_counter() - started < 2.0
    info = hub.get("/hub/api/models/acme/bomb", headers=auth(orgs.provider)).json()
    assert "cardData" not in info or not info["cardData"]


def test_metadata_size_is_capped(hub: TestClient) -> None:
    tags = "\n".join(f"  - tag-{i:08d}" for i in range(20_000))  # 320 kB: above the 256 KiB cap
    r = hub.post("/hub/api/validate-yaml", json={"content": f"---\ntags:\n{tags}\n---\n# big\n"})
    assert r.status_code == 400 and "larger than" in r.json()["errors"][0]["message"]


def test_validation_is_budgeted_per_client(hub: TestClient, orgs: Orgs) -> None:
    card = {"content": "---\nlicense: mit\n---\n"}
    for _ in range(60):  # hub.app.VALIDATE_PER_MINUTE
        assert hub.post("/hub/api/validate-yaml", json=card).status_code == 200
    over = hub.post("/hub/api/validate-yaml", json=card)
    assert over.status_code == 429 and over.headers["x-error-code"] == "RateLimited"
    assert int(over.headers["retry-after"]) >= 1
    # Another client (a key) has its own budget.
    assert hub.post("/hub/api/validate-yaml", json=card, headers=auth(orgs.provider)).status_code == 200
