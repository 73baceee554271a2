"""A card's ``base_model`` naming another organisation's model is a claim that organisation answers (issue 9)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.hub.conftest import Orgs
from tests.hub.test_api import CHILD_CARD, commit, create, publish
from valuechain.core.db import Database
from valuechain.registry.models import Claim, Derivation


def test_a_card_naming_another_organisations_model_records_a_pending_claim(
    hub: TestClient, orgs: Orgs, hub_db: Database
) -> None:
    publish(hub, orgs)  # acme/tiny, whose card names a parent outside the hub: nobody to ask
    assert create(hub, orgs.developer, "tiny-q4", org="devco").status_code == 200
    r = commit(hub, orgs.developer, "devco/tiny-q4", {"README.md": CHILD_CARD.encode(), "m.gguf": b"gguf"})
    assert r.status_code == 200, r.text
    with hub_db.session() as session:
        edge = session.scalar(select(Derivation).where(Derivation.external_parent.is_(None)))
        assert edge is not None
        [claim] = session.scalars(select(Claim)).all()
        assert (claim.subject_id, claim.field, claim.status) == (edge.id, "parent_supplier", "pending")
        assert claim.claimant_org_id == edge.by_org_id and claim.named_org_id != edge.by_org_id
        assert claim.subject_label.startswith("acme/tiny@") and "->devco/tiny-q4@" in claim.subject_label
        claim_id = claim.id
    incoming = hub.get("/api/v1/claims", headers={"authorization": f"Bearer {orgs.provider}"}).json()
    assert [c["id"] for c in incoming] == [claim_id]
