"""Accountability records through the API (issue 13): evidence, serious incidents, complaints."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.conftest import auth, make_key, make_org
from valuechain.accounts.principal import system_principal
from valuechain.compliance.incidents import initial_deadline, next_deadline
from valuechain.core.db import Database
from valuechain.registry.chain import import_manifest
from valuechain.registry.check import load_manifest
from valuechain.registry.manifest import ModelDocumentation

CHAIN = Path(__file__).parent / "data" / "readme_chain.yaml"
SHA = "ab" * 32
DOC_FIELDS = set(ModelDocumentation.model_fields)


@pytest.fixture
def keys(client: TestClient, db: Database) -> dict[str, str]:
    with db.unit_of_work() as session:
        import_manifest(session, load_manifest(CHAIN), principal=system_principal())
    make_org(db, "outsider")
    found = {org: make_key(db, org, "admin") for org in ("openlab", "tuner", "shop", "outsider")}
    found["tuner-viewer"] = make_key(db, "tuner", "viewer")
    return found


def _status(client: TestClient, key: str, subject: str, rule: str) -> str:
    body = client.get("/api/v1/obligations", headers=auth(key)).json()
    return next(o["status"] for o in body["obligations"] if o["subject"] == subject and o["rule"] == rule)


def test_generating_a_document_does_not_meet_the_obligation(client: TestClient, keys: dict[str, str]) -> None:
    """Issue 13 point 1, Art. 53(1)(a): a generated Annex XI with unrecorded fields is no evidence."""
    client.get("/api/v1/models/tuner/ol-7b-legal/docs/annex-xi", headers=auth(keys["tuner"]))
    assert _status(client, keys["tuner"], "tuner/ol-7b-legal", "A53.1.a") in ("open", "overdue")
    r = client.post(
        "/api/v1/models/tuner/ol-7b-legal/docs/annex-xi/sign-off", json={}, headers=auth(keys["tuner"])
    )
    assert r.status_code == 422 and "not recorded" in r.json()["error"]["message"]


def test_evidence_meets_an_obligation_and_goes_stale(client: TestClient, keys: dict[str, str]) -> None:
    """Art. 53(1)(c): a signed copyright policy meets it (who, when, sha256); changed facts make it stale."""
    key = {"actor": "tuner", "subject": "tuner/ol-7b-legal", "rule": "A53.1.c"}
    r = client.post(
        "/api/v1/evidence",
        json={"obligation": key, "kind": "document", "sha256": SHA},
        headers=auth(keys["tuner"]),
    )
    assert r.status_code == 201, r.text
    assert r.json()["signed_by"] and r.json()["stale"] is False
    assert _status(client, keys["tuner"], "tuner/ol-7b-legal", "A53.1.c").startswith(
        "met: document signed off"
    )
    r = client.patch(
        "/api/v1/models/tuner/ol-7b-legal", json={"training_tokens": 1e12}, headers=auth(keys["tuner"])
    )
    assert r.status_code == 200, r.text
    assert "stale" in _status(client, keys["tuner"], "tuner/ol-7b-legal", "A53.1.c")
    assert client.get("/api/v1/evidence", headers=auth(keys["tuner"])).json()[0]["stale"] is True


def test_evidence_only_for_own_obligations_and_by_an_admin(client: TestClient, keys: dict[str, str]) -> None:
    """Tenant isolation: another organisation's obligation answers as a missing one; viewers cannot sign."""
    key = {"actor": "tuner", "subject": "tuner/ol-7b-legal", "rule": "A53.1.c"}
    body = {"obligation": key, "kind": "document", "sha256": SHA}
    assert client.post("/api/v1/evidence", json=body, headers=auth(keys["shop"])).status_code == 404
    assert client.post("/api/v1/evidence", json=body, headers=auth(keys["tuner-viewer"])).status_code == 403
    assert client.get("/api/v1/evidence", headers=auth(keys["shop"])).json() == []


