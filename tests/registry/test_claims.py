"""Consent along the chain (issue 9): naming another organisation is a claim only it confirms or rejects."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from tests.conftest import auth, make_key, make_org
from valuechain.accounts.principal import system_principal
from valuechain.compliance.service import list_obligations
from valuechain.core import migrate
from valuechain.core.audit import AuditEvent, verify_chain
from valuechain.core.db import Database
from valuechain.registry.chain import import_manifest
from valuechain.registry.check import parse_manifest
from valuechain.registry.claims import CONFIRMED_BY_OPERATOR_IMPORT
from valuechain.registry.models import Claim

AS_OF = "2026-11-28"
HIGH_RISK_SYSTEM = {
    "name": "screening",
    "deployers": ["beta"],
    "intended_purpose": "ranks job applicants",
    "annex_iii": ["employment"],
    "eu_market": "2026-09-01",
}


@pytest.fixture
def keys(client: TestClient, db: Database) -> dict[str, str]:
    """Three organisations and an operator: alpha names beta; gamma is a bystander."""
    for slug in ("alpha", "beta", "gamma", "ops"):
        make_org(db, slug)
    found = {org: make_key(db, org, "admin") for org in ("alpha", "beta", "gamma")}
    found["beta-member"] = make_key(db, "beta", "member")
    found["operator"] = make_key(db, "ops", "owner", operator=True)
    for org in ("alpha", "beta", "gamma"):  # a public model makes each a public actor others may name
        body = {"name": "showcase", "visibility": "public"}
        assert call(client, "POST", "/api/v1/models", found[org], json=body).status_code == 201
    return found


def call(client: TestClient, method: str, path: str, key: str, **kwargs: Any) -> Any:
    return client.request(method, path, headers=auth(key), **kwargs)


def obligations(client: TestClient, key: str) -> dict[str, Any]:
    response = call(client, "GET", "/api/v1/obligations", key, params={"as_of": AS_OF})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def rules_of(body: dict[str, Any], actor: str) -> set[str]:
    return {o["rule"] for o in body["obligations"] if o["actor"] == actor}


def incoming(client: TestClient, key: str) -> list[dict[str, Any]]:
    response = call(client, "GET", "/api/v1/claims", key, params={"direction": "incoming"})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def name_beta_as_deployer(client: TestClient, keys: dict[str, str]) -> str:
    assert call(client, "POST", "/api/v1/systems", keys["alpha"], json=HIGH_RISK_SYSTEM).status_code == 201
    [claim] = incoming(client, keys["beta"])
    assert claim["field"] == "deployer" and claim["status"] == "pending"
    assert (claim["claimant"], claim["named"], claim["subject"]) == ("alpha", "beta", "alpha/screening")
    return str(claim["id"])


def test_an_unconfirmed_deployer_has_no_obligation_and_both_sides_see_the_claim(
    client: TestClient, keys: dict[str, str]
) -> None:
    claim_id = name_beta_as_deployer(client, keys)
    beta = obligations(client, keys["beta"])
    assert rules_of(beta, "beta") == set()
    [note] = beta["notes"]
    assert note["actor"] == "beta" and note["claimed_by"] == "alpha" and note["status"] == "pending"
    assert note["note"].endswith("claimed by alpha, not confirmed")
    alpha = obligations(client, keys["alpha"])
    assert "A16" in rules_of(alpha, "alpha")  # the provider's own duties do not wait for anyone
    assert [n["note"] for n in alpha["notes"]] == [note["note"]]
    outgoing = call(client, "GET", "/api/v1/claims", keys["alpha"], params={"direction": "outgoing"}).json()
    assert [c["id"] for c in outgoing] == [claim_id]
    assert obligations(client, keys["gamma"])["notes"] == []


def test_confirming_attaches_the_obligation(client: TestClient, keys: dict[str, str], db: Database) -> None:
    claim_id = name_beta_as_deployer(client, keys)
    response = call(
        client, "POST", f"/api/v1/claims/{claim_id}/confirm", keys["beta"], json={"reason": "yes"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "confirmed" and response.json()["decided_by"].startswith("key:")
    beta = obligations(client, keys["beta"])
    assert "A26" in rules_of(beta, "beta")
    assert beta["notes"] == []
    with db.session() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.subject_id == claim_id)).all()
        assert [(e.action, e.reason) for e in events] == [("claim.create", None), ("claim.confirm", "yes")]
        assert verify_chain(session).ok


def test_rejecting_keeps_the_obligation_away(client: TestClient, keys: dict[str, str]) -> None:
    claim_id = name_beta_as_deployer(client, keys)
    assert call(client, "POST", f"/api/v1/claims/{claim_id}/reject", keys["beta"]).status_code == 200
    beta = obligations(client, keys["beta"])
    assert rules_of(beta, "beta") == set()
    assert beta["notes"][0]["note"].endswith("claimed by alpha, rejected by beta")
    # An answer may be changed, and only a change is recorded.
    assert (
        call(client, "POST", f"/api/v1/claims/{claim_id}/confirm", keys["beta"]).json()["status"]
        == "confirmed"
    )
    assert "A26" in rules_of(obligations(client, keys["beta"]), "beta")


def test_only_the_named_organisations_admins_answer_and_outsiders_see_nothing(
    client: TestClient, keys: dict[str, str]
) -> None:
    claim_id = name_beta_as_deployer(client, keys)
    missing = "clm_00000000000000000000000000"
    for path in (f"/api/v1/claims/{claim_id}", f"/api/v1/claims/{missing}"):
        response = call(client, "GET", path, keys["gamma"])
        assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    hidden = call(client, "POST", f"/api/v1/claims/{claim_id}/confirm", keys["gamma"]).json()
    absent = call(client, "POST", f"/api/v1/claims/{missing}/confirm", keys["gamma"]).json()
    assert hidden["error"]["message"].replace(claim_id, "X") == absent["error"]["message"].replace(
        missing, "X"
    )
    assert call(client, "GET", "/api/v1/claims", keys["gamma"]).json() == []
    claimant = call(client, "POST", f"/api/v1/claims/{claim_id}/confirm", keys["alpha"])
    assert (
        claimant.status_code == 403 and "only the organisation named" in claimant.json()["error"]["message"]
    )
    member = call(client, "POST", f"/api/v1/claims/{claim_id}/confirm", keys["beta-member"])
    assert member.status_code == 403
    assert incoming(client, keys["beta"])[0]["status"] == "pending"


def test_released_by_and_derivations_name_others_only_once_confirmed(
    client: TestClient, keys: dict[str, str], db: Database
) -> None:
    """A releaser and a parent's supplier: unconfirmed, the claimant stays the provider."""
    beta_model = {"name": "base", "visibility": "public", "training_compute_flop": 3e24,
                  "output_modalities": ["text"], "eu_market": "2025-09-01"}  # fmt: skip
    assert call(client, "POST", "/api/v1/models", keys["beta"], json=beta_model).status_code == 201
    assert (
        call(
            client, "POST", "/api/v1/models/beta/base/versions", keys["beta"], json={"label": "1"}
        ).status_code
        == 201
    )
    model = {"name": "m", "released_by": "beta", "training_compute_flop": 2e24, "output_modalities": ["text"],
             "eu_market": "2026-01-01"}  # fmt: skip
    assert call(client, "POST", "/api/v1/models", keys["alpha"], json=model).status_code == 201
    assert (
        call(
            client, "POST", "/api/v1/models/alpha/m/versions", keys["alpha"], json={"label": "1"}
        ).status_code
        == 201
    )
    derivation = {"parent": "beta/base", "child": "alpha/m", "relation": "finetune", "compute_flop": 1e20}
    assert call(client, "POST", "/api/v1/derivations", keys["alpha"], json=derivation).status_code == 201
    with db.session() as session:
        result = list_obligations(session, principal=None)
        providers = {v.fact.id: v.provider for v in result.models}
        assert providers["alpha/m"] == "alpha"  # neither the releaser nor the lineage counts yet
        assert {n.role for n in result.notes} == {"released_by", "parent_supplier"}
    for claim in incoming(client, keys["beta"]):
        assert call(client, "POST", f"/api/v1/claims/{claim['id']}/confirm", keys["beta"]).status_code == 200
    with db.session() as session:
        result = list_obligations(session, principal=None)
        # Confirmed: a small fine-tune of beta's model does not make alpha its provider (GL para 60).
        assert {v.fact.id: v.provider for v in result.models}["alpha/m"] is None
        assert result.notes == []


