"""The ``valuechain`` command: one sub-command module per noun, each a client of the services.

Sub-commands load lazily: ``valuechain --help`` imports no command module, and ``valuechain key …`` imports
only ``cli/keys.py`` (and the services it uses), so help stays fast whatever the commands need.
"""

from __future__ import annotations

import importlib
from typing import Any

import click
import pydantic
import typer
from typer.core import TyperCommand, TyperGroup

from valuechain.core.errors import AppError, ValidationError

# name → (module, attribute, one-line help). A group's attribute is its Typer app; a command's is its
# function. The help is what `valuechain --help` lists without importing the module (a test pins that it
# matches the command's own help).
COMMANDS: dict[str, tuple[str, str, str]] = {
    "serve": ("server", "serve", "Serve the platform over HTTP (migrates the database first)."),
    "init": ("server", "init", "Create the data directory and migrate the database to the current schema."),
    "worker": (
        "server",
        "worker",
        "Run a fine-tuning worker: claim queued jobs from the database and train them.",
    ),
    "demo": (
        "demo",
        "demo",
        "Seed the demo chain (idempotent; existing demo keys stay valid) and print how to call it.",
    ),
    "org": ("orgs", "app", "Organisations: the actors of the value chain."),
    "key": ("keys", "app", "API keys of an organisation."),
    "user": ("users", "app", "Users of the web console."),
    "model": ("models", "app", "Models in the registry."),
    "offer": ("offers", "app", "Offers: a model version released through a channel by an organisation."),
    "system": ("systems", "app", "AI systems built on models, and who deploys them."),
    "chain": ("chain", "app", "Chain manifests: a whole value chain as a YAML file."),
    "audit": ("audit", "app", "The append-only audit log."),
    "usage": (
        "usage",
        "app",
        "Usage of the release channels: API reports, downloads, ledger check, log retention.",
    ),
    "access": ("access", "app", "API offers: ask for access; provider terms, grants, backends, suspensions."),
    "obligations": (
        "obligations",
        "obligations",
        "Derive every actor's obligations from the chain, each with its citation, dates and reasons.",
    ),
    "whatif": (
        "obligations",
        "whatif_command",
        "Re-evaluate with changed facts (nothing is written) and print the difference in obligations.",
    ),
    "neutrality": (
        "obligations",
        "neutrality_command",
        "Show which duties of a model are identical whatever the channel, and which differ and why.",
    ),
    "docs": (
        "obligations",
        "docs",
        "Generate the Annex XI, Annex XII or training-content summary document, listing unfilled fields.",
    ),
    "bom": ("obligations", "bom", "Export the model's lineage as a CycloneDX 1.6 ML-BOM (JSON)."),
    "hub": ("hub", "app", "The Hugging Face-compatible hub: push, pull, release, gated access."),
    "login": (
        "login",
        "login",
        "Store an API key for a server (read from stdin or a hidden prompt; checked against the server).",
    ),
    "logout": ("login", "logout", "Forget the stored key of a server (default: the current one)."),
    "whoami": (
        "login",
        "whoami",
        "Show the server, organisation, role and scopes of the key the CLI would use.",
    ),
    "claim": (
        "claims",
        "claim_app",
        "Claims naming another organisation; the named one confirms or rejects.",
    ),
    "agreement": ("claims", "agreement_app", "Agreements letting another organisation offer your models."),
    "kit": (
        "kit",
        "kit",
        "Write a starter kit (openai client app, README, a test) for an API offer, as a zip.",
    ),
    "lifecycle": (
        "lifecycle",
        "app",
        "Model version lifecycle: preview → active → legacy → deprecated → retired.",
    ),
    "support": (
        "lifecycle",
        "support_app",
        "Maintenance: support terms of API offers and the service levels measured.",
    ),
    "notification": ("notify", "app", "Notifications: deprecations and retirements of models you use."),
    "webhook": ("notify", "webhook_app", "Webhooks that receive your notifications, signed."),
    "reseller": (
        "resell",
        "app",
        "White-label reseller agreements (wholesale price, markup, brand rules, cap).",
    ),
    "whitelabel": (
        "resell",
        "whitelabel_app",
        "White-label offers: resell a model under your brand and name.",
    ),
    "finetune": (
        "finetune",
        "app",
        "Fine-tuning jobs: a customer's model trained on the provider's machines.",
    ),
    "credits": (
        "market",
        "credits_app",
        "Credits: the operator grants them; an organisation reads its balance.",
    ),
    "market": (
        "market",
        "app",
        "The marketplace: listings, purchases, hires, licences and traceable copies.",
    ),
    "trace": (
        "market",
        "trace",
        "Name the licence, buyer and offer a weights file was sold under (seller or operator).",
    ),
    "invoice": (
        "market",
        "invoice",
        "Issue (first time) or reissue an invoice: numbered per seller, immutable once issued.",
    ),
    "evidence": (
        "accountability",
        "evidence_app",
        "Evidence that meets obligations: sign-offs, evaluations, notifications.",
    ),
    "eval": (
        "accountability",
        "eval_app",
        "Evaluation runs over a model's channels (API, open weights): evidence.",
    ),
    "incident": (
        "accountability",
        "incident_app",
        "Serious incidents: register, report, reminders, export for the authority.",
    ),
    "complaint": (
        "accountability",
        "complaint_app",
        "Complaints of affected persons routed to your organisation; answer them.",
    ),
}


def _root() -> None:
    """Keep the value chain of general-purpose AI accountable."""


def load_command(name: str) -> click.Command:
    """Import the module behind ``name`` and build its Click command, as if registered on the root."""
    module_name, attribute, _ = COMMANDS[name]
    target = getattr(importlib.import_module(f"valuechain.cli.{module_name}"), attribute)
    holder = typer.Typer(add_completion=False)
    holder.callback()(_root)
    if isinstance(target, typer.Typer):
        holder.add_typer(target, name=name)
    else:
        holder.command(name)(target)
    group: Any = typer.main.get_command(holder)
    return group.commands[name]  # type: ignore[no-any-return]


class _Root(TyperGroup):
    """Loads sub-commands on first use; expected errors become a message on stderr and exit code 1."""

    _listing = False

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        if cmd_name not in self.commands:
            if self._listing:  # the root's help lists names and help lines: import nothing for that
                return TyperCommand(cmd_name, help=COMMANDS[cmd_name][2])
            self.commands[cmd_name] = load_command(cmd_name)
        return self.commands[cmd_name]

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except AppError as exc:
            from valuechain.cli.context import fail

            raise fail(exc) from None
        except pydantic.ValidationError as exc:
            from valuechain.cli.context import fail

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

app.callback()(_root)


def main() -> None:
    """Console entry point."""
    app()
