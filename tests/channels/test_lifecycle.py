"""Version lifecycle (issue 11, part 7): dates, notifications, webhooks, /v1 headers, retirement."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, HTTPServer

import openai
import pytest
from sqlalchemy import update

from tests.conftest import auth
from tests.gateway.conftest import MODEL, World, _org_id
from tests.ledger import assert_ledger_balances
from valuechain.accounts.principal import Principal
from valuechain.accounts.roles import Role, Scope
from valuechain.channels import lifecycle, notices
from valuechain.channels.models import Delivery
from valuechain.channels.webhooks import deliver_pending, server_key, verify
from valuechain.core.errors import NotFoundError, ValidationError
from valuechain.registry.schemas import VersionCreate
from valuechain.registry.service import create_version


def owner_of(world: World, slug: str) -> Principal:
    """An organisation's owner (not the operator)."""
    return Principal(
        org_id=_org_id(world.db, slug),
        org_slug=slug,
        key_id=None,
        user_id="cli",
        role=Role.owner,
        scopes=frozenset(Scope),
    )


def _acme(world: World) -> Principal:
    return owner_of(world, "acme")


def _devco(world: World) -> Principal:
    return owner_of(world, "devco")


class Receiver:
    """A local HTTP server that fails its first ``failures`` POSTs with 503, then records them."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.received: list[tuple[bytes, str]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers["content-length"]))
                if outer.failures > 0:
                    outer.failures -= 1
                    self.send_response(503)
                else:
                    outer.received.append((body, self.headers["X-Valuechain-Signature"]))
                    self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver(failures=2)
    yield r
    r.server.shutdown()


async def test_deprecation_notifies_sets_headers_and_retirement_names_successor(
    world: World, receiver: Receiver, tmp_path: object, settings: object
) -> None:
    key = server_key(world.app.state.settings.home)
    with world.db.unit_of_work() as session:
        hook = notices.create_webhook(
            session, receiver.url, principal=_devco(world), key=key, allow_private=True
        )
        create_version(session, MODEL, VersionCreate(label="2"), principal=_acme(world))  # type: ignore[call-arg]
    sunset = (datetime.now(UTC) + timedelta(days=90)).replace(microsecond=0)
    with world.db.unit_of_work() as session:
        change = lifecycle.move_version(
            session,
            f"{MODEL}@1",
            "deprecated",
            principal=_acme(world),
            sunset_at=sunset,
            successor=f"{MODEL}@2",
        )
    assert change.notified == ["devco"]  # entitled; outco and the provider are not told
    # the webhook: two 503s, then delivered, signed with the secret shown at creation
    assert deliver_pending(world.db, key=key, backoff_s=0.01) == 0  # private address: refused by default
    with world.db.unit_of_work() as session:  # (a refused delivery is failed; queue it again for the test)
        session.execute(update(Delivery).values(status="pending"))
    assert deliver_pending(world.db, key=key, backoff_s=0.01, allow_private=True) == 1
    [(body, signature)] = receiver.received
    assert verify(hook.secret or "", body, signature)
    assert not verify("whsec_wrong", body, signature)
    payload = json.loads(body)
    assert payload["kind"] == "version.deprecated" and payload["successor"] == f"{MODEL}@2"
    with world.db.session() as session:
        [listed] = notices.list_webhooks(session, principal=_devco(world))
        assert (listed.delivered, listed.failed, listed.secret) == (1, 0, None)
        [note] = notices.list_notifications(session, principal=_devco(world))
        assert note.subject == f"{MODEL}@1" and "deprecated" in note.message
        assert notices.list_notifications(session, principal=_acme(world)) == []  # tenant isolation
    # /v1 answers carry Deprecation (RFC 9745) and Sunset (RFC 8594); /v1/models shows the dates
    async with world.http() as http:
        r = await http.post(
            "/v1/chat/completions",
            json={"model": MODEL, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 4},
            headers=auth(world.dev_key),
        )
        assert r.status_code == 200, r.text
        assert r.headers["deprecation"].startswith("@")
        assert int(r.headers["deprecation"][1:]) <= int(datetime.now(UTC).timestamp())
        assert parsedate_to_datetime(r.headers["sunset"]) == sunset
        assert 'rel="successor-version"' in r.headers["link"]
        models = (await http.get("/v1/models", headers=auth(world.dev_key))).json()["data"]
        [card] = [m for m in models if m["id"] == MODEL]
        assert card["sunset_at"] == int(sunset.timestamp()) and card["deprecated_at"] > 0
        page = await http.get(f"/models/{MODEL}")  # the console's model page: stage, successor, kit link
        assert page.status_code == 200
        assert "stage-deprecated" in page.text and f"{MODEL}@2" in page.text
        assert f"/offers/{world.offer_id}/kit.zip" in page.text
        twin = (await http.get(f"/models/{MODEL}", params={"format": "json", "table": "versions"})).json()
        assert [(v["label"], v["stage"]) for v in twin] == [("1", "deprecated"), ("2", "active")]
    # a repeated move notifies nobody twice; backwards is refused
    with world.db.unit_of_work() as session, pytest.raises(ValidationError):
        lifecycle.move_version(session, f"{MODEL}@1", "legacy", principal=_acme(world))
    with world.db.unit_of_work() as session:
        retired = lifecycle.move_version(session, f"{MODEL}@1", "retired", principal=_acme(world))
    assert retired.notified == ["devco"]  # a new kind of notice: retirement
    client = world.client()
    with pytest.raises(openai.NotFoundError) as caught:
        await client.chat.completions.create(
            model=f"{MODEL}@1", messages=[{"role": "user", "content": "hi"}], max_tokens=4
        )
    error = caught.value.body
    assert error["code"] == "model_not_found" and f"{MODEL}@2" in error["message"]  # type: ignore[index]
    await world.gateway.admission.recorder.flush()
    assert assert_ledger_balances(world.db).transactions > 0  # the deprecated version's answer was charged


async def test_lifecycle_rules_and_tenancy(world: World) -> None:
    with world.db.unit_of_work() as session, pytest.raises(ValidationError, match="sunset"):
        lifecycle.move_version(session, f"{MODEL}@1", "deprecated", principal=_acme(world))
    past = datetime.now(UTC) - timedelta(days=1)
    with world.db.unit_of_work() as session, pytest.raises(ValidationError, match="sunset"):
        lifecycle.move_version(session, f"{MODEL}@1", "deprecated", principal=_acme(world), sunset_at=past)
    with world.db.unit_of_work() as session, pytest.raises(Exception) as caught:  # not the owner: 403
        lifecycle.move_version(session, f"{MODEL}@1", "legacy", principal=_devco(world))
    assert getattr(caught.value, "status_code", None) == 403
    async with world.http() as http:  # REST: the owner moves it; a stranger's hidden model is a 404
        url = f"/api/v1/models/{MODEL}/versions/1/lifecycle"
        r = await http.post(url, json={"stage": "legacy"}, headers=auth(world.provider_key))
        assert r.status_code == 200, r.text
        assert r.json()["after"]["stage"] == "legacy" and r.json()["before"]["stage"] == "active"
        r = await http.post(url, json={"stage": "active"}, headers=auth(world.provider_key))
        assert r.status_code == 422 and r.json()["error"]["code"] == "validation_error"
        r = await http.post(
            "/api/v1/models/acme/ghost/versions/1/lifecycle",
            json={"stage": "legacy"},
            headers=auth(world.provider_key),
        )
        assert r.status_code == 404
        r = await http.get("/api/v1/notifications", headers=auth(world.dev_key))
        assert r.status_code == 200 and r.json() == []  # legacy notifies nobody
    with world.db.session() as session, pytest.raises(NotFoundError):
        lifecycle.service_level(session, "off_missing", principal=_devco(world))


async def test_service_level_measured_from_usage(world: World) -> None:
    with world.db.unit_of_work() as session:
        terms = lifecycle.SupportTerms(response_time_hours=4, patch_cadence_days=14, latency_p95_ms=5000)
        lifecycle.set_support_terms(session, world.offer_id, terms, principal=_acme(world))
    client = world.client()
    for _ in range(3):
        await client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "hi"}], max_tokens=4
        )
    await world.gateway.admission.recorder.flush()
    async with world.http() as http:
        r = await http.get(f"/api/v1/offers/{world.offer_id}/service-level", headers=auth(world.dev_key))
        assert r.status_code == 200, r.text
        level = r.json()
        assert level["terms"]["response_time_hours"] == 4 and level["terms"]["patch_cadence_days"] == 14
        assert level["requests"] == 3 and level["uptime_pct"] == 100.0 and level["meets_uptime"] is True
        assert level["latency_p95_ms"] is not None and level["meets_latency"] is True
        r = await http.get(f"/api/v1/offers/{world.offer_id}/service-level", headers=auth(world.outsider_key))
        assert r.status_code == 200  # a public model's offer: its service level is public too
        r = await http.put(
            f"/api/v1/offers/{world.offer_id}/support",
            json={"response_time_hours": 1, "patch_cadence_days": 1},
            headers=auth(world.outsider_key),
        )
        assert r.status_code in (403, 404)
    assert assert_ledger_balances(world.db).transactions > 0  # the three requests were charged


def test_signature_scheme() -> None:
    secret, body = "whsec_x", b'{"a":1}'
    from valuechain.channels.webhooks import sign

    header = sign(secret, body, timestamp=int(datetime.now(UTC).timestamp()))
    t, v1 = (p.split("=", 1)[1] for p in header.split(","))
    expected = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    assert v1 == expected and verify(secret, body, header)
    assert not verify(secret, body + b" ", header)
    old = sign(secret, body, timestamp=1)
    assert not verify(secret, body, old)  # outside the tolerance: a replay


async def test_webhook_may_not_reach_the_private_network(world: World) -> None:
    key = server_key(world.app.state.settings.home)
    for url in ("http://127.0.0.1:8000/x", "http://localhost/x", "http://[::1]/x", "http://169.254.169.254/x",
                "http://10.0.0.1/x", "ftp://example.test/x"):  # fmt: skip
        with world.db.unit_of_work() as session, pytest.raises(ValidationError):
            notices.create_webhook(session, url, principal=_devco(world), key=key)
    async with world.http() as http:
        r = await http.post(
            "/api/v1/webhooks", json={"url": "http://127.0.0.1:1/x"}, headers=auth(world.dev_key)
        )
        assert r.status_code in (403, 422)  # a member may not; an admin would get the 422