def test_offering_another_organisations_model_needs_its_agreement(
    client: TestClient, keys: dict[str, str], db: Database
) -> None:
    for name, visibility in (("open", "public"), ("secret", "private")):
        body = {"name": name, "visibility": visibility}
        assert call(client, "POST", "/api/v1/models", keys["beta"], json=body).status_code == 201
        path = f"/api/v1/models/beta/{name}/versions"
        assert call(client, "POST", path, keys["beta"], json={"label": "1"}).status_code == 201
    offer = {"model": "beta/open", "channel": "white_label", "brand": "Alpha AI"}
    refused = call(client, "POST", "/api/v1/offers", keys["alpha"], json=offer)
    assert refused.status_code == 403 and "needs an agreement from its owner beta" in refused.text
    hidden = call(client, "POST", "/api/v1/offers", keys["alpha"], json={**offer, "model": "beta/secret"})
    missing = call(client, "POST", "/api/v1/offers", keys["alpha"], json={**offer, "model": "beta/none"})
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["error"]["message"].replace("secret", "X") == missing.json()["error"][
        "message"
    ].replace("none", "X")
    # Only the owner gives an agreement; another organisation's public model is not theirs to give.
    agreement = {"agent": "alpha", "model": "beta/open", "channels": ["white_label"]}
    assert call(client, "POST", "/api/v1/agreements", keys["gamma"], json=agreement).status_code == 403
    assert (
        call(
            client, "POST", "/api/v1/agreements", keys["gamma"], json={**agreement, "model": "beta/secret"}
        ).status_code
        == 404
    )
    created = call(client, "POST", "/api/v1/agreements", keys["beta"], json=agreement)
    assert created.status_code == 201, created.text
    agreement_id = created.json()["id"]
    assert [a["id"] for a in call(client, "GET", "/api/v1/agreements", keys["alpha"]).json()] == [
        agreement_id
    ]
    assert call(client, "GET", "/api/v1/agreements", keys["gamma"]).json() == []
    allowed = call(client, "POST", "/api/v1/offers", keys["alpha"], json=offer)
    assert allowed.status_code == 201, allowed.text
    other_channel = call(
        client, "POST", "/api/v1/offers", keys["alpha"], json={**offer, "channel": "marketplace"}
    )
    assert other_channel.status_code == 403
    [claim] = incoming(client, keys["beta"])
    assert claim["field"] == "offer_upstream" and claim["status"] == "confirmed"
    assert claim["decided_by"] == f"agreement:{agreement_id}"
    assert call(client, "DELETE", f"/api/v1/agreements/{agreement_id}", keys["alpha"]).status_code == 403
    assert call(client, "DELETE", f"/api/v1/agreements/{agreement_id}", keys["beta"]).status_code == 200
    assert call(client, "DELETE", f"/api/v1/agreements/{agreement_id}", keys["beta"]).status_code == 409
    again = call(client, "POST", "/api/v1/offers", keys["alpha"], json={**offer, "brand": "Alpha Two"})
    assert again.status_code == 403
    # An agreement for all of the owner's models covers the private one too.
    everything = {"agent": "alpha", "channels": ["marketplace"]}
    assert call(client, "POST", "/api/v1/agreements", keys["beta"], json=everything).status_code == 201
    market = {"model": "beta/open", "channel": "marketplace"}
    assert call(client, "POST", "/api/v1/offers", keys["alpha"], json=market).status_code == 201


