"""The registry of audit event types: every action written to the audit log is declared once, here.

Each domain declares its event types in its own ``events.py`` (as datasette's ``events.py`` declares
``LoginEvent`` and friends): a name (``<noun>.<verb>``), the kind of subject it is about and the schema of
its payload (the ``after`` snapshot, or ``before`` for deletions). :func:`valuechain.core.audit.record_event`
refuses an action that is not registered, or one recorded about another kind of subject, so every writer is
checked in one place and one act has one name.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, TypeAdapter
from pydantic import ValidationError as PydanticValidationError

PACKAGE_ROOT = Path(__file__).resolve().parents[1]


def declaring_modules() -> list[str]:
    """The ``events`` modules of the domains, found on disk (core declares nothing, it only registers)."""
    return sorted(
        f"valuechain.{path.parent.name}.events"
        for path in PACKAGE_ROOT.glob("*/events.py")
        if path.parent.name != "core"
    )


class Payload(BaseModel):
    """Base of payload schemas: the fields every writer of the event records; more are kept as given."""

    model_config = ConfigDict(extra="allow")


@dataclass(frozen=True, slots=True)
class EventType:
    """One kind of audit event: its action name, what it is about, and what its payload holds."""

    name: str
    subject: str
    description: str
    payload: type[Payload] | None = None
    domain: str = field(default="", compare=False)

    def check_payload(self, payload: Any, *, types: bool = True) -> None:
        """Raise ``EventError`` unless ``payload`` fits this type's schema (None fits every schema).

        ``types=False`` checks only that the schema's fields are present: bulk writers (a chain import
        appends hundreds of thousands of events) pay ~1 µs an event instead of a full validation.
        """
        if self.payload is None or payload is None:
            return
        if not types:
            missing = _required(self.payload) - payload.keys() if isinstance(payload, dict) else {"(object)"}
            if missing:
                raise EventError(f"audit event `{self.name}`: payload lacks {', '.join(sorted(missing))}")
            return
        try:
            _adapter(self.payload).validate_python(payload)
        except PydanticValidationError as exc:
            first = exc.errors(include_url=False)[0]
            where = ".".join(str(p) for p in first["loc"])
            raise EventError(f"audit event `{self.name}`: payload {where}: {first['msg']}") from None


class EventError(Exception):
    """A writer tried to record an event that is not declared, or not as declared: a bug, never input."""


_adapters: dict[type[Payload], TypeAdapter[Any]] = {}
_required_fields: dict[type[Payload], frozenset[str]] = {}


def _required(schema: type[Payload]) -> frozenset[str]:
    if schema not in _required_fields:
        _required_fields[schema] = frozenset(n for n, f in schema.model_fields.items() if f.is_required())
    return _required_fields[schema]


def _adapter(schema: type[Payload]) -> TypeAdapter[Any]:
    if schema not in _adapters:
        _adapters[schema] = TypeAdapter(schema)
    return _adapters[schema]


class EventRegistry:
    """All declared event types by name; filled from the domains' ``events`` modules on first use."""

    def __init__(self) -> None:
        self._types: dict[str, EventType] = {}
        self._loaded = False

    def declare(self, domain: str, *types: EventType) -> None:
        """Register a domain's event types; a name may be declared only once."""
        for event_type in types:
            known = self._types.get(event_type.name)
            if known is not None and known.domain != domain:
                raise EventError(
                    f"audit event `{event_type.name}` is declared by {known.domain} and {domain}"
                )
            object.__setattr__(event_type, "domain", domain)
            self._types[event_type.name] = event_type

    def load(self) -> None:
        """Import every declaring domain's ``events`` module once (they call :meth:`declare`)."""
        if self._loaded:
            return
        self._loaded = True
        for module in declaring_modules():
            importlib.import_module(module)

    def get(self, name: str) -> EventType:
        self.load()
        try:
            return self._types[name]
        except KeyError:
            raise EventError(f"audit event `{name}` is not declared in any domain's events.py") from None

    def check(self, name: str, subject_type: str, payload: Any = None, *, types: bool = True) -> EventType:
        """The declared type of ``name``; raises ``EventError`` if the subject kind or payload differs."""
        event_type = self.get(name)
        if subject_type != event_type.subject:
            raise EventError(f"audit event `{name}` is about a {event_type.subject}, not a {subject_type}")
        event_type.check_payload(payload, types=types)
        return event_type

    def __iter__(self) -> Iterator[EventType]:
        self.load()
        return iter(sorted(self._types.values(), key=lambda t: (t.domain, t.name)))

    def __contains__(self, name: object) -> bool:
        self.load()
        return name in self._types


EVENTS = EventRegistry()


def declare(domain: str, *types: EventType) -> tuple[EventType, ...]:
    """Declare ``types`` as ``domain``'s event types (called once by each domain's ``events`` module)."""
    EVENTS.declare(domain, *types)
    return types
