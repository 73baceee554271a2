"""Pydantic I/O of the accounts API."""

from __future__ import annotations

from datetime import datetime

from pydantic import AliasChoices, BaseModel, ConfigDict, EmailStr, Field, field_validator

from valuechain.accounts.roles import Role, Scope
from valuechain.core.ids import SLUG
from valuechain.core.schema import InputModel

COUNTRY = r"^[A-Z]{2}$"


class _In(InputModel):
    model_config = ConfigDict(extra="forbid")


class OrgCreate(_In):
    slug: str = Field(pattern=SLUG, description="Actor id, used in manifests and URLs.")
    name: str = Field(min_length=1, max_length=200)
    country: str = Field(pattern=COUNTRY, description="ISO 3166-1 alpha-2 country of establishment.")
    is_sme: bool = False
    is_microenterprise: bool = False


class OrgUpdate(_In):
    """Fields to change; omitted fields stay as they are (null is not a value for any of them)."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    country: str | None = Field(default=None, pattern=COUNTRY)
    is_sme: bool | None = None
    is_microenterprise: bool | None = None

    @field_validator("*")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("cannot be null; omit the field to leave it unchanged")
        return value


class OrgPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    slug: str
    name: str
    country: str
    is_sme: bool
    is_microenterprise: bool
    created_at: datetime


class MemberCreate(_In):
    email: EmailStr
    name: str = Field(default="", max_length=200)
    role: Role = Role.member


class MemberPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    user_id: str
    email: str
    name: str
    role: Role


class MePublic(BaseModel):
    """The caller: its organisation and what its key may do."""

    org: str
    key_id: str | None
    role: Role
    scopes: list[Scope]
    is_operator: bool


class KeyCreate(_In):
    name: str = Field(min_length=1, max_length=200)
    role: Role = Field(default=Role.member, description="Role the key acts with; at most the creator's.")
    scopes: list[Scope] | None = Field(default=None, description="Narrow the role's scopes; default all.")
    expires_at: datetime | None = Field(default=None, description="Expiry (aware datetime); none = never.")


class KeyPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    org_id: str
    name: str
    prefix: str = Field(description="Visible part of the secret, to recognise a key.")
    role: Role
    scopes: list[Scope]
    offers: list[str] | None = Field(
        default=None,
        validation_alias=AliasChoices("offer_ids", "offers"),
        description="The only offers this key may call on /v1, and it may do nothing else (a key a "
        "white-label reseller issued to its customer); null: no such restriction.",
    )
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


class KeyCreated(KeyPublic):
    key: str = Field(description="The secret. Shown once; only its hash is stored.")
