"""The API reference: offline pages, a bearer scheme on keyed operations, /v1 bodies and the hub document.

The browser half (the pages really render with the network cut) is tests/test_docs_browser.py.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from valuechain.app import create_app
from valuechain.core.db import Database
from valuechain.core.settings import Settings
from valuechain.gateway import protocol as p

EXTERNAL = re.compile(r"(?:https?:)?//(?!127\.0\.0\.1|localhost)[\w.-]+\.\w+")
PAGES = ["/docs", "/redoc", "/hub/docs", "/hub/redoc"]


@pytest.fixture
def client(tmp_path: Path, sqlite_template: Path) -> Iterator[TestClient]:
    """The app on SQLite only: the documents do not depend on the database."""
    shutil.copy(sqlite_template, tmp_path / "valuechain.db")
    db = Database(f"sqlite:///{tmp_path / 'valuechain.db'}")
    settings = Settings(home=tmp_path / "home", _env_file=None)  # type: ignore[call-arg]
    with TestClient(create_app(settings, database=db)) as test_client:
        yield test_client
    db.dispose()


@pytest.mark.parametrize("path", PAGES)
def test_page_names_no_external_url_and_its_assets_are_served(client: TestClient, path: str) -> None:
    page = client.get(path)
    assert page.status_code == 200
    assert EXTERNAL.findall(page.text) == []
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert len(assets) >= 2
    for asset in assets:
        assert client.get(asset).status_code == 200, asset


def test_redoc_script_loads_nothing_from_a_cdn(client: TestClient) -> None:
    script = client.get("/docs-assets/redoc.standalone.js")
    assert script.status_code == 200 and len(script.text) > 500_000
    assert "cdn.redoc.ly" not in script.text and "fonts.googleapis" not in script.text


def _operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(m.upper(), path): op for path, ops in document["paths"].items() for m, op in ops.items()}


def test_keyed_operations_carry_the_bearer_scheme(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    assert document["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "A valuechain API key (`vc_…`), sent as `Authorization: Bearer <key>`.",
    }
    open_ = sorted(f"{m} {path}" for (m, path), op in _operations(document).items() if "security" not in op)
    # the probes, and affected persons' complaints, which need no account (AI Act Art. 85; issue 13)
    assert open_ == [
        "GET /api/v1/complaints/{complaint_id}",
        "GET /healthz",
        "GET /readyz",
        "POST /api/v1/complaints",
    ]
    assert "[hub API](hub/docs)" in document["info"]["description"]


def test_the_key_is_still_checked_by_the_routes(client: TestClient) -> None:
    assert client.get("/api/v1/me").status_code == 401  # the scheme documents, it does not authenticate
    assert client.get("/api/v1/me", headers={"Authorization": "Bearer nope"}).status_code == 401


@pytest.mark.parametrize(
    ("path", "model"),
    [
        ("/v1/chat/completions", p.ChatCompletionRequest),
        ("/v1/completions", p.CompletionRequest),
        ("/v1/embeddings", p.EmbeddingRequest),
        ("/tokenize", p.TokenizeRequest),
        ("/detokenize", p.DetokenizeRequest),
    ],
)
def test_v1_bodies_come_from_the_protocol_models(client: TestClient, path: str, model: type) -> None:
    operation = _operations(client.get("/openapi.json").json())[("POST", path)]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    assert operation["requestBody"]["required"] is True
    assert set(schema["properties"]) == set(model.model_fields)
    assert sorted(schema.get("required", [])) == sorted(
        name for name, field in model.model_fields.items() if field.is_required()
    )
    assert "$ref" not in str(schema)  # self-contained: no dangling reference into $defs
    assert operation["security"] == [{"bearer": []}]


def test_the_hub_has_its_own_document(client: TestClient) -> None:
    document = client.get("/hub/openapi.json").json()
    assert document["info"]["title"] == "valuechain hub"
    assert document["servers"] == [{"url": "/hub"}]
    operations = _operations(document)
    assert ("GET", "/api/models/{namespace}/{name}") in operations
    assert ("HEAD", "/{namespace}/{name}/resolve/{revision}/{path}") in operations
    assert operations[("GET", "/api/whoami-v2")]["security"] == [{"bearer": []}]
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    ids = [op["operationId"] for op in operations.values()]
    assert len(ids) == len(set(ids))
