"""Version lifecycle and maintenance in the console (issue 11, part 7): the owner moves a version from the
model page (dates shown to everyone, the form to the owner only), a non-owner, a viewer, a missing CSRF
token and bad moves change nothing, a deprecation notifies the entitled organisation; an API offer's
support terms are set by its provider and its service level shown against them."""

from __future__ import annotations

from datetime import date, timedelta

from fastapi.testclient import TestClient

from tests.console.conftest import World, _as, csrf_of, sign_in
from valuechain.core.db import Database
from valuechain.market import service as market
from valuechain.registry.lifecycle import lifecycles
from valuechain.registry.schemas import VersionCreate
from valuechain.registry.service import create_version, model_ref, offer_record


def _stage(db: Database, slug: str, label: str) -> tuple[str, object, object]:
    with db.session() as session:
        ref = model_ref(session, slug)
        assert ref is not None
        found = {v.label: v for v in lifecycles(session, [ref.id])}[label]
    return found.stage, found.sunset_at, found.successor


def _setup(db: Database, world: World) -> None:
    with db.unit_of_work() as session:
        create_version(session, "prov/open", VersionCreate(label="2"), principal=_as(db, "prov"))  # type: ignore[call-arg]
        create_version(session, "dev/secret", VersionCreate(label="1"), principal=_as(db, "dev"))  # type: ignore[call-arg]
        market.grant(session, world.offer_id, "dev", principal=_as(db, "prov"))


