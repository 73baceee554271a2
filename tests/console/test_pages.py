"""The console through the ASGI app: sign-in, sessions, CSRF, tenant isolation, every page and its twin."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.console.conftest import PASSWORD, World, csrf_of, login_csrf_of, sign_in
from valuechain.accounts.models import ApiKey, UserSession
from valuechain.core.db import Database
from valuechain.core.security import hash_secret


def test_anonymous_catalogue_lists_public_models_only(client: TestClient, world: World) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert "prov/open" in page.text and "dev/secret" not in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    rows = client.get("/?format=json").json()
    assert [r["model"] for r in rows] == ["prov/open"]
    assert rows[0]["channels"] == "api"
    csv = client.get("/?format=csv&licence=apache-2.0&modality=text&channel=api&org=prov")
    assert csv.headers["content-type"].startswith("text/csv") and "prov/open" in csv.text
    assert client.get("/?format=json&licence=mit").json() == []
    assert client.get("/?format=json&channel=open_weights").json() == []


def test_catalogue_pages_by_slug(client: TestClient, world: World) -> None:
    sign_in(client, "dev@example.com")
    first = client.get("/?format=json&limit=1").json()
    assert [r["model"] for r in first] == ["dev/secret"]
    page = client.get("/?limit=1")
    after = re.search(r'after=([^"&]+)', page.text)
    assert after is not None
    second = client.get(f"/?format=json&limit=1&after={after.group(1)}").json()
    assert [r["model"] for r in second] == ["prov/open"]


def test_outsider_gets_404_on_a_private_model_page_like_a_missing_one(
    client: TestClient, world: World
) -> None:
    sign_in(client, "out@example.com")
    hidden = client.get("/models/dev/secret")
    missing = client.get("/models/dev/ghost")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.text.replace("dev/secret", "M") == missing.text.replace("dev/ghost", "M")
    assert client.get("/models/dev/secret/lineage.svg").status_code == 404
    assert client.get("/models/dev/secret/obligations").status_code == 404
    assert client.get("/models/dev/secret?format=json&table=files").status_code == 404


def test_anonymous_visitor_is_told_404_for_private_and_sees_public(client: TestClient, world: World) -> None:
    assert client.get("/models/dev/secret").status_code == 404
    page = client.get("/models/prov/open")
    assert page.status_code == 200 and "Sign in to request access" in page.text


def test_owner_sees_private_model(client: TestClient, world: World) -> None:
    sign_in(client, "dev@example.com")
    page = client.get("/models/dev/secret")
    assert page.status_code == 200 and "dev/secret" in page.text


def test_login_needs_the_csrf_token_and_the_right_password(client: TestClient, world: World) -> None:
    client.get("/login")
    refused = client.post(
        "/login", data={"email": "dev@example.com", "password": PASSWORD}, follow_redirects=False
    )
    assert refused.status_code == 403
    page = client.get("/login")
    wrong = client.post(
        "/login", data={"email": "dev@example.com", "password": "x" * 20, "csrf": csrf_of(page.text)}
    )
    assert wrong.status_code == 401 and "wrong e-mail or password" in wrong.text
    assert "vc_session" not in client.cookies


def test_session_cookie_is_http_only_lax_and_only_its_hash_is_stored(
    client: TestClient, db: Database, world: World
) -> None:
    page = client.get("/login")
    response = client.post(
        "/login",
        data={"email": "dev@example.com", "password": PASSWORD, "csrf": csrf_of(page.text)},
        follow_redirects=False,
    )
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
    session_id = client.cookies["vc_session"]
    with db.session() as session:
        hashes = list(session.scalars(select(UserSession.id_hash)))
    assert hashes == [hash_secret(session_id)]
    # signing in again (with the sign-in form's token, not the session's) issues a new id, ends the old one
    page = client.get("/login")
    assert (
        client.post(
            "/login", data={"email": "dev@example.com", "password": PASSWORD, "csrf": csrf_of(page.text)}
        ).status_code
        == 403
    )  # the session's token is not the sign-in form's
    client.post(
        "/login", data={"email": "dev@example.com", "password": PASSWORD, "csrf": login_csrf_of(page.text)}
    )
    assert client.cookies["vc_session"] != session_id
    with db.session() as session:
        assert session.get(UserSession, hash_secret(session_id)) is None


def test_logout_deletes_the_session_row(client: TestClient, db: Database, world: World) -> None:
    sign_in(client, "dev@example.com")
    session_id = client.cookies["vc_session"]
    page = client.get("/org")
    assert client.post("/logout", follow_redirects=False).status_code == 403  # no CSRF token
    assert (
        client.post("/logout", data={"csrf": csrf_of(page.text)}, follow_redirects=False).status_code == 303
    )
    with db.session() as session:
        assert session.get(UserSession, hash_secret(session_id)) is None
    assert client.get("/org", follow_redirects=False).status_code == 303  # back to /login


def test_login_rate_limit(client: TestClient, world: World) -> None:
    statuses = []
    for _ in range(12):
        page = client.get("/login")
        statuses.append(
            client.post(
                "/login",
                data={"email": "dev@example.com", "password": "wrong" * 4, "csrf": csrf_of(page.text)},
            ).status_code
        )
    assert statuses[:10] == [401] * 10 and statuses[10:] == [429, 429]


def test_keys_create_shows_secret_once_and_revoke(client: TestClient, db: Database, world: World) -> None:
    sign_in(client, "dev@example.com")
    page = client.get("/org")
    token = csrf_of(page.text)
    assert client.post("/org/keys", data={"name": "ci"}).status_code == 403  # no CSRF token
    created = client.post("/org/keys", data={"name": "ci", "role": "member", "csrf": token})
    secret = re.search(r'id="new-secret">([^<]+)<', created.text).group(1)  # type: ignore[union-attr]
    with db.session() as session:
        key = session.scalar(select(ApiKey).where(ApiKey.secret_hash == hash_secret(secret)))
        assert key is not None and key.org_id is not None
        key_id, prefix = key.id, key.prefix
    again = client.get("/org")
    assert secret not in again.text and prefix in again.text
    revoked = client.post(f"/org/keys/{key_id}/revoke", data={"csrf": token}, follow_redirects=False)
    assert revoked.status_code == 303
    with db.session() as session:
        assert session.get(ApiKey, key_id).revoked_at is not None  # type: ignore[union-attr]


def test_another_orgs_key_cannot_be_revoked(client: TestClient, db: Database, world: World) -> None:
    with db.session() as session:
        any_key = session.scalar(select(ApiKey.id))
    sign_in(client, "out@example.com")
    token = csrf_of(client.get("/org").text)
    if any_key is not None:
        assert client.post(f"/org/keys/{any_key}/revoke", data={"csrf": token}).status_code == 404


def test_request_and_approve_api_access(client: TestClient, world: World) -> None:
    sign_in(client, "out@example.com")
    page = client.get("/models/prov/open")
    assert f"request-access-{world.offer_id}" in page.text
    client.post(
        "/models/prov/open/request-access", data={"offer": world.offer_id, "csrf": csrf_of(page.text)}
    )
    assert "pending" in client.get("/models/prov/open").text
    assert client.get("/org?format=json&table=entitlements").json()[0]["status"] == "pending"
    # the provider approves from its queue
    sign_in(client, "prov@example.com")
    queue = client.get("/provider?format=json&table=api_requests").json()
    assert [(r["org"], r["status"]) for r in queue] == [("out", "pending")]
    page = client.get("/provider")
    assert (
        client.post(f"/provider/entitlements/{queue[0]['id']}", data={"decision": "approve"}).status_code
        == 403
    )  # no CSRF token
    client.post(
        f"/provider/entitlements/{queue[0]['id']}", data={"decision": "approve", "csrf": csrf_of(page.text)}
    )
    assert (
        client.get("/provider?format=json&table=api_requests&status=approved").json()[0]["status"]
        == "approved"
    )
    # the developer may not decide on the provider's queue: not found
    sign_in(client, "dev@example.com")
    token = csrf_of(client.get("/org").text)
    assert (
        client.post(
            f"/provider/entitlements/{queue[0]['id']}", data={"decision": "reject", "csrf": token}
        ).status_code
        == 404
    )
    sign_in(client, "out@example.com")
    assert client.get("/org?format=json&table=ledger").json()[0]["amount"] == 1_000_000  # free credits


def test_every_signed_in_page_renders(client: TestClient, world: World) -> None:
    sign_in(client, "prov@example.com")
    for path in ("/", "/models/prov/open", "/org", "/org?group=model", "/org?group=key", "/provider",
                 "/provider?status=all", "/compliance", "/compliance?actor=prov", "/compliance/whatif",
                 "/compliance/whatif?change=models[prov/open].weights_public%3Dtrue",
                 "/compliance/neutrality?model=prov/open", "/audit", "/audit?action=key.*", "/playground",
                 "/models/prov/open/obligations", "/models/prov/open/bom.json"):  # fmt: skip
        response = client.get(path)
        assert response.status_code == 200, (path, response.text[:500])
    assert client.get("/audit?format=csv").text.startswith("seq,at,actor")
    assert client.get("/audit/verify").status_code == 403  # operators only


def test_signed_out_pages_redirect_to_login(client: TestClient, world: World) -> None:
    for path in ("/org", "/provider", "/compliance", "/audit", "/playground"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/login")


def test_org_switcher(client: TestClient, world: World) -> None:
    sign_in(client, "both@example.com")
    page = client.get("/org")
    assert 'name="org"' in page.text
    client.post("/org/switch", data={"org": "dev", "csrf": csrf_of(page.text)})
    assert "dev/secret" in client.get("/?format=csv").text
    client.post("/org/switch", data={"org": "prov", "csrf": csrf_of(page.text)})
    assert "dev/secret" not in client.get("/?format=csv").text
    assert client.post("/org/switch", data={"org": "out", "csrf": csrf_of(page.text)}).status_code == 404


def test_htmx_requests_need_the_csrf_header(client: TestClient, world: World) -> None:
    sign_in(client, "dev@example.com")
    page = client.get("/org")
    token = csrf_of(page.text)
    assert f'"X-CSRF-Token": "{token}"' in page.text  # hx-headers on <body>
    ok = client.post(
        "/org/keys", data={"name": "htmx"}, headers={"X-CSRF-Token": token, "HX-Request": "true"}
    )
    assert ok.status_code == 200
    bad = client.post("/org/keys", data={"name": "htmx"}, headers={"X-CSRF-Token": "0" * 64})
    assert bad.status_code == 403


def test_cookie_is_secure_behind_https(app, world: World) -> None:  # type: ignore[no-untyped-def]
    with TestClient(app) as plain:
        assert "Secure" in plain.get("/login", headers={"x-forwarded-proto": "https"}).headers["set-cookie"]
    with TestClient(app, base_url="https://testserver") as client:
        page = client.get("/login")
        response = client.post(
            "/login",
            data={"email": "dev@example.com", "password": PASSWORD, "csrf": login_csrf_of(page.text)},
            follow_redirects=False,
        )
        assert response.status_code == 303
        assert "Secure" in response.headers["set-cookie"] and "HttpOnly" in response.headers["set-cookie"]


def test_an_expired_session_is_refused(db: Database, world: World) -> None:
    from datetime import timedelta

    from valuechain.accounts import sessions
    from valuechain.core.clock import utcnow

    with db.unit_of_work() as session:
        session_id = sessions.sign_in(session, "dev@example.com", PASSWORD)
    with db.session() as session:
        assert sessions.resolve(session, session_id) is not None
        later = utcnow() + sessions.SESSION_TTL + timedelta(seconds=1)
        assert sessions.resolve(session, session_id, now=later) is None
        assert sessions.resolve(session, session_id + "x") is None


def test_model_card_renders_no_raw_html_and_no_images() -> None:
    from valuechain.console.models import _MARKDOWN, _strip_front_matter

    html = _MARKDOWN.render(
        _strip_front_matter("---\nlicense: mit\n---\n# T\n<script>x</script> ![i](http://e/x.png)")
    )
    assert "<script>" not in html and "<img" not in html and "license: mit" not in html