CHAIN = """
valuechain: 1
actors:
  - {id: alpha, name: Alpha, country: FR}
  - {id: beta, name: Beta, country: DE}
models:
  - {id: beta/base, public: true, training_compute_flop: 3.0e+24, output_modalities: [text], eu_market: 2025-09-01}
  - {id: alpha/m, released_by: beta, output_modalities: [text], eu_market: 2026-01-01}
derivations:
  - {parent: beta/base, child: alpha/m, by: alpha, relation: finetune, compute_flop: 1.0e+20, on_behalf_of: beta}
offers:
  - {model: beta/base, by: alpha, channel: white_label, brand: Alpha AI}
systems:
  - {id: alpha/screening, provider: alpha, deployers: [alpha, beta], annex_iii: [employment], eu_market: 2026-09-01}
"""


def test_an_operator_import_confirms_on_everyones_behalf_and_is_audited(db: Database) -> None:
    manifest = parse_manifest(CHAIN)
    with db.unit_of_work() as session:
        import_manifest(session, manifest, principal=system_principal())
    with db.session() as session:
        claims = session.scalars(select(Claim)).all()
        assert sorted(c.field for c in claims) == [
            "deployer", "offer_upstream", "on_behalf_of", "parent_supplier", "released_by",
        ]  # fmt: skip
        assert {c.status for c in claims} == {"confirmed"}
        events = session.scalars(select(AuditEvent).where(AuditEvent.action == "claim.confirm")).all()
        assert sorted(e.subject_id for e in events) == sorted(c.id for c in claims)
        assert {e.reason for e in events} == {CONFIRMED_BY_OPERATOR_IMPORT}
        result = list_obligations(session, principal=None, as_of=None)
        assert result.notes == []
        assert "A26" in {o.rule for o in result.obligations if o.actor == "beta"}
    with db.unit_of_work() as session:  # importing again confirms nothing new
        import_manifest(session, manifest, principal=system_principal())
    with db.session() as session:
        assert len(session.scalars(select(AuditEvent).where(AuditEvent.action.like("claim.%"))).all()) == 5


