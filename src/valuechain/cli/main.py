"""The ``valuechain`` command: one sub-command module per noun, each a client of the services."""

from __future__ import annotations

import typer

from valuechain.cli import audit, chain, demo, keys, models, orgs, server, usage
from valuechain.core.errors import AppError

app = typer.Typer(
    name="valuechain",
    help="Keep the value chain of general-purpose AI accountable.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
server.register(app)
demo.register(app)
app.add_typer(orgs.app, name="org")
app.add_typer(keys.app, name="key")
app.add_typer(models.app, name="model")
app.add_typer(chain.app, name="chain")
app.add_typer(audit.app, name="audit")
usage.register(app)


def main() -> None:
    """Console entry point; expected errors become a message on stderr and exit code 1."""
    from valuechain.cli.context import fail

    try:
        app()
    except AppError as exc:
        raise SystemExit(fail(exc).exit_code) from None
