"""Vendored assets are the files their VENDORED.md records (sha256), served from this origin."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.console.conftest import World
from valuechain.console.web import STATIC_DIR

VENDOR = STATIC_DIR / "vendor"


def _recorded() -> dict[str, str]:
    text = (VENDOR / "VENDORED.md").read_text()
    return dict(re.findall(r"\| `([^`]+)` \|[^\n]*\| `([0-9a-f]{64})` \|", text))


def test_vendored_files_match_their_recorded_sha256() -> None:
    recorded = _recorded()
    assert set(recorded) == {"htmx-2.0.11.min.js", "pico-2.1.1.min.css"}
    for name, digest in recorded.items():
        assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == digest, name
    assert (VENDOR / "htmx-2.0.11.LICENSE").is_file() and (VENDOR / "pico-2.1.1.LICENSE.md").is_file()


@pytest.mark.parametrize(
    "name", ["vendor/htmx-2.0.11.min.js", "vendor/pico-2.1.1.min.css", "console.css", "playground.js"]
)
def test_assets_are_served(client: TestClient, world: World, name: str) -> None:
    response = client.get(f"/static/{name}")
    assert response.status_code == 200
    assert response.content == Path(STATIC_DIR / name).read_bytes()


def test_pages_reference_no_other_origin(client: TestClient, world: World) -> None:
    page = client.get("/models/prov/open").text + client.get("/").text + client.get("/login").text
    assert not re.search(r'(src|href)="(https?:)?//', page)
    assert "<script>" not in page and "style=" not in page  # nothing inline: the CSP allows none
