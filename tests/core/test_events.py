"""Typed audit events: one registry, every writer checked by it, every recorded action declared."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from valuechain import docgen
from valuechain.accounts.principal import system_principal
from valuechain.core.audit import AuditEvent, record_event
from valuechain.core.db import Database
from valuechain.core.events import EVENTS, EventError, EventRegistry, EventType, Payload, declaring_modules
from valuechain.registry.chain import import_manifest
from valuechain.registry.check import parse_manifest

SRC = Path(__file__).resolve().parents[2] / "src" / "valuechain"

CHAIN = """\
valuechain: 1
actors:
  - {id: lab, name: Lab, country: FR}
  - {id: shop, name: Shop, country: DE}
models:
  - {id: lab/base, version: "1", public: true}
  - {id: shop/tuned, version: "1"}
derivations:
  - {parent: lab/base, child: shop/tuned, by: shop, relation: finetune}
offers:
  - {model: lab/base, by: lab, channel: api}
systems:
  - {id: shop/bot, provider: shop, deployers: [shop], models: [shop/tuned], intended_purpose: chat}
"""


def _count(db: Database) -> int:
    with db.session() as session:
        return int(session.scalar(select(func.count()).select_from(AuditEvent)) or 0)


@pytest.mark.parametrize(
    ("action", "subject", "after", "message"),
    [
        ("model.delete", "model", None, "not declared"),
        ("model.create", "system", {"slug": "a/b"}, "is about a model, not a system"),
        ("model.create", "model", {"visibility": "public"}, "payload slug"),
        ("key.revoke", "key", {"name": "k", "prefix": 1}, "payload"),
    ],
)
def test_record_event_refuses_what_is_not_declared(
    db: Database, action: str, subject: str, after: object, message: str
) -> None:
    before = _count(db)
    with pytest.raises(EventError, match=message), db.unit_of_work() as session:
        record_event(
            session, actor="t", org_id=None, action=action, subject_type=subject, subject_id="x", after=after
        )
    assert _count(db) == before


def test_a_declared_event_is_recorded(db: Database) -> None:
    with db.unit_of_work() as session:
        record_event(
            session, actor="t", org_id=None, action="model.create", subject_type="model", subject_id="a/b",
            after={"slug": "a/b", "source": "test"},
        )  # fmt: skip
    assert _count(db) == 1


def test_a_name_is_declared_by_one_domain_only() -> None:
    registry = EventRegistry()
    registry.declare("one", EventType("x.create", "x", "made"))
    with pytest.raises(EventError, match="declared by one and two"):
        registry.declare("two", EventType("x.create", "x", "made"))


def test_every_domain_declares_its_events_in_its_own_module() -> None:
    modules = declaring_modules()
    assert {"valuechain.accounts.events", "valuechain.registry.events", "valuechain.hub.events"} <= set(
        modules
    )
    types = list(EVENTS)
    assert {t.domain for t in types} == {m.split(".")[1] for m in modules}
    for event in types:
        assert re.fullmatch(r"[a-z_]+(\.[a-z_]+)+", event.name), event.name
        assert event.description.endswith("."), event.name
        assert event.payload is None or issubclass(event.payload, Payload)


def test_one_name_for_one_act_in_the_registry_domain() -> None:
    """The registry's acts are named ``<subject>.<verb>``, and are about that subject."""
    for event in EVENTS:
        if event.domain == "registry":
            assert event.name.split(".")[0] == event.subject, event.name


def _recorded_actions() -> list[tuple[str, int, ast.expr]]:
    """Every ``action`` given to ``record_event`` and every action of a ``Change`` in the source tree."""
    found = []
    for path in sorted(SRC.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            if name == "record_event":
                action = next((k.value for k in node.keywords if k.arg == "action"), None)
                if action is not None:
                    found.append((str(path.relative_to(SRC)), node.lineno, action))
            elif name == "Change" and len(node.args) > 2:
                found.append((str(path.relative_to(SRC)), node.lineno, node.args[2]))
    return found


def _pattern(expr: ast.expr, module: str) -> str | None:
    """A regex of the names ``expr`` can take; None where it is a name bound elsewhere (a parameter)."""
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return re.escape(expr.value)
    if isinstance(expr, ast.JoinedStr):
        return "".join(re.escape(v.value) if isinstance(v, ast.Constant) else "[a-z_]+" for v in expr.values)
    if isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name) and expr.value.id == "events":
        domain = module.split("/")[0]
        import importlib

        declared = getattr(importlib.import_module(f"valuechain.{domain}.events"), expr.attr)
        return re.escape(declared.name)
    return None


def test_every_action_recorded_in_the_code_is_declared() -> None:
    """Read from the syntax tree, not grepped: each literal, f-string or ``events.x`` action names a type."""
    names = [t.name for t in EVENTS]
    sites = _recorded_actions()
    assert len(sites) > 25
    unchecked = []
    for where, line, expr in sites:
        pattern = _pattern(expr, where)
        if pattern is None:
            unchecked.append(f"{where}:{line}")
            continue
        assert any(re.fullmatch(pattern, n) for n in names), f"{where}:{line} records an undeclared action"
    # Only pass-through parameters may escape the static check (they are checked when recorded).
    assert all(w.startswith("core/audit.py") for w in unchecked), unchecked


def test_a_chain_import_writes_only_declared_events(db: Database) -> None:
    with db.unit_of_work() as session:
        import_manifest(session, parse_manifest(CHAIN), principal=system_principal())
    with db.session() as session:
        recorded = set(session.execute(select(AuditEvent.action, AuditEvent.subject_type)).all())
    assert {(a, EVENTS.get(a).subject) for a, _ in recorded} == recorded
    assert {a for a, _ in recorded} >= {
        "org.create", "model.create", "version.create", "derivation.create", "offer.create", "system.create"
    }  # fmt: skip


def test_the_events_reference_lists_every_declared_event() -> None:
    text = (docgen.DOCS / "events.md").read_text(encoding="utf-8")
    for event in EVENTS:
        assert f"| `{event.name}` | {event.subject} |" in text, (
            f"docs/events.md lacks {event.name}: run make docs"
        )
