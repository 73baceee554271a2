"""``valuechain user``: console users (a password, read from stdin, stored only as its argon2id hash)."""

from __future__ import annotations

import sys

import typer

from valuechain.accounts.roles import Role
from valuechain.cli.context import database, err
from valuechain.cli.render import say

app = typer.Typer(help="Users of the web console.", no_args_is_help=True)


@app.command("create")
def create(
    email: str = typer.Argument(..., help="The user's e-mail address (the sign-in name)."),
    org: str = typer.Option(..., "--org", help="Organisation slug the user joins."),
    role: Role = typer.Option(Role.member, help="Role in that organisation."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from stdin (first line); required."
    ),
) -> None:
    """Create a console user (or set its password and role in one more organisation)."""
    from valuechain.accounts import sessions
    from valuechain.accounts.principal import system_principal

    if not password_stdin:
        raise typer.BadParameter(
            "pass the password on stdin with --password-stdin", param_hint="--password-stdin"
        )
    password = sys.stdin.readline().rstrip("\r\n")
    with database() as db, db.unit_of_work() as session:
        sessions.set_user(session, email, org, role=role, password=password, principal=system_principal())
    say(err, f"user {email.strip().lower()} may sign in to the console as {role.value} of {org}")
