"""``valuechain model``: the registry's models, versions and lineage."""

from __future__ import annotations

import typer
from rich.table import Table

from valuechain.accounts.principal import system_principal
from valuechain.cli.context import Format, FormatOption, database, emit, out
from valuechain.registry import service, views
from valuechain.registry.schemas import LineagePublic, ModelPublic

app = typer.Typer(help="Models in the registry.", no_args_is_help=True)


def _table(models: list[ModelPublic]) -> None:
    table = Table("id", "released by", "licence", "params", "compute (FLOP)", "versions", "visibility")
    for m in models:
        compute = f"{m.training_compute_flop:.3g}" if m.training_compute_flop is not None else "?"
        params = f"{m.parameters:.3g}" if m.parameters is not None else "?"
        table.add_row(m.id, m.released_by, m.licence, params, compute, ",".join(m.versions), m.visibility)
    out.print(table)


@app.command("list")
def list_(
    owner: str = typer.Option(None, help="Only this organisation's models."), fmt: Format = FormatOption
) -> None:
    """List models."""
    with database() as db, db.session() as session:
        names = views.Names(session)
        models = [
            views.model_public(session, m, names)
            for m in service.list_models(session, principal=system_principal(), owner=owner)
        ]
    emit(models, fmt, _table)


@app.command("show")
def show(model_id: str = typer.Argument(..., help="<org>/<name>"), fmt: Format = FormatOption) -> None:
    """Show a model and its facts."""
    with database() as db, db.session() as session:
        model = views.model_public(
            session, service.get_model(session, model_id, principal=system_principal())
        )
    emit(model, fmt, lambda m: out.print_json(m.model_dump_json()))


@app.command("lineage")
def lineage(model_id: str = typer.Argument(..., help="<org>/<name>"), fmt: Format = FormatOption) -> None:
    """Parents and children of a model."""
    with database() as db, db.session() as session:
        parents, children = service.lineage(session, model_id, principal=system_principal())
        names = views.Names(session)
        result = LineagePublic(
            model=model_id,
            parents=[views.derivation_public(d, names) for d in parents],
            children=[views.derivation_public(d, names) for d in children],
        )

    def human(r: LineagePublic) -> None:
        for d in r.parents:
            out.print(f"⬆ {d.parent or d.external_parent} → {d.child}  ({d.relation.value} by {d.by})")
        out.print(f"● {r.model}")
        for d in r.children:
            out.print(f"⬇ {d.parent} → {d.child}  ({d.relation.value} by {d.by})")

    emit(result, fmt, human)
