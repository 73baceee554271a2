"""The ``valuechain`` command: one sub-command module per noun, each a client of the services."""

from __future__ import annotations

from typing import Any

import click
import pydantic
import typer
from typer.core import TyperGroup

from valuechain.cli import access, audit, chain, demo, hub, keys, models, obligations, orgs, server, usage
from valuechain.cli.claims import agreement_app, claim_app
from valuechain.cli.context import fail
from valuechain.core.errors import AppError, ValidationError


class _Root(TyperGroup):
    """Expected errors from any sub-command become a message on stderr and exit code 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except AppError as exc:
            raise fail(exc) from None
        except pydantic.ValidationError as exc:
            details = [{"path": ".".join(map(str, e["loc"])), "message": e["msg"]} for e in exc.errors()]
            raise fail(ValidationError("invalid input", details=details)) from None


app = typer.Typer(
    name="valuechain",
    help="Keep the value chain of general-purpose AI accountable.",
    cls=_Root,
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
access.register(app)
obligations.register(app)
hub.register(app)
app.add_typer(claim_app, name="claim")
app.add_typer(agreement_app, name="agreement")


def main() -> None:
    """Console entry point."""
    app()
