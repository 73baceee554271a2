"""What every CLI command needs: settings, a migrated database, output in human or JSON form."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import typer
from pydantic import BaseModel
from rich.console import Console
from rich.markup import escape

from valuechain.accounts.principal import Principal, system_principal
from valuechain.cli.render import clean, json_safe
from valuechain.core.errors import AppError, NotFoundError
from valuechain.core.settings import Settings

if TYPE_CHECKING:
    from valuechain.core.db import Database

# SQLAlchemy, the models and alembic load inside the functions that use them, so that a group's
# `--help` costs no more than Typer and Rich.

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


class Format(StrEnum):
    human = "human"
    json = "json"


FormatOption = typer.Option(Format.human, "--format", "-f", help="Output format: human or json.")
AsOrgOption = typer.Option(
    None, "--as", help="Act as this organisation (slug); default: the local operator, who sees everything."
)


@contextmanager
def database(settings: Settings | None = None) -> Iterator[Database]:
    """The configured database, migrated to head; audited writes are anchored when the command ends."""
    from valuechain.core import migrate
    from valuechain.core.anchor import Anchor, Checkpointer
    from valuechain.core.db import Database

    settings = settings or Settings()
    db = Database(settings.resolved_database_url)
    checkpointer = Checkpointer(db, Anchor.of_home(settings.home))
    try:
        migrate.upgrade(db)
        yield db
    finally:
        checkpointer.close()
        db.dispose()


def org_principal(session: Any, slug: str) -> Principal:
    """The local CLI acting as one organisation's owner: scoped to it, unlike the operator principal."""
    from valuechain.accounts.directory import org_id_for_slug

    org_id = org_id_for_slug(session, slug)
    if org_id is None:
        raise NotFoundError(f"organisation `{slug}` not found")
    operator = system_principal()
    return Principal(
        org_id=org_id,
        org_slug=slug,
        key_id=None,
        user_id=operator.user_id,
        role=operator.role,
        scopes=operator.scopes,
    )


def acting(session: Any, slug: str | None) -> Principal:
    """``--as ORG``: that organisation's owner; without it, the local operator."""
    return system_principal() if slug is None else org_principal(session, slug)


def emit(data: Any, fmt: Format, human: Callable[[Any], None] | None = None) -> None:
    """Data to stdout: JSON for machines, or the human renderer."""
    from valuechain.core.audit import jsonable

    if fmt is Format.json or human is None:
        if isinstance(data, BaseModel):
            data = data.model_dump(mode="json")
        elif isinstance(data, list) and data and isinstance(data[0], BaseModel):
            data = [d.model_dump(mode="json") for d in data]
        sys.stdout.write(json_safe(json.dumps(jsonable(data), indent=2, ensure_ascii=False)) + "\n")
    else:
        human(data)


def fail(exc: AppError) -> typer.Exit:
    """Print an expected error to stderr and return the exit to raise."""
    err.print(f"[red]error[/red]: {escape(clean(exc.message))}", markup=True, highlight=False)
    for detail in exc.details[:50]:
        where = detail.get("path") or ""
        line = f"line {detail['line']}: " if detail.get("line") else ""
        err.print(clean(f"  {line}{where}: {detail.get('message', '')}"), markup=False, highlight=False)
    return typer.Exit(code=1)
