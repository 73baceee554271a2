"""The compliance API through the ASGI app: obligations, what-if, documents with entitlement, AI-BOM."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import auth, make_key, make_org
from valuechain.accounts.principal import system_principal
from valuechain.compliance.bom import validate_bom
from valuechain.core.db import Database
from valuechain.registry.chain import import_manifest
from valuechain.registry.check import load_manifest

CHAIN = Path(__file__).parent / "data" / "readme_chain.yaml"


@pytest.fixture
def keys(client: TestClient, db: Database) -> dict[str, str]:
    """The README chain in the registry (all models private), keys for its actors and an outsider."""
    with db.unit_of_work() as session:
        import_manifest(session, load_manifest(CHAIN), principal=system_principal())
    make_org(db, "outsider")
    make_org(db, "ops")
    found = {org: make_key(db, org, "viewer") for org in ("openlab", "tuner", "shop", "outsider")}
    found["operator"] = make_key(db, "ops", "owner", operator=True)
    return found


def get(client: TestClient, path: str, key: str, **params: Any):  # type: ignore[no-untyped-def]
    return client.get(path, headers=auth(key), params=params)


def test_obligations_of_the_caller(client: TestClient, keys: dict[str, str]) -> None:
    body = get(client, "/api/v1/obligations", keys["tuner"], as_of="2026-11-28").json()
    assert {o["actor"] for o in body["obligations"]} == {"tuner"}
    assert {o["rule"] for o in body["obligations"]} == {"A53.1.a", "A53.1.b", "A53.1.c", "A53.1.d"}
    assert [m["id"] for m in body["models"]] == ["tuner/ol-7b-legal"]  # openlab/ol-7b is private
    assert body["obligations"][0]["scope"] == "modification"


def test_operator_sees_the_whole_chain(client: TestClient, keys: dict[str, str]) -> None:
    body = get(client, "/api/v1/obligations", keys["operator"], as_of="2026-11-28").json()
    assert {o["actor"] for o in body["obligations"]} == {"openlab", "tuner", "shop"}
    assert len(body["models"]) == 2


def test_rule_filter_and_unknown_regime(client: TestClient, keys: dict[str, str]) -> None:
    body = get(client, "/api/v1/obligations", keys["shop"], rule="A50.2").json()
    assert [o["rule"] for o in body["obligations"]] == ["A50.2"]
    response = get(client, "/api/v1/obligations", keys["shop"], regime="nope")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    response = get(client, "/api/v1/obligations", keys["shop"], rule="A77")
    assert response.status_code == 404 and "unknown rule id" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("who", "kind", "status"),
    [
        ("openlab", "annex-xi", 200),
        ("tuner", "annex-xi", 404),
        ("outsider", "annex-xi", 404),
        ("tuner", "annex-xii", 200),  # derivation from the model
        ("shop", "annex-xii", 200),  # system using the model
        ("outsider", "annex-xii", 404),
        ("shop", "summary", 200),
        ("outsider", "summary", 404),
        ("operator", "annex-xi", 200),
    ],
)
def test_documents_are_served_to_entitled_organisations(
    client: TestClient, keys: dict[str, str], who: str, kind: str, status: int
) -> None:
    response = get(client, f"/api/v1/models/openlab/ol-7b/docs/{kind}", keys[who])
    assert response.status_code == status, response.text
    if status == 200:
        assert response.headers["content-type"].startswith("text/markdown")
        assert "Fields the registry cannot fill yet" in response.text
    else:
        assert set(response.json()["error"]) == {"code", "message", "details"}


def test_document_formats(client: TestClient, keys: dict[str, str]) -> None:
    pdf = get(client, "/api/v1/models/openlab/ol-7b/docs/annex-xii", keys["tuner"], format="pdf")
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF-")
    data = get(client, "/api/v1/models/openlab/ol-7b/docs/annex-xii", keys["tuner"], format="json").json()
    assert data["kind"] == "annex-xii" and data["missing"]
    bad = get(client, "/api/v1/models/openlab/ol-7b/docs/annex-xii", keys["tuner"], format="docx")
    assert bad.status_code == 422


def test_generated_documentation_is_not_evidence(client: TestClient, keys: dict[str, str]) -> None:
    """Issue 13: generating a document with unrecorded fields leaves Art. 53(1)(a) open."""
    assert get(client, "/api/v1/models/tuner/ol-7b-legal/docs/annex-xi", keys["tuner"]).status_code == 200
    body = get(client, "/api/v1/obligations", keys["tuner"], rule="A53.1.a").json()
    assert body["obligations"][0]["status"] in ("open", "overdue")
    # A downstream reading the provider's Annex XII is not the provider drawing it up.
    get(client, "/api/v1/models/openlab/ol-7b/docs/annex-xii", keys["shop"])
    body = get(client, "/api/v1/obligations", keys["operator"], rule="A53.1.b").json()
    assert {o["status"] for o in body["obligations"] if o["subject"] == "openlab/ol-7b"} <= {"open"}


def test_whatif(client: TestClient, keys: dict[str, str]) -> None:
    response = client.post(
        "/api/v1/obligations/whatif",
        headers=auth(keys["tuner"]),
        json={"changes": ["models[tuner/ol-7b-legal].training_compute_flop=2e25"], "as_of": "2026-11-28"},
    )
    assert response.status_code == 200, response.text
    added = {o["rule"] for o in response.json()["added"]}
    assert {"A55.1.a", "A52.1"} <= added
    hidden = client.post(
        "/api/v1/obligations/whatif",
        headers=auth(keys["tuner"]),
        json={"changes": ["models[openlab/ol-7b].weights_public=false"]},
    )
    assert hidden.status_code == 404
    bad = client.post(
        "/api/v1/obligations/whatif", headers=auth(keys["tuner"]), json={"changes": ["nonsense"]}
    )
    assert bad.status_code == 422 and "cannot parse change" in bad.json()["error"]["message"]


def test_bom(client: TestClient, keys: dict[str, str]) -> None:
    own = get(client, "/api/v1/models/tuner/ol-7b-legal/bom", keys["tuner"]).json()
    assert validate_bom(own) == []
    assert "pedigree" not in own["metadata"]["component"]  # the private parent is not shown to tuner
    full = get(client, "/api/v1/models/tuner/ol-7b-legal/bom", keys["operator"]).json()
    assert validate_bom(full) == []
    assert full["metadata"]["component"]["pedigree"]["ancestors"][0]["name"] == "ol-7b"
    assert get(client, "/api/v1/models/openlab/ol-7b/bom", keys["outsider"]).status_code == 404


def test_annex_xii_is_owed_to_an_organisation_entitled_through_the_api_channel(
    client: TestClient, db: Database
) -> None:
    """A private model used only through an approved `api` entitlement: Annex XII yes, Annex XI no."""
    from valuechain.market import service as market

    make_org(db, "alpha")
    make_org(db, "beta")
    make_org(db, "gamma")
    alpha, beta, gamma = (auth(make_key(db, org, "owner")) for org in ("alpha", "beta", "gamma"))
    client.post("/api/v1/models", json={"name": "secret", "training_compute_flop": 2e23,
                                        "output_modalities": ["text"], "eu_market": "2026-01-01"}, headers=alpha)  # fmt: skip
    client.post("/api/v1/models/alpha/secret/versions", json={"label": "1"}, headers=alpha)
    offer = client.post(
        "/api/v1/offers", json={"model": "alpha/secret", "channel": "api"}, headers=alpha
    ).json()
    path = "/api/v1/models/alpha/secret/docs/annex-xii"
    assert client.get(path, headers=beta).status_code == 404
    with db.unit_of_work() as session:
        from sqlalchemy import select

        from valuechain.accounts.models import Organization

        org_id = session.scalar(select(Organization.id).where(Organization.slug == "alpha"))
        market.grant(
            session, offer["id"], "beta", principal=system_principal(org_id=org_id, org_slug="alpha")
        )
    pack = client.get(path, headers=beta)
    assert pack.status_code == 200, pack.text
    assert "alpha/secret" in pack.text
    assert client.get("/api/v1/models/alpha/secret/docs/annex-xi", headers=beta).status_code == 404
    assert client.get(path, headers=gamma).status_code == 404
