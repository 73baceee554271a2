"""``valuechain user create``: a console user whose password is read from stdin and stored only hashed."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from tests.cli.conftest import run
from valuechain.accounts import sessions
from valuechain.accounts.models import User
from valuechain.core.db import Database
from valuechain.core.settings import Settings


def test_user_create_reads_the_password_from_stdin(runner: CliRunner, tmp_path: Path) -> None:
    run(runner, "org", "create", "acme", "--name", "Acme", "--country", "FR")
    run(runner, "user", "create", "Alice@Example.com", "--org", "acme", "--role", "admin", "--password-stdin",
        input="a long enough password\n")  # fmt: skip
    run(
        runner,
        "user",
        "create",
        "bob@example.com",
        "--org",
        "acme",
        "--password-stdin",
        input="short\n",
        code=1,
    )
    db = Database(Settings(home=tmp_path / "home", _env_file=None).resolved_database_url)  # type: ignore[call-arg]
    with db.session() as session:
        stored = session.scalar(select(User.password_hash).where(User.email == "alice@example.com"))
        assert stored is not None and stored.startswith("$argon2id$") and "a long enough" not in stored
    with db.unit_of_work() as session:
        session_id = sessions.sign_in(session, "alice@example.com", "a long enough password")
    with db.session() as session:
        found = sessions.resolve(session, session_id)
        assert (
            found is not None and found.principal.org_slug == "acme" and found.principal.role.value == "admin"
        )
    db.dispose()