def test_incident_deadlines_follow_article_73_and_the_code_of_practice() -> None:
    """Art. 73(2)-(4): 15/10/2 days; CoP Measure 9.3: 2/5/10/15 days, every 4 weeks, final within 60 days."""
    aware = date(2026, 10, 1)
    assert initial_deadline("health", aware, systemic_model=False).due == aware + timedelta(days=15)
    assert initial_deadline("death", aware, systemic_model=False).due == aware + timedelta(days=10)
    assert initial_deadline("critical_infrastructure", aware, systemic_model=False).due == aware + timedelta(
        2
    )
    assert initial_deadline("widespread_infringement", aware, systemic_model=False).due == aware + timedelta(
        2
    )
    assert initial_deadline("cybersecurity_breach", aware, systemic_model=True).due == aware + timedelta(5)
    later = next_deadline(
        "health", aware, systemic_model=True, reports=[("initial", date(2026, 10, 5))], resolved=None
    )
    assert (later.report, later.due) == ("intermediate", date(2026, 11, 2))
    final = next_deadline(
        "health", aware, systemic_model=True, reports=[("initial", aware)], resolved=date(2026, 12, 1)
    )
    assert (final.report, final.due) == ("final", date(2027, 1, 30))


def test_incident_register_reports_and_export(client: TestClient, keys: dict[str, str]) -> None:
    """Art. 73(5): initial then complete report; reminders list what is due; export for the authority."""
    body = {
        "subject": "shop/assistant",
        "category": "death",
        "aware_on": date.today().isoformat(),
        "description": "a user was harmed",
    }
    r = client.post("/api/v1/incidents", json=body, headers=auth(keys["shop"]))
    assert r.status_code == 201, r.text
    inc = r.json()
    assert inc["next_report"] == "initial" and inc["due"] == (date.today() + timedelta(days=10)).isoformat()
    due = client.get("/api/v1/incidents", params={"due_within": 10}, headers=auth(keys["shop"])).json()
    assert [i["id"] for i in due] == [inc["id"]]
    r = client.post(
        f"/api/v1/incidents/{inc['id']}/reports",
        json={"kind": "initial", "text": "first"},
        headers=auth(keys["shop"]),
    )
    assert r.json()["next_report"] == "complete"
    export = client.get(f"/api/v1/incidents/{inc['id']}/export", headers=auth(keys["shop"])).json()
    assert export["legal_basis"].startswith("Art. 73(4)") and export["reports"][0]["kind"] == "initial"
    # Tenant isolation: another organisation neither registers on shop's system nor reads its incident.
    assert client.post("/api/v1/incidents", json=body, headers=auth(keys["outsider"])).status_code == 404
    r = client.get(f"/api/v1/incidents/{inc['id']}/export", headers=auth(keys["outsider"]))
    assert r.status_code == 404
    assert client.get("/api/v1/incidents", headers=auth(keys["outsider"])).json() == []


def test_a_person_complains_and_the_responsible_actors_answer(
    client: TestClient, keys: dict[str, str]
) -> None:
    """Issue 13 point 8 (Art. 85 right to complain; Art. 26(5), 73): routed to provider, deployer, model."""
    r = client.post("/api/v1/complaints", json={"subject": "shop/assistant", "text": "It denied my refund."})
    assert r.status_code == 201, r.text
    tracking = r.json()["id"]
    assert r.json()["status"] == "received" and r.json()["text"] is None
    inbox = client.get("/api/v1/complaints", headers=auth(keys["openlab"])).json()  # model provider
    assert [c["id"] for c in inbox] == [tracking] and set(inbox[0]["routed_to"]) == {"shop", "openlab"}
    assert client.get("/api/v1/complaints", headers=auth(keys["outsider"])).json() == []
    r = client.post(
        f"/api/v1/complaints/{tracking}/answers", json={"text": "no"}, headers=auth(keys["outsider"])
    )
    assert r.status_code == 404
    r = client.post(
        f"/api/v1/complaints/{tracking}/answers",
        json={"text": "Refunded.", "close": True},
        headers=auth(keys["shop"]),
    )
    assert r.status_code == 201
    seen = client.get(f"/api/v1/complaints/{tracking}").json()
    assert seen["status"] == "closed" and seen["answers"][0]["text"] == "Refunded."


def test_complaints_name_only_public_subjects_and_are_rate_limited(
    client: TestClient, keys: dict[str, str]
) -> None:
    """No oracle for private models; at most 5 complaints an hour from one client."""
    r = client.post("/api/v1/complaints", json={"subject": "tuner/ol-7b-legal", "text": "private model here"})
    assert r.status_code == 404
    codes = [
        client.post(
            "/api/v1/complaints", json={"subject": "shop/assistant", "text": f"complaint {i} text"}
        ).status_code
        for i in range(6)
    ]
    assert codes == [201] * 5 + [429]