def test_a_rejected_claim_is_confirmed_again_by_an_operator_import(
    client: TestClient, keys: dict[str, str], db: Database
) -> None:
    with db.unit_of_work() as session:
        import_manifest(session, parse_manifest(CHAIN), principal=system_principal())
    deployer = next(c for c in incoming(client, keys["beta"]) if c["field"] == "deployer")
    assert call(client, "POST", f"/api/v1/claims/{deployer['id']}/reject", keys["beta"]).status_code == 200
    assert "A26" not in rules_of(obligations(client, keys["beta"]), "beta")
    with db.unit_of_work() as session:
        import_manifest(session, parse_manifest(CHAIN), principal=system_principal())
    assert "A26" in rules_of(obligations(client, keys["beta"]), "beta")


def test_the_engine_over_a_manifest_file_takes_its_statements_as_given() -> None:
    from valuechain.compliance.engine import evaluate
    from valuechain.compliance.facts import facts_from_manifest

    result = evaluate(facts_from_manifest(parse_manifest(CHAIN)), as_of=None)
    assert "A26" in {o.rule for o in result.obligations if o.actor == "beta"}
    assert "notes" not in result.as_dict()


def test_namings_recorded_before_claims_existed_become_pending_claims(db: Database) -> None:
    with db.unit_of_work() as session:
        import_manifest(session, parse_manifest(CHAIN), principal=system_principal())
    migrate.downgrade(db, "0005_hub_repo_objects")
    migrate.upgrade(db)
    with db.session() as session:
        rows = session.execute(text("SELECT field, status FROM registry_claims ORDER BY field")).all()
        assert [tuple(r) for r in rows] == [
            ("deployer", "pending"), ("offer_upstream", "pending"), ("on_behalf_of", "pending"),
            ("parent_supplier", "pending"), ("released_by", "pending"),
        ]  # fmt: skip
        assert {n.role for n in list_obligations(session, principal=None).notes} == {
            "deployer", "offer_upstream", "on_behalf_of", "parent_supplier", "released_by",
        }  # fmt: skip


def test_a_claim_links_both_sides_so_the_named_owner_can_answer_with_an_agreement(
    client: TestClient, keys: dict[str, str], db: Database
) -> None:
    """An organisation nobody may see yet cannot be named; once it names another, the two are linked."""
    make_org(db, "delta")
    delta = make_key(db, "delta", "admin")
    resale = {"agent": "delta", "channels": ["white_label"]}
    assert call(client, "POST", "/api/v1/agreements", keys["alpha"], json=resale).status_code == 404
    kiosk = {"name": "kiosk", "deployers": ["alpha"], "intended_purpose": "kiosk"}
    assert call(client, "POST", "/api/v1/systems", delta, json=kiosk).status_code == 201
    assert call(client, "POST", "/api/v1/agreements", keys["alpha"], json=resale).status_code == 201
