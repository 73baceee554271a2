"""Manifest import/export: all or nothing, idempotent, and import → export → import is lossless."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from valuechain.accounts.principal import system_principal
from valuechain.core.audit import AuditEvent, verify_chain
from valuechain.core.db import Database
from valuechain.core.errors import ValidationError
from valuechain.registry.chain import import_manifest
from valuechain.registry.check import parse_manifest
from valuechain.registry.export import export_manifest, manifest_to_yaml
from valuechain.registry.manifest import ChainManifest
from valuechain.registry.models import Model

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "chain.yaml"


def canonical(manifest: ChainManifest) -> dict[str, Any]:
    """Order-free form of a manifest, with defaults made explicit (brand defaults to the offering actor)."""
    data = manifest.model_dump(mode="json", exclude={"as_of"})
    for offer in data["offers"]:
        offer["brand"] = offer["brand"] or offer["by"]
    return {k: sorted(map(repr, v)) if isinstance(v, list) else v for k, v in data.items()}


def _import(db: Database, text: str) -> dict[str, dict[str, int]]:
    with db.unit_of_work() as session:
        return import_manifest(session, parse_manifest(text), principal=system_principal()).as_dict()


def _export(db: Database) -> str:
    with db.session() as session:
        return manifest_to_yaml(export_manifest(session))


def test_import_export_import_is_lossless(db: Database) -> None:
    original = parse_manifest(EXAMPLE.read_text())
    _import(db, EXAMPLE.read_text())
    first = _export(db)
    assert canonical(parse_manifest(first)) == canonical(original)
    report = _import(db, first)
    assert report["created"] == {} and report["updated"] == {}
    assert _export(db) == first


def test_import_is_idempotent_and_audited(db: Database) -> None:
    created = _import(db, EXAMPLE.read_text())
    assert created["created"]["model"] >= 3
    with db.session() as session:
        events = session.scalar(select(func.count()).select_from(AuditEvent))
    again = _import(db, EXAMPLE.read_text())
    assert again["created"] == {} and again["updated"] == {}
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(AuditEvent)) == events
        assert verify_chain(session).ok


def test_changed_fact_is_an_update_with_before_and_after(db: Database) -> None:
    text = EXAMPLE.read_text()
    _import(db, text)
    report = _import(db, text.replace("licence: apache-2.0", "licence: mit", 1))
    assert report["updated"] == {"model": 1}
    with db.session() as session:
        event = session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)).one()
        assert event.action == "model.update"
        assert event.before["licence"] == "apache-2.0" and event.after["licence"] == "mit"


def test_failed_import_changes_nothing(db: Database) -> None:
    _import(db, EXAMPLE.read_text())
    before = _export(db)
    manifest = parse_manifest(EXAMPLE.read_text().replace("licence: apache-2.0", "licence: mit", 1))
    with pytest.raises(RuntimeError), db.unit_of_work() as session:
        import_manifest(session, manifest, principal=system_principal())
        raise RuntimeError("crash half-way through")
    assert _export(db) == before
    with db.session() as session:
        assert session.scalar(select(Model.licence).where(Model.slug == "openlab/ol-7b")) == "apache-2.0"


def test_versions_other_than_the_latest_round_trip(db: Database) -> None:
    text = EXAMPLE.read_text().replace("child: tuner/ol-7b-legal,", "child: tuner/ol-7b-legal@0.9,")
    _import(db, text)
    exported = _export(db)
    assert "tuner/ol-7b-legal@0.9" in exported
    assert _import(db, exported)["created"] == {}


WHITE_LABEL = "  - {model: tuner/ol-7b-legal, by: shop, channel: white_label, brand: ShopAI, eu: true}\n"


def test_the_name_a_white_label_offer_is_marketed_under_round_trips(db: Database) -> None:
    """``marketed_as`` (issue 11) is kept on import, exported again, and a change of it is an update."""
    assert WHITE_LABEL in EXAMPLE.read_text()
    marketed = WHITE_LABEL.replace("eu: true}", "eu: true, marketed_as: shop-legal-chat}")
    text = EXAMPLE.read_text().replace(WHITE_LABEL, marketed)
    _import(db, text)
    first = _export(db)
    assert "marketed_as: shop-legal-chat" in first
    assert canonical(parse_manifest(first)) == canonical(parse_manifest(text))
    again = _import(db, first)
    assert again["created"] == {} and again["updated"] == {}
    report = _import(db, text.replace("shop-legal-chat", "shop-legal-pro"))
    assert report["updated"] == {"offer": 1}
    with db.session() as session:
        event = session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)).one()
        seen = (event.action, event.before, event.after)
    assert seen == (
        "offer.update",
        {"marketed_as": "shop-legal-chat"},
        {"marketed_as": "shop-legal-pro"},
    )
    assert "marketed_as: shop-legal-pro" in _export(db)
    _import(db, EXAMPLE.read_text())  # a manifest that leaves it out does not erase it
    assert "marketed_as: shop-legal-pro" in _export(db)


def test_format_2_facts_the_registry_cannot_hold_are_refused(db: Database) -> None:
    """Issue 13: the registry stores no Art. 25/27 facts yet; importing them is refused with what to do
    instead, never dropped silently, and nothing is written."""
    text = (
        "valuechain: 2\nactors:\n  - {id: city, name: City, country: NL, public_body: true}\n"
        "systems:\n  - {id: city/hr, provider: city, changes: [rebrand], modified_from: vendor/hr}\n"
    )
    with pytest.raises(ValidationError) as info:
        _import(db, text)
    message = str(info.value)
    assert "actors[city].public_body" in message and "systems[city/hr].modified_from" in message
    assert "valuechain obligations --chain FILE" in message
    assert "city" not in _export(db)
