"""The authenticated principal as a FastAPI dependency: the bearer key, checked once per request."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from valuechain.accounts.principal import Principal
from valuechain.accounts.service import authenticate, key_use_is_stale, touch_key
from valuechain.accounts.tokens import parse_bearer
from valuechain.core.db import Database
from valuechain.core.errors import AuthenticationError
from valuechain.core.http import get_db
from valuechain.core.openapi import DocumentedKey


def bearer_secret(request: Request) -> str:
    secret = parse_bearer(request.headers.get("authorization"))
    if secret is None:
        raise AuthenticationError("missing API key: send `Authorization: Bearer <key>`")
    return secret


def current_principal(
    request: Request,
    db: Annotated[Database, Depends(get_db)],
    _documented: DocumentedKey,  # OpenAPI only: marks the route as keyed
) -> Principal:
    secret = bearer_secret(request)
    with db.session() as session:
        principal = authenticate(session, secret)
        stale = principal.key_id is not None and key_use_is_stale(session, principal.key_id)
    if stale:
        with db.unit_of_work() as session:
            touch_key(session, principal.key_id)  # type: ignore[arg-type]
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
