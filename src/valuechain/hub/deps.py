"""Dependencies of the hub app: the platform's database, the blob store and the (optional) caller."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from valuechain.accounts.principal import Principal
from valuechain.accounts.service import authenticate
from valuechain.accounts.tokens import parse_bearer
from valuechain.core.db import Database
from valuechain.core.errors import AuthenticationError
from valuechain.core.openapi import DocumentedKey
from valuechain.core.settings import Settings
from valuechain.hub.errors import HubError
from valuechain.hub.storage import BlobStore, open_blob_store

HUB_PREFIX = "/hub"

# The client maps a 401 with exactly this message to "invalid token" rather than "repo not found".
INVALID_TOKEN = "Invalid credentials in Authorization header"


class InvalidTokenError(HubError):
    status_code = 401
    code = "unauthenticated"


def hub_url(request: Request) -> str:
    """The hub's base URL as the client reached it (``.../hub``), for URLs we hand back."""
    base = str(request.base_url).rstrip("/")
    return base if base.endswith(HUB_PREFIX) else base + HUB_PREFIX


def get_settings(request: Request) -> Settings:
    return request.app.state.root.settings  # type: ignore[no-any-return]


def get_db(request: Request) -> Database:
    return request.app.state.root.db  # type: ignore[no-any-return]


def get_store(request: Request) -> BlobStore:
    """The platform's blob store (opened in its lifespan; on first use by an app run without one)."""
    root = request.app.state.root
    if getattr(root, "blob_store", None) is None:
        root.blob_store = open_blob_store(get_settings(request))
    return root.blob_store  # type: ignore[no-any-return]


def optional_principal(
    request: Request,
    db: Annotated[Database, Depends(get_db)],
    _documented: DocumentedKey,  # OpenAPI only: the Authorize button
) -> Principal | None:
    """Anonymous callers are allowed on the hub; a token that is sent must be valid."""
    header = request.headers.get("authorization")
    if not header:
        return None
    secret = parse_bearer(header)
    if secret is None:
        raise InvalidTokenError(INVALID_TOKEN)
    try:
        with db.session() as session:
            return authenticate(session, secret)
    except AuthenticationError as exc:
        raise InvalidTokenError(INVALID_TOKEN) from exc


def required_principal(principal: Annotated[Principal | None, Depends(optional_principal)]) -> Principal:
    if principal is None:
        raise InvalidTokenError(
            "this call needs a valuechain API key as the token (Authorization: Bearer ...)"
        )
    return principal


SettingsDep = Annotated[Settings, Depends(get_settings)]
DbDep = Annotated[Database, Depends(get_db)]
StoreDep = Annotated[BlobStore, Depends(get_store)]
MaybePrincipal = Annotated[Principal | None, Depends(optional_principal)]
CurrentPrincipal = Annotated[Principal, Depends(required_principal)]
