"""Incident register and document sign-off pages (issue 13 points 7 and 1; Art. 73(2)/(5), Art. 53(1)(a)):
session CSRF on every write, tenant isolation, the same checks as the API."""

from __future__ import annotations

from datetime import date, timedelta

from fastapi.testclient import TestClient

from tests.console.conftest import World, csrf_of, sign_in


def test_register_and_report_an_incident(client: TestClient, world: World) -> None:
    """Art. 73(2): the initial report is due 15 days after awareness; filing it moves on to the complete one."""
    sign_in(client, "prov@example.com")
    page = client.get("/compliance/incidents")
    token = csrf_of(page.text)
    today = date.today()
    data = {"csrf": token, "subject": "prov/open", "category": "health", "aware_on": today.isoformat(),
            "description": "a user was harmed"}  # fmt: skip
    forged = client.post("/compliance/incidents", data={**data, "csrf": ""}, follow_redirects=False)
    assert forged.status_code == 403
    assert client.post("/compliance/incidents", data=data, follow_redirects=False).status_code == 303
    page = client.get("/compliance/incidents").text
    assert "File initial report" in page and (today + timedelta(days=15)).isoformat() in page
    incident_id = page.split('<tr id="', 1)[1].split('"', 1)[0]
    r = client.post(f"/compliance/incidents/{incident_id}/reports",
                    data={"csrf": token, "kind": "initial", "text": "first"}, follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    assert "File complete report" in client.get("/compliance/incidents").text

    # tenant isolation: another organisation neither sees nor reports on it
    client.cookies.clear()
    sign_in(client, "out@example.com")
    page = client.get("/compliance/incidents").text
    assert incident_id not in page
    r = client.post(f"/compliance/incidents/{incident_id}/reports",
                    data={"csrf": csrf_of(page), "kind": "complete", "text": "x"}, follow_redirects=False)  # fmt: skip
    assert r.status_code == 404


def test_sign_off_needs_every_field_and_the_provider(client: TestClient, world: World) -> None:
    """Art. 53(1)(a): a document with fields not recorded is refused; another organisation's model is
    answered as missing."""
    sign_in(client, "prov@example.com")
    token = csrf_of(client.get("/compliance/incidents").text)
    r = client.post("/models/prov/open/docs/annex-xi/sign-off", data={"csrf": token}, follow_redirects=False)
    assert r.status_code == 422 and "not recorded" in r.text
    r = client.post("/models/dev/secret/docs/annex-xi/sign-off", data={"csrf": token}, follow_redirects=False)
    assert r.status_code == 404
