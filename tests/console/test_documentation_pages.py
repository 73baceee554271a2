"""Documentation fields and sign-off in the console (issue 13 point 1; Art. 53(1)(a)-(b), Annex XI and
XII): the provider records the fields, sees what each document lacks and signs it off by name."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.console.conftest import World, _as, csrf_of, sign_in
from valuechain.core.db import Database
from valuechain.registry.manifest import ModelDocumentation
from valuechain.registry.service import update_model

FACTS = {
    "parameters": 1.0e9,
    "training_tokens": 2.0e13,
    "eu_market": "2025-10-01",
    "output_modalities": ["text"],
}


def test_provider_records_fields_and_signs_off(client: TestClient, world: World, db: Database) -> None:
    """Art. 53(1)(a), Annex XI: the console records every field; only then may an admin sign off, by name."""
    with db.unit_of_work() as session:
        update_model(session, "prov/open", dict(FACTS), principal=_as(db, "prov"))
    sign_in(client, "prov@example.com")
    page = client.get("/models/prov/open/documentation")
    assert page.status_code == 200
    assert "XI 1(d) Architecture" in page.text and "Sign off annex-xi" not in page.text
    assert 'href="/models/prov/open/documentation"' in client.get("/models/prov/open").text
    token = csrf_of(page.text)
    fields = {name: f"{name} as recorded" for name in ModelDocumentation.model_fields}
    fields |= {"description": "Answers questions.", "training_data_summary": "Public web text."}
    forged = client.post("/models/prov/open/documentation", data=fields, follow_redirects=False)
    assert forged.status_code == 403
    too_long = client.post(
        "/models/prov/open/documentation",
        data={"csrf": token, "energy": "x" * 20_001},
        follow_redirects=False,
    )
    assert too_long.status_code == 422
    r = client.post("/models/prov/open/documentation", data={"csrf": token, **fields}, follow_redirects=False)
    assert r.status_code == 303
    page = client.get("/models/prov/open/documentation").text
    assert "architecture as recorded" in page and "Answers questions." in page
    row = page.split('id="doc-annex-xi"', 1)[1].split("</tr>", 1)[0]
    assert "none" in row and "Sign off annex-xi" in row, row
    r = client.post("/models/prov/open/docs/annex-xi/sign-off", data={"csrf": token}, follow_redirects=False)
    assert r.status_code == 200 and "prov@example.com" in r.text
    row = client.get("/models/prov/open/documentation").text.split('id="doc-annex-xi"', 1)[1]
    assert "signed off by prov@example.com" in row.split("</tr>", 1)[0]
    # an empty field clears it: the document lacks it again and the sign-off no longer covers it
    r = client.post(
        "/models/prov/open/documentation", data={"csrf": token, "energy": ""}, follow_redirects=False
    )
    row = client.get("/models/prov/open/documentation").text.split('id="doc-annex-xi"', 1)[1]
    assert "XI 2(e)" in row.split("</tr>", 1)[0] and "stale" in row.split("</tr>", 1)[0]


def test_another_organisation_neither_reads_nor_records(client: TestClient, world: World) -> None:
    """Tenant isolation: Annex XI belongs to the provider; another organisation is answered as missing."""
    sign_in(client, "out@example.com")
    assert client.get("/models/prov/open/documentation").status_code == 404
    token = csrf_of(client.get("/org").text)
    r = client.post(
        "/models/prov/open/documentation", data={"csrf": token, "energy": "x"}, follow_redirects=False
    )
    assert r.status_code == 404
