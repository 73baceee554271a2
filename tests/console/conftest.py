"""A small world for the console: a provider with a public model and an API offer on approval, a developer
with a private model, an outsider; one console user per organisation (and one in two organisations)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from tests.conftest import make_org
from valuechain.accounts import sessions
from valuechain.accounts.principal import system_principal
from valuechain.accounts.roles import Role
from valuechain.core.db import Database
from valuechain.market import service as market
from valuechain.market.terms import ApiTerms, PricePlan
from valuechain.registry.schemas import ModelCreate, OfferCreate, VersionCreate
from valuechain.registry.service import create_model, create_offer, create_version

PASSWORD = "correct horse battery staple"


@dataclass
class World:
    offer_id: str


def _as(db: Database, slug: str):  # type: ignore[no-untyped-def]
    from valuechain.accounts.directory import org_id_for_slug

    with db.session() as session:
        org_id = org_id_for_slug(session, slug)
    return system_principal(org_id=org_id or "", org_slug=slug)


@pytest.fixture
def world(db: Database) -> World:
    for slug in ("prov", "dev", "out"):
        make_org(db, slug)
    with db.unit_of_work() as session:
        p = _as(db, "prov")
        create_model(
            session,
            ModelCreate(name="open", visibility="public", licence="apache-2.0", output_modalities=["text"]),
            principal=p,
        )  # type: ignore[call-arg]
        create_version(session, "prov/open", VersionCreate(label="1"), principal=p)  # type: ignore[call-arg]
    with db.unit_of_work() as session:
        d = _as(db, "dev")
        create_model(session, ModelCreate(name="secret", licence="proprietary"), principal=d)  # type: ignore[call-arg]
    with db.unit_of_work() as session:
        offer = create_offer(session, OfferCreate(model="prov/open@1", channel="api"), principal=p)  # type: ignore[arg-type]
        offer_id = offer.id
        market.set_api_terms(
            session,
            offer_id,
            ApiTerms(access="approval", plan=PricePlan(free_credits=1_000_000)),
            principal=p,
        )
    with db.unit_of_work() as session:
        op = system_principal()
        for slug in ("prov", "dev", "out"):
            sessions.set_user(
                session, f"{slug}@example.com", slug, role=Role.admin, password=PASSWORD, principal=op
            )
        sessions.set_user(
            session, "both@example.com", "prov", role=Role.viewer, password=PASSWORD, principal=op
        )
        sessions.set_user(
            session, "both@example.com", "dev", role=Role.admin, password=PASSWORD, principal=op
        )
    return World(offer_id=offer_id)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)


def login_csrf_of(html: str) -> str:
    """The token of the sign-in form itself (a signed-in page also has the session's, in the header)."""
    found = re.search(r'action="/login">\s*<input type="hidden" name="csrf" value="([^"]+)"', html)
    assert found, "no sign-in form"
    return found.group(1)


def sign_in(client: TestClient, email: str, password: str = PASSWORD) -> None:
    page = client.get("/login")
    response = client.post(
        "/login",
        data={"email": email, "password": password, "csrf": login_csrf_of(page.text), "next": "/org"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
