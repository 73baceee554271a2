"""Inspector reads beyond obligations (issue 13 point 6; Art. 74 market surveillance, Art. 91-92 AI Office
access to documentation and evaluations): model facts, documents, evidence and evaluation results of granted
organisations or models within the grant's period, each read audited under the inspected organisation."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.conftest import auth, make_key, make_org
from valuechain.accounts.principal import system_principal
from valuechain.core.db import Database
from valuechain.registry.chain import import_manifest
from valuechain.registry.check import load_manifest

CHAIN = Path(__file__).parent / "data" / "readme_chain.yaml"
SHA = "cd" * 32


@pytest.fixture
def setup(client: TestClient, db: Database) -> dict[str, str]:
    with db.unit_of_work() as session:
        import_manifest(session, load_manifest(CHAIN), principal=system_principal())
    for org in ("msa", "ops"):
        make_org(db, org)
    keys = {org: make_key(db, org, "admin") for org in ("openlab", "tuner", "shop", "msa")}
    keys["ops"] = make_key(db, "ops", "owner", operator=True)
    evidence = {"obligation": {"actor": "tuner", "subject": "tuner/ol-7b-legal", "rule": "A53.1.c"},
                "kind": "document", "sha256": SHA}  # fmt: skip
    assert client.post("/api/v1/evidence", json=evidence, headers=auth(keys["tuner"])).status_code == 201
    return keys


def _grant(client: TestClient, keys: dict[str, str], **what: object) -> None:
    today = date.today()
    grant = {"inspector": "msa", "valid_from": (today - timedelta(1)).isoformat(),
             "valid_until": (today + timedelta(30)).isoformat(), "orgs": [], "models": [], **what}  # fmt: skip
    r = client.post("/api/v1/inspector-grants", json=grant, headers=auth(keys["ops"]))
    assert r.status_code == 201, r.text


def _reads(client: TestClient, key: str) -> list[str]:
    events = client.get("/api/v1/audit", headers=auth(key)).json()
    return [e["after"]["what"] for e in events if e["action"] == "compliance.inspector_read"]


PATHS = (
    "/api/v1/inspections/tuner/models/ol-7b-legal",
    "/api/v1/inspections/tuner/models/ol-7b-legal/docs/annex-xi",
    "/api/v1/inspections/tuner/evidence",
    "/api/v1/inspections/tuner/evaluations",
)


def test_no_grant_reads_nothing(client: TestClient, setup: dict[str, str]) -> None:
    """Art. 74: access only by a grant; without one every read answers as a missing resource (no oracle)."""
    for path in PATHS:
        assert client.get(path, headers=auth(setup["msa"])).status_code == 404, path
    assert _reads(client, setup["tuner"]) == []


def test_granted_reads_are_audited_under_the_inspected_org(client: TestClient, setup: dict[str, str]) -> None:
    """Art. 74(12)-(13): documentation and evidence on request; each read visible to the inspected org."""
    _grant(client, setup, orgs=["tuner"])
    keys = setup
    facts = client.get(PATHS[0], headers=auth(keys["msa"]))
    assert facts.status_code == 200 and facts.json()["id"] == "tuner/ol-7b-legal"
    doc = client.get(PATHS[1], headers=auth(keys["msa"]))
    assert doc.status_code == 200 and "Annex XI" in doc.text
    pdf = client.get(PATHS[1], params={"format": "pdf"}, headers=auth(keys["msa"]))
    assert pdf.content.startswith(b"%PDF")
    evidence = client.get(PATHS[2], headers=auth(keys["msa"])).json()
    assert [(e["rule"], e["sha256"]) for e in evidence] == [("A53.1.c", SHA)]
    assert client.get(PATHS[3], headers=auth(keys["msa"])).json() == []
    reads = _reads(client, keys["tuner"])
    assert set(reads) == {
        "facts of tuner/ol-7b-legal",
        "annex-xi of tuner/ol-7b-legal",
        "evidence",
        "evaluation results",
    }
    assert _reads(client, keys["shop"]) == []  # another organisation's log shows none of it
    # tenant isolation: shop is not granted; another organisation's evidence stays out of tuner's
    assert client.get("/api/v1/inspections/shop/evidence", headers=auth(keys["msa"])).status_code == 404


def test_model_grant_limits_reads_to_the_model(client: TestClient, setup: dict[str, str]) -> None:
    """A grant naming models reads only them (data minimisation, Art. 78 confidentiality)."""
    _grant(client, setup, models=["openlab/ol-7b"])
    keys = setup
    assert (
        client.get("/api/v1/inspections/openlab/models/ol-7b", headers=auth(keys["msa"])).status_code == 200
    )
    assert client.get(PATHS[0], headers=auth(keys["msa"])).status_code == 404
    assert client.get("/api/v1/inspections/openlab/evidence", headers=auth(keys["msa"])).json() == []
    assert set(_reads(client, keys["openlab"])) == {"facts of openlab/ol-7b", "evidence of openlab/ol-7b"}


def test_expired_grant_reads_nothing(client: TestClient, setup: dict[str, str]) -> None:
    """A grant's period bounds the access: after it ends the organisation answers as missing."""
    past = date.today() - timedelta(10)
    grant = {"inspector": "msa", "orgs": ["tuner"], "models": [], "valid_from": (past - timedelta(5)).isoformat(),
             "valid_until": past.isoformat()}  # fmt: skip
    assert client.post("/api/v1/inspector-grants", json=grant, headers=auth(setup["ops"])).status_code == 201
    for path in PATHS:
        assert client.get(path, headers=auth(setup["msa"])).status_code == 404, path
