"""Complaint pages (issue 13 point 8; Art. 85 right to lodge a complaint, Art. 26(7)/(11) information of
affected persons): the public form without an account (double-submit CSRF, rate limited), the tracking page,
and the inbox where the responsible organisation answers (session CSRF; tenant isolation)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.console.conftest import World, csrf_of, sign_in


def _file(client: TestClient, subject: str) -> str:
    form = client.get("/complain")
    token = csrf_of(form.text)
    data = {"csrf": token, "subject": subject, "text": "The model told me something harmful."}
    r = client.post("/complain", data=data, follow_redirects=False)
    assert r.status_code == 303, r.text
    return r.headers["location"]


def test_anonymous_complaint_is_tracked_and_answered(client: TestClient, world: World) -> None:
    """Issue 13 point 8 (Art. 85 complaints, Art. 86 explanation, Art. 72 post-market monitoring): no account;
    the form's token is a double-submit cookie and a forged post without it is refused."""
    r = client.post("/complain", data={"subject": "prov/open", "text": "x" * 20}, follow_redirects=False)
    assert r.status_code == 403
    tracking = _file(client, "prov/open")
    assert tracking.startswith("/complaints/cmp_")
    page = client.get(tracking)
    assert page.status_code == 200 and 'id="complaint-status">received' in page.text
    assert "something harmful" not in page.text  # the tracking page shows status and answers, not the text

    # a private model answers as a missing one (no oracle)
    token = csrf_of(client.get("/complain").text)
    data = {"csrf": token, "subject": "dev/secret", "text": "The model told me something."}
    assert client.post("/complain", data=data, follow_redirects=False).status_code == 404

    # tenant isolation: another organisation neither sees nor answers it
    sign_in(client, "out@example.com")
    assert "something harmful" not in client.get("/compliance/complaints").text
    complaint_id = tracking.rsplit("/", 1)[1]
    token = csrf_of(client.get("/compliance/complaints").text)
    r = client.post(f"/compliance/complaints/{complaint_id}/answer", data={"csrf": token, "text": "no"},
                    follow_redirects=False)  # fmt: skip
    assert r.status_code == 404
    client.post("/logout", data={"csrf": token})
    client.cookies.clear()

    # the responsible provider answers in its inbox; the person sees the answer
    sign_in(client, "prov@example.com")
    inbox = client.get("/compliance/complaints")
    assert "something harmful" in inbox.text
    token = csrf_of(inbox.text)
    r = client.post(
        f"/compliance/complaints/{complaint_id}/answer",
        data={"csrf": token, "text": "We are looking into it.", "close": "true"},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    client.cookies.clear()
    page = client.get(tracking)
    assert "We are looking into it." in page.text and 'id="complaint-status">closed' in page.text


def test_public_form_is_rate_limited(client: TestClient, world: World) -> None:
    """Art. 85: anyone may complain; at most 5 complaints an hour per client, as on the API (a person needs
    one, a flood needs many)."""
    for _ in range(5):
        _file(client, "prov/open")
    token = csrf_of(client.get("/complain").text)
    data = {"csrf": token, "subject": "prov/open", "text": "The model told me something."}
    assert client.post("/complain", data=data, follow_redirects=False).status_code == 429
