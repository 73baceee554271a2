"""``valuechain offer``: releases of a model version through a channel (api, open weights, …)."""

from __future__ import annotations

import typer

from valuechain.cli.context import AsOrgOption, Format, FormatOption, acting, database, emit, err, out
from valuechain.cli.render import plural, say, table, when
from valuechain.registry import service, views
from valuechain.registry.manifest import Channel
from valuechain.registry.schemas import OfferCreate, OfferPublic, OfferUpdate

app = typer.Typer(
    help="Offers: a model version released through a channel by an organisation.", no_args_is_help=True
)
OfferArg = typer.Argument(..., help="The offer id (off_…).")


def _table(offers: list[OfferPublic]) -> None:
    rows = [(o.id, o.model, o.by, o.channel.value, o.brand, "yes" if o.eu else "no", when(o.created_at))
            for o in offers]  # fmt: skip
    out.print(table(("id", "model", "by", "channel", "brand", "EU", "created"), rows, ids=("id", "model")))
    say(err, plural(len(offers), "offer"))


@app.command("create")
def create(
    model: str = typer.Argument(..., help="<org>/<name>[@version]; default the latest version."),
    channel: Channel = typer.Option(..., "--channel", help="How the model is released."),
    brand: str = typer.Option(None, help="Name it is offered under; default the organisation's slug."),
    eu: bool = typer.Option(True, "--eu/--no-eu", help="Offered in the EU."),
    as_org: str = typer.Option(..., "--as", help="The organisation releasing it (slug)."),
    fmt: Format = FormatOption,
) -> None:
    """Release a model version through a channel."""
    data = OfferCreate(model=model, channel=channel, brand=brand, eu=eu)
    with database() as db, db.unit_of_work() as session:
        offer = service.create_offer(session, data, principal=acting(session, as_org))
        public = views.offer_public(offer, views.Names(session))
    emit(public, fmt, lambda o: say(err, f"created offer {o.id}: {o.model} via {o.channel.value} by {o.by}"))


@app.command("list")
def list_(
    channel: Channel = typer.Option(None, "--channel", help="Only this channel."),
    as_org: str = AsOrgOption,
    fmt: Format = FormatOption,
) -> None:
    """List offers, oldest first."""
    with database() as db, db.session() as session:
        names = views.Names(session)
        rows = service.list_offers(
            session, principal=acting(session, as_org), channel=channel.value if channel else None
        )
        names.prefetch_orgs(o.by_org_id for o in rows)
        offers = [views.offer_public(o, names) for o in rows]
    emit(offers, fmt, _table)


@app.command("show")
def show(offer_id: str = OfferArg, as_org: str = AsOrgOption, fmt: Format = FormatOption) -> None:
    """Show one offer."""
    with database() as db, db.session() as session:
        offer = service.get_offer(session, offer_id, principal=acting(session, as_org))
        public = views.offer_public(offer, views.Names(session))
    emit(public, fmt, lambda o: _table([o]))


@app.command("update")
def update(
    offer_id: str = OfferArg,
    brand: str = typer.Option(None, help="A new brand."),
    eu: bool = typer.Option(None, "--eu/--no-eu", help="Offered in the EU, or not."),
    as_org: str = AsOrgOption,
    fmt: Format = FormatOption,
) -> None:
    """Change an offer's brand or EU availability (the change is audited)."""
    data = OfferUpdate.model_validate({k: v for k, v in {"brand": brand, "eu": eu}.items() if v is not None})
    with database() as db, db.unit_of_work() as session:
        offer = service.update_offer(session, offer_id, data, principal=acting(session, as_org))
        public = views.offer_public(offer, views.Names(session))
    emit(
        public,
        fmt,
        lambda o: say(err, f"updated offer {o.id}: brand {o.brand}, EU {'yes' if o.eu else 'no'}"),
    )
