"""FastAPI dependencies: settings, database sessions and the authenticated principal."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from valuechain.accounts.principal import Principal
from valuechain.accounts.service import authenticate, key_use_is_stale, touch_key
from valuechain.accounts.tokens import parse_bearer
from valuechain.api.docs import DocumentedKey
from valuechain.core.db import Database
from valuechain.core.errors import AuthenticationError
from valuechain.core.settings import Settings


def get_settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


def get_db(request: Request) -> Database:
    return request.app.state.db  # type: ignore[no-any-return]


def read_session(db: Annotated[Database, Depends(get_db)]) -> Iterator[Session]:
    with db.session() as session:
        yield session


def write_session(db: Annotated[Database, Depends(get_db)]) -> Iterator[Session]:
    """One unit of work per request: committed when the route returns, rolled back on error."""
    with db.unit_of_work() as session:
        yield session


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


SettingsDep = Annotated[Settings, Depends(get_settings)]
ReadSession = Annotated[Session, Depends(read_session)]
WriteSession = Annotated[Session, Depends(write_session)]
CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
