"""Request and response bodies of oversight's REST routes."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from valuechain.core.schema import InputModel


class SuspensionCreate(InputModel):
    subject_type: Literal["key", "org"]
    subject_id: str = Field(description="Key id or prefix; org id or slug.")
    reason: str = Field(min_length=1, max_length=2000)
    kind: Literal["suspend", "throttle"] = "suspend"
    throttle_rpm: int | None = Field(default=None, ge=1)


class SuspensionPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    subject_type: str
    subject_id: str
    kind: str


class Reinstatement(InputModel):
    subject_type: Literal["key", "org"]
    subject_id: str
    reason: str = Field(min_length=1, max_length=2000)


class Reinstated(BaseModel):
    lifted: list[str] = Field(description="Ids of the suspensions lifted.")


class RuleCreate(InputModel):
    name: str = Field(max_length=200)
    kind: Literal["pattern", "rate"]
    action: Literal["flag", "throttle", "suspend"]
    scope: Literal["key", "org"] = "key"
    target: Literal["prompt", "output", "both"] = "prompt"
    pattern: str | None = Field(default=None, max_length=2000)
    threshold_rpm: int | None = Field(default=None, ge=1)
    throttle_rpm: int | None = Field(default=None, ge=1)


class RulePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str


class MisuseEventPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    created_at: datetime
    rule: str | None = Field(validation_alias="rule_id")
    org: str = Field(validation_alias="org_id")
    key: str | None = Field(validation_alias="key_id")
    action: str
    detail: dict[str, Any]