def test_recorded_fields_fill_the_document_and_sign_off_hashes_it(
    client: TestClient, keys: dict[str, str]
) -> None:
    """Art. 53(1)(a), Annex XI: fields recorded through REST fill the document; the sign-off keeps its sha256."""
    import hashlib

    doc = client.get(
        "/api/v1/models/openlab/ol-7b/docs/annex-xi", params={"format": "json"}, headers=auth(keys["openlab"])
    ).json()
    fields = {
        f["source"].removeprefix("models."): "recorded"
        for f in doc["missing"]
        if f["source"].removeprefix("models.") in DOC_FIELDS
    }
    assert fields, doc["missing"]
    r = client.patch("/api/v1/models/openlab/ol-7b/documentation", json=fields, headers=auth(keys["tuner"]))
    assert r.status_code == 404  # not tuner's model (tenant isolation)
    r = client.patch("/api/v1/models/openlab/ol-7b/documentation", json=fields, headers=auth(keys["openlab"]))
    assert r.status_code == 200 and r.json() == fields
    facts = {"description": "A 7B model.", "training_data_summary": "Public web text."}
    assert (
        client.patch("/api/v1/models/openlab/ol-7b", json=facts, headers=auth(keys["openlab"])).status_code
        == 200
    )
    doc = client.get(
        "/api/v1/models/openlab/ol-7b/docs/annex-xi", params={"format": "json"}, headers=auth(keys["openlab"])
    ).json()
    assert doc["missing"] == []
    r = client.post(
        "/api/v1/models/openlab/ol-7b/docs/annex-xi/sign-off", json={}, headers=auth(keys["openlab"])
    )
    assert r.status_code == 201, r.text
    md = client.get("/api/v1/models/openlab/ol-7b/docs/annex-xi", headers=auth(keys["openlab"])).content
    assert r.json()["sha256"] == hashlib.sha256(md).hexdigest()


def test_inspector_reads_within_its_grant_and_every_read_is_audited(
    client: TestClient, db: Database, keys: dict[str, str]
) -> None:
    """Issue 13 point 6 (Art. 74 market surveillance): the operator grants; reads are visible to the org."""
    make_org(db, "msa")
    make_org(db, "ops")
    inspector = make_key(db, "msa", "viewer")
    operator = make_key(db, "ops", "owner", operator=True)
    today = date.today()
    grant = {"inspector": "msa", "orgs": ["tuner"], "valid_from": (today - timedelta(1)).isoformat(),
             "valid_until": (today + timedelta(30)).isoformat()}  # fmt: skip
    assert client.post("/api/v1/inspector-grants", json=grant, headers=auth(keys["tuner"])).status_code == 403
    assert client.get("/api/v1/inspections/tuner/obligations", headers=auth(inspector)).status_code == 404
    r = client.post("/api/v1/inspector-grants", json=grant, headers=auth(operator))
    assert r.status_code == 201, r.text
    r = client.get("/api/v1/inspections/tuner/obligations", headers=auth(inspector))
    assert r.status_code == 200, r.text
    assert {o["actor"] for o in r.json()["obligations"]} == {"tuner"}
    assert client.get("/api/v1/inspections/shop/obligations", headers=auth(inspector)).status_code == 404
    events = client.get("/api/v1/audit", headers=auth(keys["tuner"])).json()
    reads = [e for e in events if e["action"] == "compliance.inspector_read"]
    assert reads and reads[-1]["after"]["inspector"] == "msa"


def test_a_document_obligation_is_not_met_by_a_bare_hash(client: TestClient, keys: dict[str, str]) -> None:
    """Art. 53(1)(a)-(b), (d): Annex XI, XII and the summary are met only by signing off the generated
    document with every field filled; recording a sha256 for them is refused and points to the sign-off."""
    for rule, kind in (("A53.1.a", "annex-xi"), ("A53.1.b", "annex-xii"), ("A53.1.d", "summary")):
        key = {"actor": "tuner", "subject": "tuner/ol-7b-legal", "rule": rule}
        body = {"obligation": key, "kind": "document", "sha256": SHA}
        r = client.post("/api/v1/evidence", json=body, headers=auth(keys["tuner"]))
        assert r.status_code == 422 and f"--kind {kind}" in r.json()["error"]["message"], r.text
        assert _status(client, keys["tuner"], "tuner/ol-7b-legal", rule) in ("open", "overdue")
    assert client.get("/api/v1/evidence", headers=auth(keys["tuner"])).json() == []