def test_owner_moves_a_version_others_see_the_dates(client: TestClient, world: World, db: Database) -> None:
    _setup(db, world)
    sunset = (date.today() + timedelta(days=90)).isoformat()
    move = "/models/prov/open/versions/1/lifecycle"

    # not the owner: no form, and a move is refused with nothing changed
    sign_in(client, "dev@example.com")
    page = client.get("/models/prov/open")
    assert page.status_code == 200 and 'id="lifecycle-1"' not in page.text and "Deprecated" in page.text
    csrf = csrf_of(page.text)
    answer = client.post(
        move, data={"csrf": csrf, "stage": "deprecated", "sunset": sunset}, follow_redirects=False
    )
    assert answer.status_code == 403 and "text/html" in answer.headers["content-type"]
    assert _stage(db, "prov/open", "1")[0] == "active"
    assert 'id="lifecycle-1"' in client.get("/models/dev/secret").text  # dev owns its own model
    client.post("/logout", data={"csrf": csrf})

    # an outsider is told the private model does not exist; a viewer of the owner may not move
    sign_in(client, "out@example.com")
    csrf = csrf_of(client.get("/org").text)
    answer = client.post("/models/dev/secret/versions/1/lifecycle", data={"csrf": csrf, "stage": "legacy"},
                         follow_redirects=False)  # fmt: skip
    assert answer.status_code == 404
    assert _stage(db, "dev/secret", "1")[0] == "active"
    client.post("/logout", data={"csrf": csrf})
    sign_in(client, "both@example.com")
    csrf = csrf_of(client.get("/org").text)
    client.post("/org/switch", data={"csrf": csrf, "org": "prov"})
    csrf = csrf_of(client.get("/org").text)
    answer = client.post(move, data={"csrf": csrf, "stage": "legacy"}, follow_redirects=False)
    assert answer.status_code == 403
    assert _stage(db, "prov/open", "1")[0] == "active"
    client.post("/logout", data={"csrf": csrf})

    # the owner: CSRF, a deprecation without sunset, an unknown stage are refused; then the move
    sign_in(client, "prov@example.com")
    page = client.get("/models/prov/open")
    assert 'id="lifecycle-1"' in page.text and 'id="lifecycle-2"' in page.text
    csrf = csrf_of(page.text)
    for data, status, words in (
        ({"stage": "deprecated", "sunset": sunset}, 403, "CSRF"),
        ({"csrf": csrf, "stage": "deprecated"}, 422, "sunset"),
        ({"csrf": csrf, "stage": "deprecated", "sunset": "2020-01-01"}, 422, "sunset"),
        ({"csrf": csrf, "stage": "deprecated", "sunset": "not a date"}, 422, "sunset"),
        ({"csrf": csrf, "stage": "gone"}, 422, "stage"),
        ({"csrf": csrf, "stage": "legacy", "successor": "1"}, 422, "succeed itself"),
    ):
        answer = client.post(move, data=data, follow_redirects=False)
        assert answer.status_code == status and words in answer.text, (data, answer.text)
    assert _stage(db, "prov/open", "1") == ("active", None, None)
    data = {"csrf": csrf, "stage": "deprecated", "sunset": sunset, "successor": "2"}
    answer = client.post(move, data=data, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/models/prov/open#files"
    stage, sunset_at, successor = _stage(db, "prov/open", "1")
    assert (stage, successor) == ("deprecated", "prov/open@2")
    assert sunset_at is not None and sunset_at.date().isoformat() == sunset  # type: ignore[attr-defined]
    backwards = client.post(move, data={"csrf": csrf, "stage": "active"}, follow_redirects=False)
    assert backwards.status_code == 422 and "forward" in backwards.text
    versions = client.get("/models/prov/open", params={"format": "json", "table": "versions"}).json()
    first = next(v for v in versions if v["label"] == "1")
    assert first["stage"] == "deprecated" and first["deprecated_at"] and first["stage_at"]
    assert first["sunset_at"].startswith(sunset) and first["successor"] == "prov/open@2"
    client.post("/logout", data={"csrf": csrf})

    # the entitled organisation is notified and sees the dates on the model page
    sign_in(client, "dev@example.com")
    notes = client.get("/notifications", params={"format": "json"}).json()
    assert [(n["kind"], n["subject"]) for n in notes] == [("version.deprecated", "prov/open@1")]
    page = client.get("/models/prov/open")
    assert "deprecated" in page.text and "prov/open@2" in page.text and sunset in page.text


def test_support_terms_and_service_level(client: TestClient, world: World, db: Database) -> None:
    _setup(db, world)
    url = f"/offers/{world.offer_id}/service-level"
    support = f"/offers/{world.offer_id}/support"
    terms = {"response_time_hours": "8", "patch_cadence_days": "30", "uptime_target_pct": "99.9",
             "latency_p95_ms": "1500"}  # fmt: skip

    sign_in(client, "prov@example.com")
    page = client.get(url)
    assert page.status_code == 200 and 'id="set-support"' in page.text and 'id="no-terms"' in page.text
    assert f'id="service-level-{world.offer_id}"' in client.get("/models/prov/open").text
    csrf = csrf_of(page.text)
    assert client.post(support, data=terms, follow_redirects=False).status_code == 403
    bad = client.post(
        support, data=terms | {"csrf": csrf, "uptime_target_pct": "150"}, follow_redirects=False
    )
    assert bad.status_code == 422 and "uptime_target_pct" in bad.text
    with db.session() as session:
        offer = offer_record(session, world.offer_id)
        assert offer is not None and "support" not in offer.terms
    done = client.post(support, data=terms | {"csrf": csrf}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == url
    rows = {r["measure"]: r for r in client.get(url, params={"format": "json"}).json()}
    assert rows["uptime_pct"]["promised"] == 99.9 and rows["latency_p95_ms"]["promised"] == 1500
    assert rows["response_time_hours"]["promised"] == 8 and rows["requests"]["measured"] == 0
    client.post("/logout", data={"csrf": csrf})

    # a customer sees the service level, not the form, and cannot change the terms
    sign_in(client, "dev@example.com")
    page = client.get(url)
    assert page.status_code == 200 and 'id="set-support"' not in page.text and "99.9" in page.text
    csrf = csrf_of(page.text)
    answer = client.post(
        support, data=terms | {"csrf": csrf, "response_time_hours": "1"}, follow_redirects=False
    )
    assert answer.status_code == 404
    with db.session() as session:
        offer = offer_record(session, world.offer_id)
        assert offer is not None and offer.terms["support"]["response_time_hours"] == 8
    assert client.get("/offers/off_missing/service-level").status_code == 404
