"""``valuechain model``: the registry's models, versions and lineage."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from valuechain.cli.context import AsOrgOption, Format, FormatOption, acting, database, emit, err, out
from valuechain.cli.render import say, table, when
from valuechain.core.errors import ValidationError
from valuechain.registry import service, views
from valuechain.registry.schemas import DerivationPublic, LineagePublic, ModelPublic

app = typer.Typer(help="Models in the registry.", no_args_is_help=True)
ModelArg = typer.Argument(..., help="<org>/<name>")


def _table(models: list[ModelPublic]) -> None:
    rows = [
        (
            m.id,
            m.released_by,
            m.licence,
            f"{m.parameters:.3g}" if m.parameters is not None else "?",
            f"{m.training_compute_flop:.3g}" if m.training_compute_flop is not None else "?",
            " ".join(m.versions),
            m.visibility,
        )
        for m in models
    ]
    columns = ("id", "released by", "licence", "params", "compute (FLOP)", "versions", "visibility")
    out.print(table(columns, rows, ids=("id",)))


def _details(model: ModelPublic, derived: list[DerivationPublic] = ()) -> None:  # type: ignore[assignment]
    data = model.model_dump(mode="json", exclude={"created_at", "updated_at"})
    width = max(len(k) for k in data)
    for key, value in data.items():
        shown = ", ".join(map(str, value)) if isinstance(value, list) else value
        say(out, f"{key:<{width}}  {'' if shown is None else shown}")
    say(out, f"{'updated':<{width}}  {when(model.updated_at)}")
    for d in derived:
        compute = f", {d.compute_flop:.3g} FLOP" if d.compute_flop is not None else ""
        behalf = f" on behalf of {d.on_behalf_of}" if d.on_behalf_of else ""
        parent = d.parent or d.external_parent
        say(out, f"{'derived from':<{width}}  {parent} ({d.relation}) by {d.by}{behalf}{compute}")
        if d.data_summary:
            say(out, f"{'':<{width}}  {d.data_summary}")


@app.command("list")
def list_(
    owner: str = typer.Option(None, help="Only this organisation's models."),
    as_org: str = AsOrgOption,
    fmt: Format = FormatOption,
) -> None:
    """List models."""
    with database() as db, db.session() as session:
        names = views.Names(session)
        principal = acting(session, as_org)
        models = [
            views.model_public(session, m, names)
            for m in service.list_models(session, principal=principal, owner=owner)
        ]
    emit(models, fmt, _table)


@app.command("show")
def show(model_id: str = ModelArg, as_org: str = AsOrgOption, fmt: Format = FormatOption) -> None:
    """Show a model, its facts and what it was derived from (relation, by whom, for whom, compute)."""
    with database() as db, db.session() as session:
        principal = acting(session, as_org)
        model = views.model_public(session, service.get_model(session, model_id, principal=principal))
        names = views.Names(session)
        parents, _ = service.lineage(session, model_id, principal=principal)
        derived = [views.derivation_public(d, names) for d in parents]
    data = model.model_dump(mode="json") | {"derived_from": [d.model_dump(mode="json") for d in derived]}
    emit(data, fmt, lambda _: _details(model, derived))


def _changes(settings: list[str], file: Path | None) -> dict[str, Any]:
    """``--file`` (JSON or YAML mapping) then ``--set field=value`` (value read as YAML)."""
    import yaml

    changes: dict[str, Any] = {}
    if file is not None:
        loaded = yaml.safe_load(file.read_text(encoding="utf-8"))
        if not isinstance(loaded, dict):
            raise ValidationError(f"{file}: expected a mapping of fact → value")
        changes.update(loaded)
    for item in settings:
        field, sep, raw = item.partition("=")
        if not sep or not field.strip():
            raise ValidationError(f"--set `{item}`: expected FIELD=VALUE, e.g. weights_public=true")
        try:
            changes[field.strip()] = yaml.safe_load(raw) if raw.strip() else None
        except yaml.YAMLError:
            raise ValidationError(f"--set `{item}`: the value is not valid YAML") from None
    if not changes:
        raise ValidationError("nothing to change: give --set FIELD=VALUE or --file FILE")
    return changes


@app.command("update")
def update(
    model_id: str = ModelArg,
    settings: list[str] = typer.Option(
        None,
        "--set",
        "-s",
        help="A fact to change, FIELD=VALUE with a YAML value, e.g. weights_public=true, "
        "output_modalities=[text], eu_market=2025-09-01, parameters=null (repeatable).",
    ),
    file: Path = typer.Option(None, "--file", help="A JSON or YAML mapping of facts to change."),
    as_org: str = AsOrgOption,
    fmt: Format = FormatOption,
) -> None:
    """Change facts of a model (the fields of PATCH /api/v1/models/{org}/{name}); the change is audited."""
    changes = _changes(settings or [], file)
    with database() as db, db.unit_of_work() as session:
        model = service.update_model(session, model_id, changes, principal=acting(session, as_org))
        public = views.model_public(session, model)
    emit(public, fmt, lambda m: say(err, f"updated {m.id}: {', '.join(sorted(changes))}"))


@app.command("lineage")
def lineage(model_id: str = ModelArg, as_org: str = AsOrgOption, fmt: Format = FormatOption) -> None:
    """Parents and children of a model."""
    with database() as db, db.session() as session:
        parents, children = service.lineage(session, model_id, principal=acting(session, as_org))
        names = views.Names(session)
        result = LineagePublic(
            model=model_id,
            parents=[views.derivation_public(d, names) for d in parents],
            children=[views.derivation_public(d, names) for d in children],
        )

    def human(r: LineagePublic) -> None:
        for d in r.parents:
            say(out, f"⬆ {d.parent or d.external_parent} → {d.child}  ({d.relation.value} by {d.by})")
        say(out, f"● {r.model}")
        for d in r.children:
            say(out, f"⬇ {d.parent} → {d.child}  ({d.relation.value} by {d.by})")

    emit(result, fmt, human)
