"""Request and response bodies of the market's REST routes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from valuechain.core.schema import InputModel


class ApiTermsSet(InputModel):
    """The ``api`` terms now in force on an offer."""

    offer: str = Field(description="The offer's id.")
    api: dict[str, Any] = Field(description="The offer's API terms as stored (see ApiTerms).")


class EntitlementPublic(BaseModel):
    """An organisation's entitlement to an ``api`` offer."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    offer: str = Field(validation_alias="offer_id", description="The offer's id.")
    org: str = Field(validation_alias="org_id", description="The entitled organisation's id.")
    status: str = Field(description="pending, approved, rejected or revoked.")
    requested_at: datetime
