"""Entitlements: open access is immediate, approval access waits on the provider; credits granted once."""

from __future__ import annotations

import pytest

from tests.gateway.conftest import _org_id, default_terms, setup_world
from tests.ledger import assert_ledger_balances
from valuechain.accounts.principal import Principal, system_principal
from valuechain.accounts.roles import Role, Scope
from valuechain.core.db import Database
from valuechain.core.errors import ForbiddenError, NotFoundError
from valuechain.core.settings import Settings
from valuechain.market import ledger
from valuechain.market import service as market


def _as(db: Database, slug: str, role: Role = Role.admin) -> Principal:
    return Principal(
        org_id=_org_id(db, slug), org_slug=slug, key_id=None, user_id="u", role=role, scopes=frozenset(Scope)
    )


async def test_waitlist_then_approval_grants_credits_once(db: Database, settings: Settings) -> None:
    world = setup_world(db, settings, default_terms(access="approval"))
    with db.unit_of_work() as session:
        ent = market.request_access(session, world.offer_id, principal=_as(db, "outco"))
        assert ent.status == "pending"
    with db.unit_of_work() as session, pytest.raises(NotFoundError):  # only the provider works its waitlist
        market.decide(session, ent.id, approve=True, principal=_as(db, "outco"))
    with db.unit_of_work() as session:
        assert market.decide(session, ent.id, approve=True, principal=_as(db, "acme")).status == "approved"
    with db.unit_of_work() as session:
        market.grant(session, world.offer_id, "outco", principal=_as(db, "acme"))
    with db.session() as session:
        assert ledger.wallet_balance(session, _org_id(db, "outco")) == 1_000_000
    assert_ledger_balances(db)
    await world.gateway.close()


async def test_open_access_is_immediate_and_members_cannot_set_terms(
    db: Database, settings: Settings
) -> None:
    world = setup_world(db, settings, default_terms(access="open"))
    with db.unit_of_work() as session:
        assert market.request_access(session, world.offer_id, principal=_as(db, "outco")).status == "approved"
    with db.unit_of_work() as session, pytest.raises(ForbiddenError):
        market.set_api_terms(session, world.offer_id, default_terms(), principal=_as(db, "acme", Role.member))
    with db.unit_of_work() as session, pytest.raises(NotFoundError):  # another org's offer is absent to it
        market.set_api_terms(session, world.offer_id, default_terms(), principal=_as(db, "devco"))
    assert system_principal().is_operator
    assert_ledger_balances(db)
    await world.gateway.close()
