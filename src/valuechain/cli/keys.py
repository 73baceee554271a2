"""``valuechain key``: API keys (the secret is printed once and only its hash is stored)."""

from __future__ import annotations

from datetime import datetime

import typer
from rich.table import Table

from valuechain.accounts import service
from valuechain.accounts.principal import system_principal
from valuechain.accounts.roles import Role, Scope
from valuechain.accounts.schemas import KeyCreate, KeyCreated, KeyPublic
from valuechain.cli.context import Format, FormatOption, database, emit, err, out

app = typer.Typer(help="API keys of an organisation.", no_args_is_help=True)


def _table(keys: list[KeyPublic]) -> None:
    table = Table("id", "name", "prefix", "role", "scopes", "expires", "revoked", "last used")
    for k in keys:
        table.add_row(
            k.id, k.name, k.prefix, k.role.value, ",".join(s.value for s in k.scopes),
            str(k.expires_at or ""), str(k.revoked_at or ""), str(k.last_used_at or ""),
        )  # fmt: skip
    out.print(table)


@app.command("create")
def create(
    org: str = typer.Option(..., "--org", help="Organisation slug."),
    name: str = typer.Option("cli", help="A name to recognise the key by."),
    role: Role = typer.Option(Role.admin, help="Role the key acts with."),
    scope: list[Scope] = typer.Option(None, "--scope", help="Limit to these scopes (repeatable)."),
    expires_at: datetime = typer.Option(None, help="Expiry, ISO 8601 with time zone."),
    operator: bool = typer.Option(False, help="A platform-operator key (all organisations)."),
    fmt: Format = FormatOption,
) -> None:
    """Create a key and print its secret once."""
    data = KeyCreate(name=name, role=role, scopes=scope or None, expires_at=expires_at)
    with database() as db, db.unit_of_work() as session:
        key, secret = service.create_key(
            session, org, data, principal=system_principal(), is_operator=operator
        )
        created = KeyCreated(**KeyPublic.model_validate(key).model_dump(), key=secret)

    def human(k: KeyCreated) -> None:
        err.print(f"created key {k.id} ({k.role.value}) for {org}; the secret is shown only now:")
        out.print(k.key, markup=False, highlight=False)

    emit(created, fmt, human)


@app.command("list")
def list_(org: str = typer.Option(..., "--org"), fmt: Format = FormatOption) -> None:
    """List an organisation's keys (prefixes only, never secrets)."""
    with database() as db, db.session() as session:
        keys = [
            KeyPublic.model_validate(k) for k in service.list_keys(session, org, principal=system_principal())
        ]
    emit(keys, fmt, _table)


@app.command("revoke")
def revoke(
    key_id: str,
    org: str = typer.Option(..., "--org"),
    reason: str = typer.Option(None, help="Why; kept in the audit log."),
    fmt: Format = FormatOption,
) -> None:
    """Revoke a key; requests with it fail from now on."""
    with database() as db, db.unit_of_work() as session:
        key = KeyPublic.model_validate(
            service.revoke_key(session, org, key_id, principal=system_principal(), reason=reason)
        )
    emit(key, fmt, lambda k: err.print(f"revoked {k.id} ({k.prefix})"))