def _complete_annex_xi(client: TestClient, key: str) -> None:
    doc = client.get(
        "/api/v1/models/openlab/ol-7b/docs/annex-xi", params={"format": "json"}, headers=auth(key)
    ).json()
    fields = {f["source"].removeprefix("models."): "recorded" for f in doc["missing"]}
    facts = {k: fields.pop(k) for k in ("description", "training_data_summary") if k in fields}
    assert client.patch(
        "/api/v1/models/openlab/ol-7b/documentation", json=fields, headers=auth(key)
    ).is_success
    assert client.patch("/api/v1/models/openlab/ol-7b", json=facts, headers=auth(key)).is_success


def test_a_sign_off_names_the_signer_and_a_new_version_makes_it_stale(
    client: TestClient, keys: dict[str, str]
) -> None:
    """Art. 53(1)(a) "keep up to date": the sign-off names who signed (a key names no person); a new
    version of the model changes the facts it covers, so the obligation is open again."""
    _complete_annex_xi(client, keys["openlab"])
    r = client.post(
        "/api/v1/models/openlab/ol-7b/docs/annex-xi/sign-off",
        json={"signer": "Jane Roe, Head of Compliance"},
        headers=auth(keys["openlab"]),
    )
    assert r.status_code == 201, r.text
    assert r.json()["signed_by"].startswith("Jane Roe, Head of Compliance (key:")
    assert _status(client, keys["openlab"], "openlab/ol-7b", "A53.1.c") in ("open", "overdue")
    r = client.post(
        "/api/v1/models/openlab/ol-7b/versions", json={"label": "2"}, headers=auth(keys["openlab"])
    )
    assert r.status_code == 201, r.text
    [evidence] = client.get("/api/v1/evidence", headers=auth(keys["openlab"])).json()
    assert evidence["stale"] is True


def test_the_signed_document_stays_signed_on_later_days(
    client: TestClient, keys: dict[str, str], db: Database
) -> None:
    """Art. 53(1)(a): a document states the day it was drawn up; while its facts are unchanged, the one
    signed off earlier is served (its sha256 still verifies) and the PDF's approval block names the signer."""
    import hashlib

    from valuechain.accounts import directory
    from valuechain.accounts.principal import Principal
    from valuechain.accounts.roles import Role, Scope
    from valuechain.compliance import records, service
    from valuechain.compliance.documentation import build_document

    _complete_annex_xi(client, keys["openlab"])
    earlier = date.today() - timedelta(days=9)
    with db.unit_of_work() as session:
        facts = service.registry_facts(session)
        doc = build_document(facts, "openlab/ol-7b", "annex-xi", as_of=earlier)
        assert doc.missing == []
        openlab = Principal(
            org_id=directory.org_id_for_slug(session, "openlab") or "",
            org_slug="openlab",
            key_id=None,
            user_id="usr_jane",
            role=Role.admin,
            scopes=frozenset(Scope),
        )
        records.record_evidence(
            session,
            principal=openlab,
            facts=facts,
            obligation=("openlab", "openlab/ol-7b", "A53.1.a"),
            kind="document",
            sha256=records.document_sha256(doc),
            details={"document": "annex-xi", "as_of": earlier.isoformat()},
            signer="Jane Roe",
        )
    md = client.get("/api/v1/models/openlab/ol-7b/docs/annex-xi", headers=auth(keys["openlab"])).content
    assert f"As of: {earlier.isoformat()}".encode() in md
    assert hashlib.sha256(md).hexdigest() == records.document_sha256(doc)
    pdf = client.get(
        "/api/v1/models/openlab/ol-7b/docs/annex-xi", params={"format": "pdf"}, headers=auth(keys["openlab"])
    )
    assert pdf.status_code == 200 and b"Not signed off" not in pdf.content


