"""``valuechain system``: AI systems that integrate model versions for an intended purpose."""

from __future__ import annotations

from datetime import date
from typing import Any

import typer

from valuechain.cli.context import AsOrgOption, Format, FormatOption, acting, database, emit, err, out
from valuechain.cli.render import plural, say, table, when
from valuechain.core.errors import ValidationError
from valuechain.registry import service, views
from valuechain.registry.manifest import AnnexIII, SyntheticOutput
from valuechain.registry.schemas import SystemCreate, SystemPublic, SystemUpdate

app = typer.Typer(help="AI systems built on models, and who deploys them.", no_args_is_help=True)
SystemArg = typer.Argument(..., help="<org>/<name>")
DeployerOption = typer.Option(None, "--deployer", help="A deploying organisation (slug, repeatable).")
ModelOption = typer.Option(None, "--model", help="An integrated model, <org>/<name>[@version] (repeatable).")
PurposeOption = typer.Option(None, "--purpose", help="The intended purpose.")
PersonsOption = typer.Option(None, "--interacts-with-persons/--no-interacts-with-persons")
SyntheticOption = typer.Option(None, "--synthetic-output", help="Kind of synthetic output (repeatable).")
DeepFakeOption = typer.Option(None, "--deep-fake/--no-deep-fake")
PublicTextOption = typer.Option(None, "--public-interest-text/--no-public-interest-text")
AnnexOption = typer.Option(None, "--annex-iii", help="An Annex III high-risk area (repeatable).")
EuMarketOption = typer.Option(None, "--eu-market", help="Date placed on the EU market (YYYY-MM-DD).")


def _table(systems: list[SystemPublic]) -> None:
    rows = [(s.id, s.provider, " ".join(s.deployers), " ".join(s.models), s.intended_purpose,
             " ".join(a.value for a in s.annex_iii), when(s.created_at)) for s in systems]  # fmt: skip
    columns = ("id", "provider", "deployers", "models", "purpose", "Annex III", "created")
    out.print(table(columns, rows, ids=("id",)))
    say(err, plural(len(systems), "system"))


def _fields(**values: Any) -> dict[str, Any]:
    """The options given (None means not given; empty repeatable options too, unless clearing)."""
    fields = {k: v for k, v in values.items() if v is not None and v != []}
    if "eu_market" in fields:
        try:
            fields["eu_market"] = date.fromisoformat(fields["eu_market"])
        except ValueError:
            raise ValidationError(
                f"--eu-market: `{fields['eu_market']}` is not a date (YYYY-MM-DD)"
            ) from None
    return fields


@app.command("create")
def create(
    name: str = typer.Argument(..., help="System name; the id becomes <org>/<name>."),
    deployer: list[str] = DeployerOption,
    model: list[str] = ModelOption,
    purpose: str = PurposeOption,
    interacts_with_persons: bool = PersonsOption,
    synthetic_output: list[SyntheticOutput] = SyntheticOption,
    deep_fake: bool = DeepFakeOption,
    public_interest_text: bool = PublicTextOption,
    annex_iii: list[AnnexIII] = AnnexOption,
    eu_market: str = EuMarketOption,
    as_org: str = typer.Option(..., "--as", help="The providing organisation (slug)."),
    fmt: Format = FormatOption,
) -> None:
    """Register a system provided by an organisation."""
    fields = _fields(
        deployers=deployer, models=model, intended_purpose=purpose,
        interacts_with_persons=interacts_with_persons, synthetic_output=synthetic_output, deep_fake=deep_fake,
        public_interest_text=public_interest_text, annex_iii=annex_iii, eu_market=eu_market,
    )  # fmt: skip
    data = SystemCreate(name=name, **fields)
    with database() as db, db.unit_of_work() as session:
        system = service.create_system(session, data, principal=acting(session, as_org))
        public = views.system_public(session, system, views.Names(session))
    emit(public, fmt, lambda s: say(err, f"created system {s.id}"))


@app.command("list")
def list_(as_org: str = AsOrgOption, fmt: Format = FormatOption) -> None:
    """List systems."""
    with database() as db, db.session() as session:
        names = views.Names(session)
        rows = service.list_systems(session, principal=acting(session, as_org))
        systems = [views.system_public(session, s, names) for s in rows]
    emit(systems, fmt, _table)


@app.command("show")
def show(system_id: str = SystemArg, as_org: str = AsOrgOption, fmt: Format = FormatOption) -> None:
    """Show one system."""
    with database() as db, db.session() as session:
        system = service.get_system(session, system_id, principal=acting(session, as_org))
        public = views.system_public(session, system, views.Names(session))
    emit(public, fmt, lambda s: _table([s]))


@app.command("update")
def update(
    system_id: str = SystemArg,
    deployer: list[str] = DeployerOption,
    model: list[str] = ModelOption,
    purpose: str = PurposeOption,
    interacts_with_persons: bool = PersonsOption,
    synthetic_output: list[SyntheticOutput] = SyntheticOption,
    deep_fake: bool = DeepFakeOption,
    public_interest_text: bool = PublicTextOption,
    annex_iii: list[AnnexIII] = AnnexOption,
    eu_market: str = EuMarketOption,
    as_org: str = AsOrgOption,
    fmt: Format = FormatOption,
) -> None:
    """Change a system; --deployer, --model, --synthetic-output and --annex-iii replace those lists."""
    fields = _fields(
        deployers=deployer, models=model, intended_purpose=purpose,
        interacts_with_persons=interacts_with_persons, synthetic_output=synthetic_output, deep_fake=deep_fake,
        public_interest_text=public_interest_text, annex_iii=annex_iii, eu_market=eu_market,
    )  # fmt: skip
    data = SystemUpdate.model_validate(fields)
    with database() as db, db.unit_of_work() as session:
        system = service.update_system(session, system_id, data, principal=acting(session, as_org))
        public = views.system_public(session, system, views.Names(session))
    emit(public, fmt, lambda s: say(err, f"updated system {s.id}: {', '.join(sorted(fields)) or 'nothing'}"))
