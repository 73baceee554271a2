"""``valuechain reseller`` and ``valuechain whitelabel``: white-label agreements, offers and customers."""

from __future__ import annotations

from datetime import datetime

import typer

from valuechain.cli.context import AsOrgOption, Format, FormatOption, acting, database, emit, err, out
from valuechain.cli.render import say, table, when

app = typer.Typer(help="White-label reseller agreements (wholesale price, markup, brand rules, cap).",
                  no_args_is_help=True)  # fmt: skip
whitelabel_app = typer.Typer(help="White-label offers: resell a model under your brand and name.",
                             no_args_is_help=True)  # fmt: skip


@app.command("grant")
def grant(
    reseller: str = typer.Argument(..., help="The reseller organisation (slug)."),
    model: str = typer.Argument(..., help="Your model, <org>/<name>."),
    wholesale_input: int = typer.Option(..., "--wholesale-input", help="Per million input tokens (micro)."),
    wholesale_output: int = typer.Option(
        ..., "--wholesale-output", help="Per million output tokens (micro)."
    ),
    max_markup: int = typer.Option(..., "--max-markup", help="Largest markup in percent."),
    max_customers: int = typer.Option(..., "--max-customers", help="Cap on the reseller's customers."),
    forbid: list[str] = typer.Option([], "--forbid", help="A word the brand and name may not contain."),
    allow_upstream_name: bool = typer.Option(
        False, "--allow-upstream-name", help="May reuse your model's name."
    ),
    upstream_name: bool = typer.Option(
        False, "--upstream-name", help="Must resell under your name and your model's name (Art. 3(3))."
    ),
    expires: datetime = typer.Option(None, "--expires", help="End of the agreement (ISO 8601)."),
    as_org: str = typer.Option(..., "--as", help="Your organisation (slug), the model's owner."),
    fmt: Format = FormatOption,
) -> None:
    """Grant a reseller a white-label agreement for one of your models."""
    from valuechain.channels import views, whitelabel

    data = whitelabel.ResellerGrant(
        reseller=reseller,
        model=model,
        wholesale_input_per_mtok=wholesale_input,
        wholesale_output_per_mtok=wholesale_output,
        max_markup_pct=max_markup,
        max_customers=max_customers,
        brand_rules=whitelabel.BrandRules(
            forbidden_terms=forbid,
            may_use_upstream_name=allow_upstream_name or upstream_name,
            upstream_name_required=upstream_name,
        ),
        expires_at=expires.astimezone() if expires is not None else None,
    )
    with database() as db, db.unit_of_work() as session:
        record = views.reseller(whitelabel.grant_reseller(session, data, principal=acting(session, as_org)))
    emit(record, fmt, lambda r: say(err, f"agreement {r.agreement}: {r.reseller} may resell {r.model}"))


@app.command("list")
def list_resellers(as_org: str = AsOrgOption, fmt: Format = FormatOption) -> None:
    """Reseller agreements you gave or hold."""
    from valuechain.channels import views, whitelabel

    with database() as db, db.session() as session:
        rows = [
            views.reseller(r) for r in whitelabel.list_resellers(session, principal=acting(session, as_org))
        ]
    emit(rows, fmt, lambda items: out.print(table(
        ("agreement", "provider", "reseller", "model", "max markup %", "customers", "expires", "revoked"),
        [(r.agreement, r.provider, r.reseller, r.model, r.max_markup_pct, r.max_customers,
          when(r.expires_at), "yes" if r.revoked else "") for r in rows], ids=("agreement",))))  # fmt: skip


@whitelabel_app.command("create")
def create(
    agreement: str = typer.Argument(..., help="Your reseller agreement (agr_…)."),
    name: str = typer.Option(..., "--name", help="The model name your customers call."),
    brand: str = typer.Option(..., "--brand", help="The brand it is marketed under."),
    markup: int = typer.Option(..., "--markup", help="Markup over wholesale, in percent."),
    version: str = typer.Option(None, "--version", help="Upstream version label; default the latest."),
    as_org: str = typer.Option(..., "--as", help="Your organisation (slug), the reseller."),
    fmt: Format = FormatOption,
) -> None:
    """List the upstream model under your brand and name."""
    from valuechain.channels import views, whitelabel
    from valuechain.core.settings import Settings

    data = whitelabel.WhiteLabelCreate(agreement=agreement, model_name=name, brand=brand, markup_pct=markup,
                                       version=version)  # fmt: skip
    with database() as db, db.unit_of_work() as session:
        record = whitelabel.create_white_label(
            session, data, principal=acting(session, as_org), fee_bps=Settings().channels_fee_bps
        )
    emit(views.white_label(record), fmt, lambda w: say(err, f"offer {w.offer}: {w.model_name} by {w.brand}"))


@whitelabel_app.command("customer")
def customer(
    offer: str = typer.Argument(..., help="Your white-label offer (off_…)."),
    org: str = typer.Argument(..., help="The customer organisation (slug)."),
    issue_key: bool = typer.Option(False, "--issue-key", help="Also issue it an inference key (shown once)."),
    as_org: str = typer.Option(..., "--as", help="Your organisation (slug), the reseller."),
    fmt: Format = FormatOption,
) -> None:
    """Entitle a customer (within the agreement's cap), optionally issuing it a key."""
    from valuechain.channels import views, whitelabel

    with database() as db, db.unit_of_work() as session:
        record = whitelabel.add_customer(
            session, offer, org, principal=acting(session, as_org), issue_key=issue_key
        )
    public = views.customer(record)
    emit(
        public,
        fmt,
        lambda c: out.print(f"{c.customer} entitled" + (f"; key (shown once): {c.key}" if c.key else "")),
    )


@whitelabel_app.command("brand")
def brand(
    host: str = typer.Argument(..., help="Your host name (lower case)."),
    display_name: str = typer.Argument(..., help="The name visitors of that host see."),
    accent: str = typer.Option("#1f6feb", "--accent", help="Accent colour, #rrggbb."),
    as_org: str = typer.Option(..., "--as", help="Your organisation (slug)."),
    fmt: Format = FormatOption,
) -> None:
    """Brand the console for visitors of your host name."""
    from valuechain.channels import brands, views

    data = brands.BrandSet(host=host, display_name=display_name, accent=accent)
    with database() as db, db.unit_of_work() as session:
        record = views.brand(brands.set_brand(session, data, principal=acting(session, as_org)))
    emit(record, fmt, lambda b: say(err, f"{b.host} shows {b.display_name}"))
