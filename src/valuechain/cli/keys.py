"""``valuechain key``: API keys (the secret is printed once and only its hash is stored)."""

from __future__ import annotations

from datetime import datetime

import typer

from valuechain.accounts import service
from valuechain.accounts.principal import system_principal
from valuechain.accounts.roles import ROLE_SCOPES, Role, Scope
from valuechain.accounts.schemas import KeyCreate, KeyCreated, KeyPublic
from valuechain.cli.context import Format, FormatOption, database, emit, err, out
from valuechain.cli.render import say, table, when

app = typer.Typer(help="API keys of an organisation.", no_args_is_help=True)


def _state(key: KeyPublic) -> str:
    if key.revoked_at is not None:
        return f"revoked {when(key.revoked_at)}"
    used = f"last used {when(key.last_used_at)}" if key.last_used_at else "never used"
    return f"expires {when(key.expires_at)}, {used}" if key.expires_at else f"active, {used}"


def _access(key: KeyPublic) -> str:
    """The role, and the scopes only where the key was narrowed below the role's."""
    only = f" (only {', '.join(key.offers)})" if key.offers is not None else ""
    if set(key.scopes) == ROLE_SCOPES[key.role]:
        return key.role.value + only
    return f"{key.role.value}: {' '.join(sorted(s.value for s in key.scopes))}{only}"


def _table(keys: list[KeyPublic]) -> None:
    rows = [(k.id, k.name, k.prefix, _access(k), _state(k)) for k in keys]
    out.print(table(("id", "name", "prefix", "access", "state"), rows, ids=("id", "prefix")))


@app.command("create")
def create(
    org: str = typer.Option(..., "--org", help="Organisation slug."),
    name: str = typer.Option("cli", help="A name to recognise the key by."),
    role: Role = typer.Option(
        Role.member, help="Role the key acts with; admin or owner only when asked (least privilege)."
    ),
    scope: list[Scope] = typer.Option(
        None, "--scope", help="Limit to these scopes (repeatable); default: the role's scopes."
    ),
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
        say(err, f"created {k.role.value} key {k.id} for {org}; the secret is shown only now:")
        say(out, k.key)

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
    emit(key, fmt, lambda k: say(err, f"revoked {k.id} ({k.prefix}) at {when(k.revoked_at)}"))
