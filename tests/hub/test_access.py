"""Release and access of hub repos, unit by unit: visibility, gating, acceptance, decisions and listings.

The repos are made through the API (test_api's helpers); the access functions are called directly, and
what they write (the repo, the access records, the audit events) is read back from the database.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.conftest import make_org
from tests.hub.conftest import Orgs
from tests.hub.test_api import commit, create
from valuechain.accounts.models import Organization
from valuechain.accounts.principal import Principal
from valuechain.accounts.roles import ROLE_SCOPES, Role
from valuechain.core.audit import AuditEvent
from valuechain.core.db import Database
from valuechain.core.errors import ConflictError, NotFoundError, ValidationError
from valuechain.hub import access
from valuechain.hub.errors import GatedRepoError
from valuechain.hub.models import HubAccess, HubRepo
from valuechain.registry.models import Model

NOW = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
LICENCE_TEXT = b"Apache License 2.0, in full.\n"
CARD = "---\nlicense: apache-2.0\n---\n# Tiny\n"


def test_request_ids_are_opaque_and_stable() -> None:
    access_record = HubAccess(repo_id="rep_1", org_id="org_1", status="pending")
    assert access.request_id(access_record) == "ar_cbe77d65c5c02dcd49ccd31e"  # sha256("rep_1:org_1")[:24]
    other = HubAccess(repo_id="rep_1", org_id="org_2", status="pending")
    assert access.request_id(other) != access.request_id(access_record)


def _org_id(session: Session, slug: str) -> str:
    return session.scalars(select(Organization.id).where(Organization.slug == slug)).one()


def _key(
    session: Session, slug: str, *, key_id: str | None = "key_t", user_id: str | None = None
) -> Principal:
    return Principal(_org_id(session, slug), slug, key_id, user_id, Role.admin, ROLE_SCOPES[Role.admin])


def _repo(session: Session, name: str = "tiny") -> HubRepo:
    return session.scalars(select(HubRepo).where(HubRepo.namespace == "acme", HubRepo.name == name)).one()


def _events(session: Session, action: str) -> list[AuditEvent]:
    return list(
        session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq))
    )


def _make(hub: TestClient, orgs: Orgs, name: str = "tiny", card: str = CARD, *, private: bool = True) -> None:
    assert create(hub, orgs.provider, name, private=private).status_code == 200
    files = {"README.md": card.encode(), "LICENSE": LICENCE_TEXT, "config.json": b"{}"}
    assert commit(hub, orgs.provider, f"acme/{name}", files).status_code == 200


# --- visibility and gating --------------------------------------------------------------------------------


def test_making_a_repo_public_releases_it_under_its_licence(
    hub: TestClient, orgs: Orgs, hub_db: Database
) -> None:
    _make(hub, orgs)
    with hub_db.unit_of_work() as session:
        repo = _repo(session)
        repo.licence, repo.licence_name = None, "stale"  # the release sets both from the card at the head
        access.set_visibility(
            session, repo=repo, principal=_key(session, "acme"), visibility="public", now=NOW
        )
    with hub_db.session() as session:
        repo = _repo(session)
        assert (repo.visibility, repo.licence, repo.licence_name, repo.updated_at) == (
            "public",
            "apache-2.0",
            None,
            NOW,
        )
        [event] = _events(session, "hub.repo.visibility")
        assert (event.actor, event.org_id, event.subject_type, event.subject_id) == (
            "key:key_t",
            repo.org_id,
            "hub_repo",
            repo.id,
        )
        assert event.before == {"visibility": "private", "gated": None, "licence": None}
        assert event.after == {"visibility": "public", "gated": None, "licence": "apache-2.0"}


def test_a_public_repo_without_a_licence_is_published_not_released(
    hub: TestClient, orgs: Orgs, hub_db: Database
) -> None:
    _make(hub, orgs, card="# No licence\n")
    with hub_db.unit_of_work() as session:
        repo = _repo(session)
        access.set_visibility(
            session, repo=repo, principal=_key(session, "acme"), visibility="public", now=NOW
        )
        assert (repo.visibility, repo.licence, repo.licence_name) == ("public", None, None)
        access.set_visibility(
            session, repo=repo, principal=_key(session, "acme"), visibility="private", now=NOW
        )
        assert repo.visibility == "private"


def test_visibility_is_public_or_private(hub: TestClient, orgs: Orgs, hub_db: Database) -> None:
    _make(hub, orgs)
    with hub_db.unit_of_work() as session, pytest.raises(ValidationError) as raised:
        access.set_visibility(session, repo=_repo(session), principal=_key(session, "acme"), visibility="hidden",
                              now=NOW)  # fmt: skip
    assert raised.value.message == "visibility must be public or private"


def test_gating_is_recorded_with_the_state_before(hub: TestClient, orgs: Orgs, hub_db: Database) -> None:
    _make(hub, orgs)
    with hub_db.unit_of_work() as session:
        repo = _repo(session)
        access.set_gated(session, repo=repo, principal=_key(session, "acme"), gated="manual", now=NOW)
        access.set_gated(session, repo=repo, principal=_key(session, "acme"), gated=None, now=NOW)
        with pytest.raises(ValidationError) as raised:
            access.set_gated(session, repo=repo, principal=_key(session, "acme"), gated="later", now=NOW)
        assert raised.value.message == "gated must be auto, manual or false"
    with hub_db.session() as session:
        repo = _repo(session)
        assert (repo.gated, repo.updated_at) == (None, NOW)
        first, second = _events(session, "hub.repo.gated")
        assert (first.actor, first.org_id, first.subject_type, first.subject_id) == (
            "key:key_t",
            repo.org_id,
            "hub_repo",
            repo.id,
        )
        assert (first.before["gated"], first.after["gated"]) == (None, "manual")
        assert (second.before["gated"], second.after["gated"]) == ("manual", None)
        assert first.after == {"visibility": "private", "gated": "manual", "licence": "apache-2.0"}


@pytest.mark.parametrize(
    ("gated", "tail"), [("auto", ")"), ("manual", ") and wait for the provider's approval")]
)
def test_a_refused_download_says_how_to_get_access(
    hub: TestClient, orgs: Orgs, hub_db: Database, gated: str, tail: str
) -> None:
    _make(hub, orgs, private=False)
    with hub_db.unit_of_work() as session:
        repo = _repo(session)
        repo.gated = gated
        access.check_download(session, repo, _key(session, "acme"))  # the provider's own repo
        with pytest.raises(GatedRepoError) as raised:
            access.check_download(session, repo, _key(session, "devco"))
    assert raised.value.message == (
        "Access to model acme/tiny is restricted and you are not in the authorized list: accept its licence "
        "terms first (`valuechain hub accept acme/tiny` or POST /hub/api/models/acme/tiny/accept" + tail
    )


# --- accepting terms and deciding requests ----------------------------------------------------------------


def _gate(hub_db: Database, gated: str | None) -> None:
    with hub_db.unit_of_work() as session:
        _repo(session).gated = gated


def test_accepting_records_who_when_and_which_terms(hub: TestClient, orgs: Orgs, hub_db: Database) -> None:
    _make(hub, orgs, private=False)
    _gate(hub_db, "manual")
    with hub_db.unit_of_work() as session:
        record = access.accept_terms(session, repo=_repo(session), principal=_key(session, "devco"), now=NOW)
        devco = record.org_id
    with hub_db.session() as session:
        record = session.get(HubAccess, (_repo(session).id, devco))
        assert record is not None
        assert (record.status, record.terms, record.accepted_by, record.accepted_at) == (
            "pending",
            "apache-2.0",
            "key_t",
            NOW,
        )
        assert record.terms_sha256 == hashlib.sha256(LICENCE_TEXT).hexdigest()
        [event] = _events(session, "hub.terms.accept")
        assert (event.actor, event.org_id, event.subject_type, event.subject_id) == (
            "key:key_t",
            devco,
            "hub_repo",
            _repo(session).id,
        )
        assert event.after == {
            "org_id": devco,
            "status": "pending",
            "terms": "apache-2.0",
            "terms_sha256": hashlib.sha256(LICENCE_TEXT).hexdigest(),
            "accepted_by": "key_t",
            "accepted_at": NOW.isoformat(),
        }
        assert event.before is None


def test_auto_gating_accepts_unless_rejected(hub: TestClient, orgs: Orgs, hub_db: Database) -> None:
    _make(hub, orgs, card="# No licence\n", private=False)
    _gate(hub_db, "auto")
    with hub_db.unit_of_work() as session:
        user = _key(session, "devco", key_id=None, user_id="usr_1")
        record = access.accept_terms(session, repo=_repo(session), principal=user, now=NOW)
        assert (record.status, record.terms, record.terms_sha256, record.accepted_by) == (
            "accepted",
            None,
            None,
            "usr_1",
        )
        record.status = "rejected"
        again = access.accept_terms(session, repo=_repo(session), principal=user, now=NOW)
        assert again.status == "rejected"


def test_an_ungated_repo_needs_no_acceptance(hub: TestClient, orgs: Orgs, hub_db: Database) -> None:
    _make(hub, orgs, private=False)
    with hub_db.unit_of_work() as session, pytest.raises(ValidationError) as raised:
        access.accept_terms(session, repo=_repo(session), principal=_key(session, "devco"), now=NOW)
    assert raised.value.message == "acme/tiny is not gated; its files need no acceptance"


def _accepted_by(hub_db: Database, *slugs: str) -> None:
    with hub_db.unit_of_work() as session:
        for slug in slugs:
            access.accept_terms(session, repo=_repo(session), principal=_key(session, slug), now=NOW)


def test_the_provider_decides_by_slug_or_by_request_id(hub: TestClient, orgs: Orgs, hub_db: Database) -> None:
    _make(hub, orgs, private=False)
    _gate(hub_db, "manual")
    _accepted_by(hub_db, "devco", "outco")
    later = datetime(2026, 3, 5, tzinfo=UTC)
    with hub_db.unit_of_work() as session:
        repo, provider = _repo(session), _key(session, "acme", key_id="key_p")
        granted = access.decide_access(session, repo=repo, principal=provider, org_slug="devco",
                                       status="accepted", now=later)  # fmt: skip
        assert (granted.status, granted.decided_by, granted.decided_at) == ("accepted", "key_p", later)
        outco = session.get(HubAccess, (repo.id, _org_id(session, "outco")))
        assert outco is not None
        by_id = access.decide_access(session, repo=repo, principal=provider, org_slug=None, status="rejected",
                                     now=later, request=access.request_id(outco))  # fmt: skip
        assert by_id is outco and outco.status == "rejected"
        user = _key(session, "acme", key_id=None, user_id="usr_p")
        reset = access.decide_access(session, repo=repo, principal=user, org_slug="devco", status="pending",
                                     now=later)  # fmt: skip
        assert reset.decided_by == "usr_p"
    with hub_db.session() as session:
        repo = _repo(session)
        [event] = _events(session, "hub.access.accepted")
        assert (event.actor, event.org_id, event.subject_type, event.subject_id) == (
            "key:key_p",
            repo.org_id,
            "hub_repo",
            repo.id,
        )
        assert (event.before["status"], event.after["status"]) == ("pending", "accepted")
        assert event.after["org_id"] == _org_id(session, "devco")
        assert len(_events(session, "hub.access.rejected")) == 1
        assert len(_events(session, "hub.access.pending")) == 1


def test_deciding_what_is_already_decided_is_a_conflict(
    hub: TestClient, orgs: Orgs, hub_db: Database
) -> None:
    _make(hub, orgs, private=False)
    _gate(hub_db, "manual")
    _accepted_by(hub_db, "devco")
    with hub_db.unit_of_work() as session:
        repo, provider = _repo(session), _key(session, "acme")
        with pytest.raises(ConflictError) as raised:
            access.decide_access(
                session, repo=repo, principal=provider, org_slug="devco", status="pending", now=NOW
            )
        assert raised.value.message == "the access request of devco is already pending"
        record = session.get(HubAccess, (repo.id, _org_id(session, "devco")))
        assert record is not None
        ar = access.request_id(record)
        with pytest.raises(ConflictError) as raised:
            access.decide_access(session, repo=repo, principal=provider, org_slug=None, status="pending", now=NOW,
                                 request=ar)  # fmt: skip
        assert raised.value.message == f"the access request of {ar} is already pending"
        with pytest.raises(ValidationError) as invalid:
            access.decide_access(
                session, repo=repo, principal=provider, org_slug="devco", status="maybe", now=NOW
            )
        assert invalid.value.message == "status must be one of pending, accepted, rejected"


def test_only_organisations_that_asked_can_be_named(hub: TestClient, orgs: Orgs, hub_db: Database) -> None:
    _make(hub, orgs, private=False)
    _gate(hub_db, "manual")
    _accepted_by(hub_db, "devco")
    with hub_db.unit_of_work() as session:
        repo, provider = _repo(session), _key(session, "acme")
        cases = [
            ({"org_slug": "outco"}, "no access request from organisation outco for acme/tiny"),
            ({"org_slug": "nobody"}, "no access request from organisation nobody for acme/tiny"),
            ({"org_slug": None, "request": "ar_000"}, "no access request from request ar_000 for acme/tiny"),
        ]
        for named, message in cases:
            with pytest.raises(NotFoundError) as raised:
                access.decide_access(session, repo=repo, principal=provider, status="accepted", now=NOW,
                                     **named)  # type: ignore[arg-type]  # fmt: skip
            assert raised.value.message == message


def test_access_records_are_listed_by_organisation(hub: TestClient, orgs: Orgs, hub_db: Database) -> None:
    _make(hub, orgs, private=False)
    _gate(hub_db, "manual")
    for slug in ("zulu", "alpha"):  # ids in the opposite order of the slugs
        make_org(hub_db, slug)
    _accepted_by(hub_db, "outco", "zulu", "devco", "alpha")
    with hub_db.unit_of_work() as session:
        repo = _repo(session)
        access.decide_access(session, repo=repo, principal=_key(session, "acme"), org_slug="outco",
                             status="accepted", now=NOW)  # fmt: skip
        listed = access.list_access(session, repo=repo)
        assert [(slug, r.status) for r, slug in listed] == [
            ("alpha", "pending"),
            ("devco", "pending"),
            ("outco", "accepted"),
            ("zulu", "pending"),
        ]
        accepted = access.list_access(session, repo=repo, status="accepted")
        assert [slug for _, slug in accepted] == ["outco"]
        assert access.list_access(session, repo=repo, status="rejected") == []


def test_accepted_access_to_a_registry_model(hub: TestClient, orgs: Orgs, hub_db: Database) -> None:
    _make(hub, orgs, private=False)
    _make(hub, orgs, "other", private=False)
    _gate(hub_db, "manual")
    with hub_db.unit_of_work() as session:
        model = session.scalars(select(Model)).first()
        assert model is not None
        model_id = model.id
        _repo(session).model_id = model_id
    _accepted_by(hub_db, "devco", "outco")
    with hub_db.unit_of_work() as session:
        repo = _repo(session)
        access.decide_access(session, repo=repo, principal=_key(session, "acme"), org_slug="devco",
                             status="accepted", now=NOW)  # fmt: skip
        devco, outco = _org_id(session, "devco"), _org_id(session, "outco")
    with hub_db.session() as session:
        assert access.has_accepted_access(session, model_id, devco)
        assert not access.has_accepted_access(session, model_id, outco)  # pending
        assert not access.has_accepted_access(session, "mdl_other", devco)
