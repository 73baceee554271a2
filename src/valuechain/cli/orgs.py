"""``valuechain org``: organisations (the actors of the value chain) and their members."""

from __future__ import annotations

from typing import Any

import typer
from rich.table import Table

from valuechain.accounts import service
from valuechain.accounts.principal import system_principal
from valuechain.accounts.roles import Role
from valuechain.accounts.schemas import MemberCreate, OrgCreate, OrgPublic
from valuechain.cli.context import Format, FormatOption, database, emit, out

app = typer.Typer(help="Organisations: the actors of the value chain.", no_args_is_help=True)


def _table(orgs: list[OrgPublic]) -> None:
    table = Table("slug", "name", "country", "SME", "micro")
    for o in orgs:
        table.add_row(
            o.slug, o.name, o.country, "yes" if o.is_sme else "", "yes" if o.is_microenterprise else ""
        )
    out.print(table)


@app.command("create")
def create(
    slug: str,
    name: str = typer.Option(..., help="Legal name."),
    country: str = typer.Option(..., help="ISO 3166-1 alpha-2 country of establishment."),
    sme: bool = typer.Option(False, help="Small or medium-sized enterprise."),
    microenterprise: bool = typer.Option(False, help="Microenterprise (implies --sme)."),
    fmt: Format = FormatOption,
) -> None:
    """Create an organisation."""
    data = OrgCreate(
        slug=slug,
        name=name,
        country=country,
        is_sme=sme or microenterprise,
        is_microenterprise=microenterprise,
    )
    with database() as db, db.unit_of_work() as session:
        org = OrgPublic.model_validate(service.create_org(session, data, principal=system_principal()))
    emit(org, fmt, lambda o: _table([o]))


@app.command("list")
def list_(fmt: Format = FormatOption) -> None:
    """List organisations."""
    with database() as db, db.session() as session:
        orgs = [OrgPublic.model_validate(o) for o in service.list_orgs(session, principal=system_principal())]
    emit(orgs, fmt, _table)


@app.command("show")
def show(slug: str, fmt: Format = FormatOption) -> None:
    """Show one organisation."""
    with database() as db, db.session() as session:
        org = OrgPublic.model_validate(service.get_org(session, slug, principal=system_principal()))
    emit(org, fmt, lambda o: _table([o]))


@app.command("add-member")
def add_member(
    slug: str,
    email: str = typer.Option(..., help="The user's e-mail (created on first use)."),
    role: Role = typer.Option(Role.member, help="owner, admin, member or viewer."),
    fmt: Format = FormatOption,
) -> None:
    """Add a user to an organisation with a role."""
    with database() as db, db.unit_of_work() as session:
        member = service.add_member(
            session, slug, MemberCreate(email=email, role=role), principal=system_principal()
        )
        result: dict[str, Any] = {
            "org": slug,
            "user_id": member.user_id,
            "email": member.email,
            "role": role.value,
        }
    emit(result, fmt, lambda r: out.print(f"{r['email']} is now {r['role']} of {r['org']}"))
