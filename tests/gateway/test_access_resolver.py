"""Who may call which model: the caller's routes, the error of each refusal, and the resolver's cache."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from tests.conftest import make_key, make_org
from tests.gateway.conftest import MODEL, World, _org_id, default_terms
from valuechain.accounts.models import ApiKey
from valuechain.accounts.principal import Principal, system_principal
from valuechain.accounts.roles import ROLE_SCOPES, Role
from valuechain.accounts.service import authenticate
from valuechain.core.db import Database
from valuechain.core.errors import AuthenticationError
from valuechain.gateway.access import AccessResolver, Caller, Route
from valuechain.gateway.errors import GatewayError
from valuechain.market import ledger
from valuechain.market import service as market
from valuechain.market.models import Entitlement
from valuechain.oversight.service import suspend
from valuechain.registry.models import Offer
from valuechain.registry.schemas import ModelCreate, OfferCreate, VersionCreate
from valuechain.registry.service import create_model, create_offer, create_version
from valuechain.runtime.models import BackendBinding


def _caller() -> Caller:
    p = Principal("org_a", "a", "key_1", None, Role.member, ROLE_SCOPES[Role.member])
    return Caller(p, routes={}, denied={"acme/closed": "the provider has not approved your organisation yet"})


def test_an_unknown_model_is_a_404_that_does_not_say_whether_it_exists() -> None:
    with pytest.raises(GatewayError) as raised:
        _caller().route("acme/nothing")
    error = raised.value
    assert (error.status_code, error.code, error.param) == (404, "model_not_found", "model")
    assert error.message == "the model `acme/nothing` does not exist or you do not have access to it"


def test_a_visible_but_forbidden_model_is_a_403_with_the_reason() -> None:
    with pytest.raises(GatewayError) as raised:
        _caller().route("acme/closed")
    error = raised.value
    assert (error.status_code, error.code, error.param) == (403, "model_access_denied", "model")
    assert error.message == "the provider has not approved your organisation yet"


# --- resolving a key against the database -----------------------------------------------------------------


def _key_id(db: Database, secret: str) -> str:
    with db.session() as session:
        return authenticate(session, secret).key_id  # type: ignore[return-value]


async def test_an_entitled_key_gets_a_route_by_name_and_by_version(world: World) -> None:
    devco = _org_id(world.db, "devco")
    acme = _org_id(world.db, "acme")
    with world.db.unit_of_work() as session:
        revenue = ledger.ensure_account(session, ledger.revenue_code(acme), org_id=acme)
        tokens = ledger.ensure_account(session, ledger.allowance_code(devco, world.offer_id), org_id=devco)
        source = ledger.ensure_account(session, ledger.allowance_source_code(acme), org_id=acme)
        wallet = ledger.ensure_account(session, ledger.wallet_code(devco), org_id=devco)
        created = session.get(Offer, world.offer_id).created_at  # type: ignore[union-attr]
    caller = world.gateway.admission.access.caller(world.dev_key)
    assert caller.principal.org_id == devco and caller.denied == {}
    assert set(caller.routes) == {MODEL, f"{MODEL}@1"}
    assert caller.routes[MODEL] is caller.routes[f"{MODEL}@1"]
    assert caller.route(MODEL) == Route(
        model=MODEL,
        offer_id=world.offer_id,
        version_id=world.version_id,
        provider_org_id=acme,
        provider_slug="acme",
        terms=default_terms(),
        created=int(created.timestamp()),
        context_length=2048,  # no backend records a context length: the default
        wallet_account_id=wallet.id,
        revenue_account_id=revenue.id,
        throttle_rpm=None,
        allowance_account_id=tokens.id,
        allowance_source_account_id=source.id,
    )


async def test_a_public_model_without_entitlement_is_denied_with_the_reason(world: World) -> None:
    caller = world.gateway.admission.access.caller(world.outsider_key)
    assert caller.routes == {}
    reason = f"your organisation is not entitled to offer {world.offer_id}; request access first"
    assert caller.denied == {MODEL: reason, f"{MODEL}@1": reason}


async def test_a_private_model_is_invisible_unless_owned_or_entitled(world: World) -> None:
    acme = _org_id(world.db, "acme")
    with world.db.unit_of_work() as session:
        owner = system_principal(org_id=acme, org_slug="acme")
        create_model(session, ModelCreate(name="secret", visibility="private"), principal=owner)
        create_version(session, "acme/secret", VersionCreate(label="2"), principal=owner)  # type: ignore[call-arg]
        offer = create_offer(session, OfferCreate(model="acme/secret@2", channel="api"), principal=owner)  # type: ignore[arg-type]
        market.set_api_terms(session, offer.id, default_terms(), principal=owner)
        offer_id = offer.id
    assert "acme/secret" not in world.gateway.admission.access.caller(world.outsider_key).denied
    with pytest.raises(GatewayError) as raised:
        world.gateway.admission.access.caller(world.outsider_key).route("acme/secret@2")
    assert raised.value.status_code == 404
    provider = world.gateway.admission.access.caller(
        world.provider_key
    )  # its own model: visible, not entitled
    assert provider.denied["acme/secret"].startswith(f"your organisation is not entitled to offer {offer_id}")
    with world.db.unit_of_work() as session:
        market.grant(session, offer_id, "outco", principal=system_principal(org_id=acme, org_slug="acme"))
    assert world.gateway.admission.access.caller(world.outsider_key).route("acme/secret").offer_id == offer_id


async def test_suspensions_deny_and_throttles_route_with_a_limit(world: World) -> None:
    acme = system_principal(org_id=_org_id(world.db, "acme"), org_slug="acme")
    devco = _org_id(world.db, "devco")
    with world.db.unit_of_work() as session:
        suspend(session, principal=acme, subject_type="org", subject_id=devco, reason="abuse",
                kind="throttle", throttle_rpm=7)  # fmt: skip
    assert world.gateway.admission.access.caller(world.dev_key).route(MODEL).throttle_rpm == 7
    with world.db.unit_of_work() as session:
        suspend(session, principal=acme, subject_type="key", subject_id=_key_id(world.db, world.dev_key),
                reason="spam")  # fmt: skip
    caller = world.gateway.admission.access.caller(world.dev_key)
    assert caller.routes == {}
    assert caller.denied[MODEL] == "this API key is suspended by the provider: spam"


async def test_a_key_without_the_inference_scope_is_refused(world: World) -> None:
    secret = make_key(world.db, "devco", "member", scopes=["registry:read"])
    with pytest.raises(GatewayError) as raised:
        world.gateway.admission.access.caller(secret)
    error = raised.value
    assert (error.status_code, error.code) == (403, "insufficient_scope")
    assert error.message == "this key (role member) lacks the `inference` scope"


# --- the cache --------------------------------------------------------------------------------------------


async def test_callers_are_cached_until_a_commit_to_an_access_table(world: World) -> None:
    access = AccessResolver(world.db, ttl_s=60)
    published: list[int] = []
    access.on_invalidate.append(lambda: published.append(access.generation))
    first = access.caller(world.dev_key)  # recording the key's last use is bookkeeping: no invalidation
    assert access.caller(world.dev_key) is first and published == []
    access._after_commit(frozenset({"gateway_usage", "audit_events"}))  # nothing access depends on
    assert access.caller(world.dev_key) is first and published == []
    make_org(world.db, "newco")  # organizations
    assert published == [1]
    assert access.caller(world.dev_key) is not first
    access.close()
    make_org(world.db, "newerco")
    assert published == [1]  # unhooked


async def test_refusals_are_cached_too(world: World) -> None:
    access = AccessResolver(world.db, ttl_s=60)
    with pytest.raises(AuthenticationError) as first:
        access.caller("vc_sk_not-a-key")
    with pytest.raises(AuthenticationError) as second:
        access.caller("vc_sk_not-a-key")
    assert second.value is first.value
    access.invalidate()
    with pytest.raises(AuthenticationError) as third:
        access.caller("vc_sk_not-a-key")
    assert third.value is not first.value
    access.close()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_a_cached_caller_expires_after_two_seconds(world: World) -> None:
    clock = Clock()
    access = AccessResolver(world.db, clock=clock)
    access.caller(world.dev_key)  # touches the key
    cached = access.caller(world.dev_key)
    clock.now += 1.5
    assert access.caller(world.dev_key) is cached
    clock.now += 0.5  # exactly the TTL: expired
    assert access.caller(world.dev_key) is not cached
    access.close()


async def test_the_last_use_of_a_key_is_recorded_on_a_cache_miss(world: World) -> None:
    key_id = _key_id(world.db, world.dev_key)
    with world.db.session() as session:
        assert session.get(ApiKey, key_id).last_used_at is None  # type: ignore[union-attr]
    AccessResolver(world.db).caller(world.dev_key)
    with world.db.session() as session:
        assert session.get(ApiKey, key_id).last_used_at is not None  # type: ignore[union-attr]


async def test_the_cache_is_bounded(world: World) -> None:
    access = AccessResolver(world.db, ttl_s=60, max_cached=3)
    access.caller(world.dev_key)
    cached = access.caller(world.dev_key)
    for n in range(2):
        with pytest.raises(AuthenticationError):
            access.caller(f"vc_sk_unknown-{n}")
    assert access.caller(world.dev_key) is cached  # 3 entries: the bound
    with pytest.raises(AuthenticationError):
        access.caller("vc_sk_unknown-3")  # a fourth: the cache starts over
    assert access.caller(world.dev_key) is not cached
    access.close()


async def test_a_served_context_length_and_a_later_version_entitled(world: World) -> None:
    """The backend's context length is the route's; an entitled later version takes the model's name back
    from the denied earlier one."""
    acme = system_principal(org_id=_org_id(world.db, "acme"), org_slug="acme")
    with world.db.unit_of_work() as session:
        session.add(BackendBinding(id="bkd_1", version_id=world.version_id, kind="remote", config={},
                                   context_length=8192, created_at=datetime.now(UTC)))  # fmt: skip
    assert world.gateway.admission.access.caller(world.dev_key).route(MODEL).context_length == 8192
    with world.db.unit_of_work() as session:
        devco = _org_id(world.db, "devco")
        entitlement = session.scalars(select(Entitlement).where(Entitlement.org_id == devco)).one()
        market.revoke(session, entitlement.id, principal=acme, reason="moved to v2")
        version = create_version(session, MODEL, VersionCreate(label="2"), principal=acme)  # type: ignore[call-arg]
        offer = create_offer(session, OfferCreate(model=f"{MODEL}@2", channel="api"), principal=acme)  # type: ignore[arg-type]
        market.set_api_terms(session, offer.id, default_terms(), principal=acme)
        market.grant(session, offer.id, "devco", principal=acme)
        version_id = version.id
    caller = world.gateway.admission.access.caller(world.dev_key)
    assert caller.route(MODEL).version_id == version_id
    assert set(caller.routes) == {MODEL, f"{MODEL}@2"}
    assert set(caller.denied) == {f"{MODEL}@1"}  # the name itself is routed, no longer denied
    assert caller.denied[f"{MODEL}@1"] == f"your entitlement to offer {world.offer_id} is revoked"


class _CountingDb:
    """The database, counting write transactions."""

    def __init__(self, db: Database) -> None:
        self.db, self.writes = db, 0

    def session(self) -> Any:
        return self.db.session()

    def unit_of_work(self) -> Any:
        self.writes += 1
        return self.db.unit_of_work()

    def on_commit(self, hook: Any) -> Any:
        return self.db.on_commit(hook)


async def test_the_read_path_writes_only_a_stale_last_use(world: World) -> None:
    counting = _CountingDb(world.db)
    access = AccessResolver(counting, ttl_s=0)  # type: ignore[arg-type]
    access.caller(world.dev_key)
    assert counting.writes == 1  # never used: its last use is recorded
    access.caller(world.dev_key)
    assert counting.writes == 1  # used a moment ago: no write transaction
    access.close()


class _RacingDb(_CountingDb):
    """The database, with another commit invalidating the cache while a caller is being resolved."""

    def __init__(self, db: Database) -> None:
        super().__init__(db)
        self.access: AccessResolver | None = None

    def session(self) -> Any:
        if self.access is not None:
            self.access.invalidate()
        return self.db.session()


async def test_a_caller_resolved_across_an_invalidation_is_not_cached(world: World) -> None:
    racing = _RacingDb(world.db)
    access = AccessResolver(racing, ttl_s=60)  # type: ignore[arg-type]
    access.caller(world.dev_key)  # the key's first use
    access.invalidate()
    assert access.generation == 1
    racing.access = access
    first = access.caller(world.dev_key)  # a commit lands meanwhile
    assert access.generation == 2
    racing.access = None
    second = access.caller(world.dev_key)
    assert second is not first
    assert access.caller(world.dev_key) is second
    access.close()
