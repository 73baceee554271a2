"""Typed records of oversight passed between the gateway and the oversight service (misuse matches)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Subject:
    """Who sent a request and whose offer serves it, as the misuse rules see them."""

    org_id: str
    key_id: str | None
    provider_org_id: str


@dataclass(frozen=True, slots=True)
class MisuseEventRecord:
    """A rule matched a request: the row of ``oversight_events`` and what to do about it."""

    id: str
    created_at: datetime
    provider_org_id: str
    rule_id: str
    rule_name: str
    org_id: str
    key_id: str | None
    request_id: str | None
    action: str
    scope: str
    throttle_rpm: int | None
    match: str

    def row(self) -> dict[str, Any]:
        """The ``oversight_events`` row."""
        return {
            "id": self.id,
            "created_at": self.created_at,
            "provider_org_id": self.provider_org_id,
            "rule_id": self.rule_id,
            "org_id": self.org_id,
            "key_id": self.key_id,
            "request_id": self.request_id,
            "action": self.action,
            "detail": {
                "rule": self.rule_name,
                "scope": self.scope,
                "throttle_rpm": self.throttle_rpm,
                "match": self.match,
            },
        }