def test_an_incident_a_deployer_registers_reaches_the_provider(
    client: TestClient, keys: dict[str, str]
) -> None:
    """Art. 26(5), Art. 73(1): a deployer informs the provider, who reports; the provider sees the incident
    in its register, files the reports and exports it; an organisation answering for nothing of it sees
    nothing."""
    showcase = {"name": "showcase", "visibility": "public"}  # a public actor others may name (issue 9)
    assert client.post("/api/v1/models", json=showcase, headers=auth(keys["shop"])).status_code == 201
    system = {"name": "hr", "deployers": ["shop"], "annex_iii": ["employment"], "eu_market": "2026-09-01"}
    r = client.post("/api/v1/systems", json=system, headers=auth(keys["tuner"]))
    assert r.status_code == 201, r.text
    claims = client.get("/api/v1/claims", headers=auth(keys["shop"])).json()
    [claim] = [c for c in claims if c["subject"] == "tuner/hr"]
    r = client.post(f"/api/v1/claims/{claim['id']}/confirm", json={}, headers=auth(keys["shop"]))
    assert r.status_code == 200, r.text
    body = {"subject": "tuner/hr", "category": "fundamental_rights",
            "aware_on": date.today().isoformat(), "description": "applicants ranked by gender"}  # fmt: skip
    r = client.post("/api/v1/incidents", json=body, headers=auth(keys["shop"]))
    assert r.status_code == 201, r.text
    incident = r.json()["id"]
    assert [i["id"] for i in client.get("/api/v1/incidents", headers=auth(keys["tuner"])).json()] == [
        incident
    ]
    r = client.get(f"/api/v1/incidents/{incident}/export", headers=auth(keys["tuner"]))
    assert r.status_code == 200 and r.json()["legal_basis"].startswith("Art. 73(2)")
    assert client.get("/api/v1/incidents", headers=auth(keys["openlab"])).json() == []
    assert (
        client.get(f"/api/v1/incidents/{incident}/export", headers=auth(keys["openlab"])).status_code == 404
    )
    r = client.post(
        f"/api/v1/incidents/{incident}/reports",
        json={"kind": "initial", "text": "x"},
        headers=auth(keys["tuner"]),
    )
    assert r.status_code == 201 and r.json()["next_report"] == "complete"  # the provider reports (Art. 73(5))


def test_a_complaint_about_a_model_reaches_its_provider_upstream(
    client: TestClient, keys: dict[str, str]
) -> None:
    """GL paras 60-61: a modification below one third of the original compute makes no new provider; the
    original provider's duties stay, so a complaint about the modified model reaches it too."""
    body = {
        "parent": "tuner/ol-7b-legal",
        "child": "shop/helper",
        "relation": "quantized",
        "compute_flop": 1e18,
    }
    model = {
        "name": "helper",
        "visibility": "public",
        "output_modalities": ["text"],
        "eu_market": "2026-09-01",
    }
    public = {"visibility": "public"}
    assert client.patch(
        "/api/v1/models/tuner/ol-7b-legal", json=public, headers=auth(keys["tuner"])
    ).is_success
    assert client.post("/api/v1/models", json=model, headers=auth(keys["shop"])).status_code == 201
    client.post("/api/v1/models/shop/helper/versions", json={"label": "1"}, headers=auth(keys["shop"]))
    r = client.post("/api/v1/derivations", json={**body, "parent": "tuner/ol-7b-legal@1", "child": "shop/helper@1"},
                    headers=auth(keys["shop"]))  # fmt: skip
    assert r.status_code == 201, r.text
    [claim] = [
        c
        for c in client.get("/api/v1/claims", headers=auth(keys["tuner"])).json()
        if c["status"] == "pending"
    ]
    assert client.post(
        f"/api/v1/claims/{claim['id']}/confirm", json={}, headers=auth(keys["tuner"])
    ).is_success
    obligations = client.get("/api/v1/obligations", headers=auth(keys["shop"])).json()
    assert next(m for m in obligations["models"] if m["id"] == "shop/helper")["provider"] is None
    r = client.post("/api/v1/complaints", json={"subject": "shop/helper", "text": "It invented a statute."})
    assert r.status_code == 201, r.text
    inbox = client.get("/api/v1/complaints", headers=auth(keys["tuner"])).json()
    assert [c["routed_to"] for c in inbox] == [["shop", "tuner"]]


def test_obligations_filter_by_actor(client: TestClient, db: Database) -> None:
    """Issue 13 point 5 (Art. 53(1)(a)-(d) for the modifier, GL para 60): `actor` keeps one actor's duties
    and the models it has a role in."""
    with db.unit_of_work() as session:
        import_manifest(session, load_manifest(CHAIN), principal=system_principal())
    make_org(db, "ops")
    operator = make_key(db, "ops", "owner", operator=True)
    body = client.get("/api/v1/obligations", params={"actor": "tuner"}, headers=auth(operator)).json()
    assert {o["actor"] for o in body["obligations"]} == {"tuner"}
    assert {o["rule"] for o in body["obligations"]} == {"A53.1.a", "A53.1.b", "A53.1.c", "A53.1.d"}
    assert [m["id"] for m in body["models"]] == ["tuner/ol-7b-legal"]
