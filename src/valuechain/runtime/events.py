"""Audit event types of the runtime: binding a model version to an inference backend."""

from __future__ import annotations

from valuechain.core.events import EventType, Payload, declare


class BindPayload(Payload):
    kind: str
    config: dict[str, object]


# The subject kind is ``model_version`` where the registry says ``version`` (reported in issue 9).
backend_bind = EventType(
    "backend.bind", "model_version", "A model version was bound to an inference backend.", BindPayload
)

declare("runtime", backend_bind)
